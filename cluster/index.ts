// cluster/: the parts a node is made of below the gateway: configuration, the ingest log,
// shard hosts and checkpoints, snapshots, stores, health; membership, shard placement and
// leases. The composition root (node/) wires them with the gateway; nothing here imports api/.
export { defaultConfig, DEFAULT_PORT, DEFAULT_BODY_LIMIT_BYTES, DEFAULT_MAX_KNOWN_SERIES } from './config.ts';
export type { VigilConfig, TenantConfig, MetricSensitivity } from './config.ts';
export { tierDetectors, usesRobust, startRobustModel } from './detectors.ts';
export { IngestBacklog, DEFAULT_MAX_BACKLOG_SAMPLES } from './backlog.ts';
export { SeriesLimits, DEFAULT_MAX_SERIES_PER_TENANT, DEFAULT_MAX_SERVICES_PER_TENANT } from './series-limits.ts';
export type { TenantLimits } from './series-limits.ts';
export { shardOf, DEFAULT_SHARD_COUNT } from './shard.ts';
export { LiveHub } from './live.ts';
export type { LiveListener } from './live.ts';
export { createNodeMetrics } from './node-metrics.ts';
export type { NodeMetrics } from './node-metrics.ts';
export { openNodeStores } from './node-stores.ts';
export type { NodeStores } from './node-stores.ts';
export { OpenIncidentsCache } from './open-incidents.ts';
export { ShardHosts } from './shard-host.ts';
export type { AdmittedBatch, ShardHostParts } from './shard-host.ts';
export { Checkpoints, DEFAULT_CHECKPOINT_INTERVAL_MS, restoredState } from './checkpoint.ts';
export { NodeHealth } from './health.ts';
export type { IngestLog, LogRecord } from './ingest-log/index.ts';
export { placeShards, planMoves, ownerOf, countByNode, DEFAULT_MOVE_FRACTION } from './placement.ts';
export type { PlacedNode, Move } from './placement.ts';
export { liveNodes, placeable, parseHeartbeat, DEFAULT_DEAD_AFTER_MS, DEFAULT_HEARTBEAT_MS } from './membership.ts';
export type { Heartbeat } from './membership.ts';
export { isValid, validUntil, fencingAccepts, parseLeaseValue, DEFAULT_LEASE_TTL_MS, DEFAULT_LEASE_MARGIN_MS } from './lease.ts';
export type { Lease, LeaseValue } from './lease.ts';
export { ClusterLink } from './nats-link.ts';
export type { LinkOptions, OwnerEntry } from './nats-link.ts';
export { ShardCoordinator } from './coordinator.ts';
export type { CoordinatorParts } from './coordinator.ts';
export { shardsBehavior } from './shard-supervisor.ts';
export type { ShardsMsg, ShardsDeps } from './shard-supervisor.ts';
export { JetStreamIngestLog } from './ingest-log/index.ts';
export { KvSnapshotStore } from './snapshots/index.ts';
export { defaultClusterConfig, DEFAULT_CLUSTER_SHARDS } from './config.ts';
export type { ClusterConfig } from './config.ts';
