// A node's running view of the cluster: heartbeats and shard leases as the KV buckets' watches
// push them (one watch per bucket, kept open; reopened if it ends). The coordinator reads this
// view every round instead of listing the buckets: a listing costs a request per key, and a
// listing of a bucket whose entries lapse by TTL can wait for entries that are already gone.
//
// The server removes a lapsed entry without telling watchers, so the view judges lapse itself:
// a heartbeat by its own time (membership.ts), a lease by when the server stored its last write
// (`created`). The view only advises (whom to place, which shard looks free): taking a lease is
// still a create by revision that fails while the entry exists.
import type { KV, KvEntry } from '@nats-io/kv';
import { parseHeartbeat, type Heartbeat } from './membership.ts';
import { parseLeaseValue } from './lease.ts';
import type { OwnerEntry } from './nats-link.ts';
import { followKv, type KvFollow } from './kv-follow.ts';

const dec = new TextDecoder();
const REOPEN_MS = 500;

export class ClusterView {
  private readonly beats = new Map<string, Heartbeat>();
  private readonly leases = new Map<number, OwnerEntry & { writtenAt: number }>();
  private readonly follows: KvFollow[] = [];

  constructor(private readonly nodesKv: KV, private readonly leasesKv: KV, private readonly leaseTtlMs: number, private readonly onError: (err: unknown) => void) {}

  /** Starts both watches; resolves once each has delivered what the bucket held (or after `waitMs`). */
  async start(waitMs = 2_000): Promise<void> {
    // live nodes write both buckets every heartbeat: a watch that hears nothing for a lease's TTL
    // asks whether the bucket was written meanwhile, and is opened again if it was (kv-follow.ts)
    const options = { reopenMs: REOPEN_MS, waitMs, silentMs: this.leaseTtlMs, onError: this.onError };
    this.follows.push(
      followKv(this.nodesKv, (e) => this.onBeat(e), { ...options, label: 'the heartbeats bucket' }),
      followKv(this.leasesKv, (e) => this.onLease(e), { ...options, label: 'the leases bucket' }),
    );
    await Promise.all(this.follows.map((f) => f.ready));
  }

  /** Heartbeats seen (liveNodes() decides who is alive). */
  heartbeats(): Heartbeat[] {
    return [...this.beats.values()];
  }

  /** Owners whose lease was written within the TTL before `now`. */
  owners(now: number): Map<number, OwnerEntry> {
    const out = new Map<number, OwnerEntry>();
    for (const [shard, e] of this.leases) {
      if (now - e.writtenAt < this.leaseTtlMs) out.set(shard, { node: e.node, token: e.token, shard, revision: e.revision });
    }
    return out;
  }

  /** The node whose lease of `shard` was written within the TTL before `now`, if any. */
  owner(shard: number, now: number): string | undefined {
    const e = this.leases.get(shard);
    return e && now - e.writtenAt < this.leaseTtlMs ? e.node : undefined;
  }

  stop(): void {
    for (const f of this.follows) f.stop();
  }

  private onBeat(e: KvEntry): void {
    const b = e.operation === 'PUT' && e.value.length > 0 ? parseHeartbeat(dec.decode(e.value)) : undefined;
    if (b) this.beats.set(e.key, b);
    else this.beats.delete(e.key);
  }

  private onLease(e: KvEntry): void {
    const shard = Number(e.key.slice('shard.'.length));
    if (!Number.isInteger(shard)) return;
    const v = e.operation === 'PUT' && e.value.length > 0 ? parseLeaseValue(dec.decode(e.value)) : undefined;
    if (v) this.leases.set(shard, { ...v, shard, revision: e.revision, writtenAt: e.created.getTime() });
    else this.leases.delete(shard);
  }
}
