// A tenant's use of one node (its quota tallies, the series and services it holds there) and
// the sum over the nodes of a cluster, for GET /v1/usage. Pure: the cluster layer gathers the
// nodes' figures (node/cluster-mode.ts, over NATS) and hands them here.
import type { QuotaGate, RejectReason, TenantUsage } from './quotas.ts';

export interface NodeUsage extends TenantUsage {
  /** the node's id */
  node: string;
  /** series and services the tenant holds on that node (each node counts against the tenant's max alone) */
  series: number;
  services: number;
}

export interface UsageSources {
  quotas?: Pick<QuotaGate, 'usage'>;
  held?: (tenant: string) => { series: number; services: number };
}

/** `tenant`'s use of this node. */
export function nodeUsage(sources: UsageSources, node: string, tenant: string): NodeUsage {
  const u = sources.quotas?.usage(tenant) ?? { rate: 0, accepted: 0, rejections: { rate: 0, maxSeries: 0, maxServices: 0 }, rejectedSamples: 0 };
  const held = sources.held?.(tenant) ?? { series: 0, services: 0 };
  return { node, ...u, series: held.series, services: held.services };
}

/** Rates, counts and rejections summed over `nodes`. */
export function summedUsage(nodes: readonly NodeUsage[]): TenantUsage {
  const rejections: Record<RejectReason, number> = { rate: 0, maxSeries: 0, maxServices: 0 };
  let rate = 0;
  let accepted = 0;
  let rejectedSamples = 0;
  for (const n of nodes) {
    rate += n.rate;
    accepted += n.accepted;
    rejectedSamples += n.rejectedSamples;
    for (const k of Object.keys(rejections) as RejectReason[]) rejections[k] += n.rejections[k] ?? 0;
  }
  return { rate, accepted, rejections, rejectedSamples };
}
