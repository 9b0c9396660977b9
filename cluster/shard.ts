// Shards: a tenant's metrics travel on `metrics.<shard>`; the shard table (cluster issue)
// places shards on nodes. A stable hash keeps a tenant on one shard.
export const DEFAULT_SHARD_COUNT = 64;

/** FNV-1a over the tenant id: stable across processes and versions. */
export function shardOf(tenant: string, shards = DEFAULT_SHARD_COUNT): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tenant.length; i++) {
    h ^= tenant.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export function metricsSubject(shard: number): string {
  return `metrics.${shard}`;
}
