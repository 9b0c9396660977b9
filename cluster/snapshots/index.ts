// cluster/snapshots: per-shard detector state at an ingest-log position, so a restart or a
// failover restores it and replays the log from there (DESIGN.md §2.1 step 5).
export { SnapshotStore, DEFAULT_KEEP_SNAPSHOTS, DEFAULT_SYNC_CHUNK_BYTES } from './store.ts';
export type { SnapshotStoreOptions, SavedSnapshot, LoadedSnapshot } from './store.ts';
export { encodeSnapshot, encodeSnapshotInTurns, encodeEntriesInTurns, encodeSnapshotEntries, encodeTenantEntries, snapshotFencingToken, decodeSnapshot, SnapshotFormatError, ENTRIES_PER_TURN, FRAME_BYTES_PER_TURN } from './codec.ts';
export { encodeValue, decodeValue } from './value-codec.ts';
export type { Value } from './value-codec.ts';
export { SNAPSHOT_VERSION } from './types.ts';
export type { ShardSnapshot, SnapshotEntry, SnapshotToSave } from './types.ts';
export { KvSnapshotStore, DEFAULT_SNAPSHOT_CHUNK_BYTES } from './kv-store.ts';
