// The cache's figures for the node's /metrics, read from the cache on each scrape (collect),
// so the read path only bumps plain counters.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { TwoLevelCache } from './cache.ts';
import type { KindCounters } from './cache.ts';
import type { CacheKind } from './policies.ts';

type Level = 'l1' | 'l2';
const FIELDS: ReadonlyArray<[Level, 'hit' | 'miss', keyof KindCounters]> = [
  ['l1', 'hit', 'l1Hits'], ['l1', 'miss', 'l1Misses'], ['l2', 'hit', 'l2Hits'], ['l2', 'miss', 'l2Misses'],
];

export function registerCacheMetrics(registry: Registry, cache: TwoLevelCache): void {
  const seen = new Map<string, number>();
  /** prom-client counters only go up: add what changed since the last scrape. */
  const delta = (id: string, now: number): number => {
    const d = now - (seen.get(id) ?? 0);
    seen.set(id, now);
    return Math.max(0, d);
  };
  new Counter({
    name: 'vigil_cache_requests_total', help: 'Cache lookups by level, kind and result', labelNames: ['level', 'kind', 'result'], registers: [registry],
    collect() {
      const { byKind } = cache.stats();
      for (const [kind, counts] of Object.entries(byKind) as Array<[CacheKind, KindCounters]>) {
        for (const [level, result, field] of FIELDS) this.inc({ level, kind, result }, delta(`${level}/${kind}/${result}`, counts[field]));
      }
    },
  });
  new Counter({
    name: 'vigil_cache_origin_loads_total', help: 'Cache misses that went to the origin', labelNames: ['kind'], registers: [registry],
    collect() {
      for (const [kind, counts] of Object.entries(cache.stats().byKind) as Array<[CacheKind, KindCounters]>) {
        this.inc({ kind }, delta(`load/${kind}`, counts.loads));
      }
    },
  });
  new Counter({
    name: 'vigil_cache_l2_errors_total', help: 'Redis commands that failed or timed out', registers: [registry],
    collect() { this.inc(delta('l2errors', cache.stats().l2Errors)); },
  });
  new Counter({
    name: 'vigil_cache_l2_skipped_total', help: 'Cache operations that left Redis out because it was down', registers: [registry],
    collect() { this.inc(delta('l2skipped', cache.stats().l2Skipped)); },
  });
  new Gauge({
    name: 'vigil_cache_l2_up', help: '1 when Redis (cache L2) is in use, 0 when down or not configured', registers: [registry],
    collect() { this.set(cache.stats().l2Up ? 1 : 0); },
  });
  new Gauge({
    name: 'vigil_cache_l1_entries', help: 'Entries in the in-process cache', registers: [registry],
    collect() { this.set(cache.stats().l1Entries); },
  });
  new Gauge({
    name: 'vigil_cache_pending_invalidations', help: 'Invalidations waiting for Redis to come back', registers: [registry],
    collect() { this.set(cache.stats().pendingInvalidations); },
  });
}
