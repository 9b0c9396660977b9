// What a shard snapshot holds: the detector state of every series the shard's actors own,
// at the log position it covers (DESIGN.md §2.1 step 5). Named fields, versioned.
import type { SeriesSnapshot } from '../../actors/service/index.ts';
import type { Incident } from '../../protocols/index.ts';

/** The format version this code writes and reads. */
export const SNAPSHOT_VERSION = 1;

export interface SnapshotEntry extends SeriesSnapshot {
  tenant: string;
  /** seriesName(metric, labels): the series within its service (protocols/series-name.ts) */
  seriesKey: string;
}

export interface ShardSnapshot {
  version: number;
  shard: number;
  /** every batch of the shard up to this ingest-log position is in this state */
  logPosition: number;
  /** Unix ms, from the node's Clock */
  takenAt: number;
  /** the node that took it ('' when not told) */
  node: string;
  /** the shard lease's revision when it was taken (0: none), for the cluster's fencing */
  fencingToken: number;
  entries: SnapshotEntry[];
  /** the unresolved incidents of the shard's tenants (cluster mode: the next owner goes on with them); absent: none */
  openIncidents?: Incident[];
}

/**
 * A snapshot to save whose entries were encoded already (each ServiceActor packs its series
 * with checkpoint.ts packTenantState when asked), so the series' state never lives as objects
 * through the writers' flush, where every scavenge copied it.
 */
export type SnapshotToSave = ShardSnapshot | (Omit<ShardSnapshot, 'entries'> & { encodedEntries: readonly Uint8Array[] });
