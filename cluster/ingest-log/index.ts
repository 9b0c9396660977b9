// cluster/ingest-log: the durable log every accepted batch goes into before the gateway answers
// 202 (DESIGN.md §2.1). One interface, two implementations: the embedded log on local disk and
// JetStream for a cluster.
export type { Appended, IngestLog, LogRecord, ReadOptions } from './types.ts';
export { IngestLogError } from './errors.ts';
export type { IngestLogReason } from './errors.ts';
export { DiskIngestLog, DEFAULT_SEGMENT_BYTES, DEFAULT_MAX_GROUP_BYTES, DEFAULT_MAX_RECORD_BYTES } from './disk-log.ts';
export { DEFAULT_READER_BUFFER_BYTES } from './shard-readers.ts';
export type { DiskLogOptions, DiskLogStats } from './disk-log.ts';
export { DEFAULT_DEDUP_WINDOW } from './dedup.ts';
export {
  JetStreamIngestLog, DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, DEFAULT_SHARDS, DEFAULT_REPLICAS, DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_PUBLISH_TIMEOUT_MS,
} from './jetstream-log.ts';
export type { JetStreamLogOptions } from './jetstream-log.ts';
