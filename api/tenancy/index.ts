// api/tenancy/: tenant configuration at run time (config/tenants.yaml, the admin API, hot
// reload, the audit log) and ingestion quotas (token buckets in Redis, a strict local
// fallback). It lives in api/ because it is the gateway's "authenticate, quota" step
// (DESIGN.md §2); the composition root (node/) hands the node's side (series limits,
// detection settings, retention) the registry's answers. See README.md.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../actors/runtime/index.ts';
import type { VigilConfig } from '../../cluster/index.ts';
import type { AuditRecord } from '../../storage/audit/index.ts';
import { QuotaGate } from './quotas.ts';
import { bucketOf } from './spec.ts';
import { Tenancy } from './tenancy.ts';
import type { SharedTenants } from './shared.ts';
import type { TenancyRouteDeps } from './routes.ts';

export { Tenancy, DEFAULT_ROTATION_OVERLAP_MS } from './tenancy.ts';
export { fileEdit, replayEdit } from './file-edit.ts';
export type { TenantsFileEdit } from './file-edit.ts';
export type { TenancyOptions, ReloadError, RotatedKey } from './tenancy.ts';
export type { SharedTenants, SharedTenantsEntry } from './shared.ts';
export { TenantRegistry, fromNodeConfig } from './registry.ts';
export type { TenantView, TenantsChange } from './registry.ts';
export { parseTenantsYaml, checkTenantsDocument, checkTenantBody, TenancyInvalid, TENANT_FIELDS } from './schema.ts';
export { SIZE_TIERS, DEFAULT_RATE, bucketOf, defaultDetectionTier, toDocument, pinnedOn, largeWithoutNodes } from './spec.ts';
export type { SizeTier, TenantBudgetSettings, TenantKey, TenantSpec, TenantSource } from './spec.ts';
export { QuotaGate, QuotaError, DEFAULT_QUOTA_PREFIX, USAGE_WINDOW_MS, type BlockNote, type BucketNews } from './quotas.ts';
export { certainRefusal, hostMs, type TokenBound } from './token-bound.ts';
export { rateRefusal, batchTooLarge, EMPTY_BUCKET } from './rate-refusal.ts';
export type { QuotaOptions, TenantUsage, RejectReason } from './quotas.ts';
export { take, LocalBuckets } from './bucket.ts';
export { PrepaidTokens, blockSize, DEFAULT_QUOTA_BLOCK_MS } from './prepaid.ts';
export type { BucketParams, BucketState, TakeResult } from './bucket.ts';
export { RedisBuckets } from './redis-bucket.ts';
export { tenancyRoutes } from './routes.ts';
export { nodeUsage, summedUsage } from './usage.ts';
export type { NodeUsage, UsageSources } from './usage.ts';
export type { TenancyRouteDeps } from './routes.ts';

/** What the gateway takes: the registry behind its keys, the quotas, the node's counts. */
export type GatewayTenancy = TenancyRouteDeps;

export interface OpenTenancyDeps {
  clock: Clock;
  log: Logger;
  audit?: { append(record: AuditRecord): Promise<unknown> };
  /** VIGIL_REDIS_URL: the shared buckets; absent, local buckets only */
  redisUrl?: string;
  /** the node's registries, for /metrics */
  metrics?: { node: Registry; tenant: Registry };
  /** how many nodes share the quotas, when the cluster layer knows */
  knownNodes?: () => number;
  /** the tenants text a cluster's nodes share (cluster mode) */
  shared?: SharedTenants;
}

/** The tenancy of a node from its config: the tenants file (opened and watched) and the quota gate. */
export async function openTenancy(config: Pick<VigilConfig, 'tenants' | 'auth' | 'tenancy' | 'node'>, deps: OpenTenancyDeps): Promise<{ tenancy: Tenancy; quotas: QuotaGate }> {
  const tenancy = await Tenancy.open({
    nodeConfig: config, clock: deps.clock, log: deps.log, debounceMs: config.tenancy.reloadDebounceMs,
    ...(config.tenancy.file === undefined ? {} : { file: config.tenancy.file }),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.shared ? { shared: deps.shared } : {}),
  });
  const registry = tenancy.registry;
  const quotas = new QuotaGate({
    nodeId: config.node.id, clock: deps.clock, log: deps.log, prefix: config.tenancy.quotaPrefix,
    bucketOf: (tenant) => {
      const spec = registry.get(tenant);
      return spec ? bucketOf(spec) : undefined;
    },
    ...(deps.redisUrl ? { redisUrl: deps.redisUrl } : {}),
    ...(config.tenancy.fallbackShare === undefined ? {} : { fallbackShare: config.tenancy.fallbackShare }),
    ...(deps.knownNodes ? { knownNodes: deps.knownNodes } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  registry.onChange(() => quotas.unblock());
  return { tenancy, quotas };
}
