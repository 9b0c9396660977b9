// What a tenant is allowed, as the gateway and the node read it: one TenantSpec per tenant,
// from config/tenants.yaml, the admin API, or the node config's `tenants:` list.
import type { MetricSensitivity } from '../../cluster/index.ts';
import type { Tier } from '../../protocols/index.ts';

/** DESIGN.md §1: small < 10K metrics/s (shared), medium 10K-100K/s (own actor pools), large > 100K/s (own nodes). */
export const SIZE_TIERS = ['small', 'medium', 'large'] as const;
export type SizeTier = (typeof SIZE_TIERS)[number];

/** A tenant's rate when tenants.yaml gives none: the top of its tier's band (large: 1M/s, a default, not a ceiling). */
export const DEFAULT_RATE: Readonly<Record<SizeTier, number>> = Object.freeze({ small: 10_000, medium: 100_000, large: 1_000_000 });

export interface TenantKey {
  /** a name for the key, shown in the audit log and GET /v1/admin/tenants (never the key) */
  id: string;
  /** sha256 hex of the key */
  sha256: string;
  /** ms since the epoch after which the key is refused; absent: no end */
  expiresAt?: number;
}

export interface TenantSpec {
  id: string;
  tier: SizeTier;
  /** samples per second over all nodes; absent: not rate limited (a node-config tenant) */
  rate?: number;
  /** the bucket's size in samples (default: one second of `rate`) */
  burst?: number;
  /** most active series / services (default: the node's limits section) */
  maxSeries?: number;
  maxServices?: number;
  /** the detection tiers this tenant may use */
  detectionTiers: Tier[];
  /** the tier of its metrics unless metricTiers names another (default: detection.tier if allowed, else the first allowed) */
  detectionTier?: Tier;
  metricTiers?: Record<string, Tier>;
  metricSensitivity?: Record<string, MetricSensitivity>;
  /** per-metric static limits for rule-based detection at L2-L4 (node config tenants[].metricLimits) */
  metricLimits?: Record<string, { above?: number; below?: number }>;
  /** days raw samples are kept (default: the store's 7) */
  rawRetentionDays?: number;
  keys: TenantKey[];
  /** URL prefixes this tenant's webhooks may call (scheme, host and port must match exactly) */
  webhooks: string[];
  /** runbook runs not ended it may have on a node (default: the automation's, 100) */
  maxUnfinishedRuns?: number;
  /** tier large: the ids of the nodes that host this tenant exclusively (cluster placement pins it there) */
  nodes?: string[];
  /** tier medium: its own mailbox and processing budget, field by field over the node's default */
  budget?: TenantBudgetSettings;
}

/**
 * A medium tenant's budget as the tenants file sets it (actors/tenant/budget.ts has the
 * meaning and the defaults); a field left out keeps the node's default.
 */
export interface TenantBudgetSettings {
  /** its batches inside the actor tree at once */
  inFlight?: number;
  /** the length of a processing tick, ms */
  tickMs?: number;
  /** the fraction of each tick its detectors may take (0 < share <= 1) */
  share?: number;
  /** its samples accepted and not yet taken in, past which its ingest gets 503 */
  backlogSamples?: number;
}

/** Where a tenant's entry comes from: the tenants file (or the admin API that writes it) or the node config. */
export type TenantSource = 'tenants-file' | 'node-config';

/** The bucket a tenant's ingestion draws from; undefined when it has no rate limit. */
export function bucketOf(spec: TenantSpec): { rate: number; burst: number } | undefined {
  if (spec.rate === undefined) return undefined;
  return { rate: spec.rate, burst: spec.burst ?? spec.rate };
}

/**
 * The tenants `node` hosts exclusively in cluster placement: the large tenants that name it
 * in `nodes`, beside the node's own `cluster.pinnedTenants`. A large tenant without `nodes`
 * goes on a node kept for large tenants (`largeWithoutNodes`).
 */
export function pinnedOn(node: string, specs: Iterable<TenantSpec>, configured: readonly string[] = []): string[] {
  const out = new Set(configured);
  for (const s of specs) if (s.tier === 'large' && s.nodes?.includes(node)) out.add(s.id);
  return [...out].sort();
}

/** The large tenants that name no nodes: placement gives each a node kept for them (cluster.dedicated), else places them as any other. */
export function largeWithoutNodes(specs: Iterable<TenantSpec>): string[] {
  const out: string[] = [];
  for (const s of specs) if (s.tier === 'large' && (s.nodes ?? []).length === 0) out.push(s.id);
  return out.sort();
}

/** The tier a tenant's metrics run on when no metric override applies. */
export function defaultDetectionTier(spec: TenantSpec, nodeDefault: Tier): Tier {
  if (spec.detectionTier !== undefined) return spec.detectionTier;
  return spec.detectionTiers.includes(nodeDefault) ? nodeDefault : spec.detectionTiers[0] ?? nodeDefault;
}

/** A spec as the tenants file and the admin API write it (times as ISO text); the schema reads it back unchanged. */
export function toDocument(spec: TenantSpec): Record<string, unknown> {
  return {
    ...spec,
    rate: spec.rate ?? 'unlimited',
    keys: spec.keys.map((k) => ({ id: k.id, sha256: k.sha256, ...(k.expiresAt === undefined ? {} : { expiresAt: new Date(k.expiresAt).toISOString() }) })),
  };
}

/** Whether two specs say the same (key order aside). */
export function sameSpec(a: TenantSpec, b: TenantSpec): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : 1));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
