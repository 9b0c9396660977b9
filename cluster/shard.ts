// Shards: a tenant's batches go to its shard of the ingest log (the JetStream log names the
// subject `metrics.<shard>`); the shard table (cluster issue) will place shards on nodes. A
// stable hash keeps a tenant on one shard.
import { fnv1a } from '../protocols/index.ts';

export const DEFAULT_SHARD_COUNT = 64;

/** FNV-1a over the tenant id: stable across processes and versions. */
export function shardOf(tenant: string, shards = DEFAULT_SHARD_COUNT): number {
  return fnv1a(tenant) % shards;
}
