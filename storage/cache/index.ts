// storage/cache/: the two-level cache (L1 in process, L2 Redis) with the design's keys and TTLs.
export * from './policies.ts';
export { TwoLevelCache, DEFAULT_L1_MAX_ENTRIES } from './cache.ts';
export type { CacheOptions, CacheStats, KindCounters } from './cache.ts';
export {
  DEFAULT_L2_COMMAND_TIMEOUT_MS, DEFAULT_L2_CONNECT_TIMEOUT_MS, DEFAULT_L2_FAILURE_THRESHOLD, DEFAULT_L2_RECONNECT_MAX_MS,
  DEFAULT_L2_RECONNECT_STEP_MS, DEFAULT_L2_RETRY_AFTER_MS, DEFAULT_MAX_PENDING_INVALIDATIONS,
} from './l2.ts';
export { registerCacheMetrics } from './metrics.ts';
