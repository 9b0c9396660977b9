// What is cached, for how long at each level, under which key (DESIGN.md §1, caching table).
// A key's parts are escaped (':' and '%') so "a:b" + "c" and "a" + "b:c" never share a key;
// ordinary names read exactly as the design writes them: topo:acme:checkout.

/** How long an entry lives in each level; an L1 TTL of 0 keeps it out of the process (L2 only). */
export interface CachePolicy {
  readonly kind: CacheKind;
  readonly l1TtlMs: number;
  readonly l2TtlMs: number;
}

export type CacheKind = 'topology' | 'metric_meta' | 'features' | 'incident' | 'session';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const TOPOLOGY_CACHE: CachePolicy = Object.freeze({ kind: 'topology', l1TtlMs: 5 * MINUTE, l2TtlMs: 30 * MINUTE });
export const METRIC_META_CACHE: CachePolicy = Object.freeze({ kind: 'metric_meta', l1TtlMs: 5 * MINUTE, l2TtlMs: 60 * MINUTE });
export const FEATURES_CACHE: CachePolicy = Object.freeze({ kind: 'features', l1TtlMs: 1 * MINUTE, l2TtlMs: 5 * MINUTE });
export const INCIDENT_CACHE: CachePolicy = Object.freeze({ kind: 'incident', l1TtlMs: 30 * SECOND, l2TtlMs: 5 * MINUTE });
export const SESSION_CACHE: CachePolicy = Object.freeze({ kind: 'session', l1TtlMs: 0, l2TtlMs: 24 * HOUR });

export const CACHE_POLICIES: Readonly<Record<CacheKind, CachePolicy>> = Object.freeze({
  topology: TOPOLOGY_CACHE,
  metric_meta: METRIC_META_CACHE,
  features: FEATURES_CACHE,
  incident: INCIDENT_CACHE,
  session: SESSION_CACHE,
});

/**
 * One cache entry: its policy, its key (without the deployment prefix) and, when entries
 * are dropped together (a tenant's topology changed), the group it belongs to.
 */
export interface CacheRef {
  readonly policy: CachePolicy;
  readonly key: string;
  readonly group?: string;
}

function part(s: string | number): string {
  return String(s).replace(/%/g, '%25').replace(/:/g, '%3A');
}

export const cacheGroups = {
  /** every topology entry of a tenant: dropped when its topology changes */
  topology: (tenant: string): string => `topo:${part(tenant)}`,
  metricMeta: (tenant: string): string => `metric:${part(tenant)}`,
  features: (tenant: string, metric: string): string => `feat:${part(tenant)}:${part(metric)}`,
  incidents: (tenant: string): string => `inc:${part(tenant)}`,
};

export const cacheKeys = {
  /** topo:{tenant}:{service} */
  topology: (tenant: string, service: string): CacheRef =>
    ({ policy: TOPOLOGY_CACHE, key: `topo:${part(tenant)}:${part(service)}`, group: cacheGroups.topology(tenant) }),
  /** metric:{tenant}:{name} */
  metricMeta: (tenant: string, name: string): CacheRef =>
    ({ policy: METRIC_META_CACHE, key: `metric:${part(tenant)}:${part(name)}`, group: cacheGroups.metricMeta(tenant) }),
  /** feat:{tenant}:{metric}:{ts} */
  features: (tenant: string, metric: string, ts: number): CacheRef =>
    ({ policy: FEATURES_CACHE, key: `feat:${part(tenant)}:${part(metric)}:${part(ts)}`, group: cacheGroups.features(tenant, metric) }),
  /** inc:{tenant}:{id} */
  incident: (tenant: string, id: string): CacheRef =>
    ({ policy: INCIDENT_CACHE, key: `inc:${part(tenant)}:${part(id)}`, group: cacheGroups.incidents(tenant) }),
  /** session:{user_id} (L2 only) */
  session: (userId: string): CacheRef => ({ policy: SESSION_CACHE, key: `session:${part(userId)}` }),
};
