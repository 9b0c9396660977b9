// cluster/: the node (composition of gateway, actors and stores), the ingest log, shard
// hosts and checkpoints; later membership, shard placement and leases.
export { defaultConfig, DEFAULT_PORT, DEFAULT_BODY_LIMIT_BYTES } from './config.ts';
export type { VigilConfig, TenantConfig, MetricSensitivity } from './config.ts';
export { startNode, CORRELATION_TICK_MS } from './node.ts';
export { tierDetectors, usesRobust } from './detectors.ts';
export type { NodeHandle, NodeOptions } from './node.ts';
export { IngestBacklog, DEFAULT_MAX_BACKLOG_SAMPLES } from './backlog.ts';
export { SeriesLimits, DEFAULT_MAX_SERIES_PER_TENANT, DEFAULT_MAX_SERVICES_PER_TENANT } from './series-limits.ts';
export type { TenantLimits } from './series-limits.ts';
export { shardOf, DEFAULT_SHARD_COUNT } from './shard.ts';
