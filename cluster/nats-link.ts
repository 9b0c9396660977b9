// The cluster's state on NATS: heartbeats (KV `<name>_nodes`, entries lapse after deadAfterMs),
// shard leases (KV `<name>_leases`, one key per shard, lapsing after the lease TTL) and the
// operator's commands (request/reply on `<name>.ctl.…`). The pure rules are in membership.ts
// and lease.ts; this file only reads and writes.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { parseHeartbeat, type Heartbeat } from './membership.ts';
import { parseLeaseValue, type Lease, type LeaseValue } from './lease.ts';

export interface LinkOptions {
  servers: string;
  /** names the buckets and subjects (cluster.name) */
  name: string;
  deadAfterMs: number;
  leaseTtlMs: number;
  replicas: number;
}

/** An owner as the lease bucket shows it (another node's leases included). */
export interface OwnerEntry extends LeaseValue {
  shard: number;
  revision: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const leaseKey = (shard: number): string => `shard.${shard}`;

export class ClusterLink {
  /** for the listings, made at the first one (a node that never lists never asks for it) */
  private jsm: Promise<JetStreamManager> | undefined;

  private constructor(
    readonly nc: NatsConnection,
    private readonly owns: boolean,
    readonly nodesKv: KV,
    readonly leasesKv: KV,
    readonly options: LinkOptions,
  ) {}

  static async open(options: LinkOptions, connection?: NatsConnection): Promise<ClusterLink> {
    const nc = connection ?? await connect({ servers: options.servers.split(',').map((s) => s.trim()), name: `vigil-${options.name}`, maxReconnectAttempts: -1 });
    try {
      const kvm = new Kvm(nc);
      const nodesKv = await kvm.create(`${options.name}_nodes`, { history: 1, ttl: options.deadAfterMs, replicas: options.replicas });
      const leasesKv = await kvm.create(`${options.name}_leases`, { history: 1, ttl: options.leaseTtlMs, replicas: options.replicas });
      return new ClusterLink(nc, connection === undefined, nodesKv, leasesKv, options);
    } catch (err) {
      if (connection === undefined) await nc.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Binds to the buckets of a running cluster without creating or changing them (an
   * operator's client); throws when they do not exist.
   */
  static async bind(nc: NatsConnection, name: string): Promise<ClusterLink> {
    const kvm = new Kvm(nc);
    const nodesKv = await kvm.open(`${name}_nodes`);
    const leasesKv = await kvm.open(`${name}_leases`);
    const [nodes, leases] = await Promise.all([nodesKv.status(), leasesKv.status()]); // a missing bucket throws here
    return new ClusterLink(nc, false, nodesKv, leasesKv, { servers: '', name, deadAfterMs: nodes.ttl, leaseTtlMs: leases.ttl, replicas: nodes.replicas });
  }

  subject(...parts: string[]): string {
    return [this.options.name, 'ctl', ...parts].join('.');
  }

  async heartbeat(beat: Heartbeat, timeoutMs?: number): Promise<void> {
    await this.nodesKv.put(beat.id, enc.encode(JSON.stringify(beat)), timeoutMs ? { timeout: timeoutMs } : {});
  }

  async forget(node: string): Promise<void> {
    await this.nodesKv.delete(node).catch(() => undefined);
  }

  /** Every heartbeat the bucket still holds (liveNodes decides who is alive). */
  async heartbeats(): Promise<Heartbeat[]> {
    const out: Heartbeat[] = [];
    for (const e of await this.entries(this.nodesKv)) {
      const b = parseHeartbeat(dec.decode(e.value));
      if (b) out.push(b);
    }
    return out;
  }

  /** The current owner of every shard that has a lease. */
  async owners(): Promise<Map<number, OwnerEntry>> {
    const out = new Map<number, OwnerEntry>();
    for (const e of await this.entries(this.leasesKv)) {
      const shard = Number(e.key.slice('shard.'.length));
      const v = parseLeaseValue(dec.decode(e.value));
      if (v && Number.isInteger(shard)) out.set(shard, { ...v, shard, revision: e.revision });
    }
    return out;
  }

  /**
   * Takes the lease of `shard` if nobody holds it (create by revision: fails while another
   * node's entry has not lapsed). The create's revision is the fencing token; the entry is
   * then rewritten to carry it. `sentAt`: the caller's clock before the request left.
   */
  async acquire(shard: number, node: string, sentAt: number): Promise<Lease | undefined> {
    let token: number;
    try {
      token = await this.leasesKv.create(leaseKey(shard), enc.encode(JSON.stringify({ node, token: 0 })));
    } catch {
      return undefined; // held by another node (or NATS is away): try again next round
    }
    const revision = await this.leasesKv.update(leaseKey(shard), enc.encode(JSON.stringify({ node, token })), token);
    return { shard, node, token, revision, renewedAt: sentAt };
  }

  /**
   * Renews by revision; undefined when the lease is no longer this holder's (lapsed and taken,
   * or deleted) or no answer came within `timeoutMs` (past its validity an answer is of no use).
   */
  async renew(lease: Lease, sentAt: number, timeoutMs?: number): Promise<Lease | undefined> {
    try {
      const revision = await this.leasesKv.update(leaseKey(lease.shard), enc.encode(JSON.stringify({ node: lease.node, token: lease.token })), lease.revision, timeoutMs);
      return { ...lease, revision, renewedAt: sentAt };
    } catch {
      return undefined;
    }
  }

  /**
   * Gives the lease up, only while the entry is still this holder's (its node and token): never
   * a successor's. A renewal in flight may have moved the revision on; then the entry is read
   * again and deleted at its own revision.
   */
  async release(lease: Lease): Promise<void> {
    let revision = lease.revision;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.leasesKv.delete(leaseKey(lease.shard), { previousSeq: revision });
        return;
      } catch {
        const e = await this.leasesKv.get(leaseKey(lease.shard)).catch(() => null);
        const v = e && e.operation === 'PUT' && e.value.length > 0 ? parseLeaseValue(dec.decode(e.value)) : undefined;
        if (!e || !v || v.node !== lease.node || v.token !== lease.token) return; // gone, or a successor's
        revision = e.revision;
      }
    }
  }

  async close(): Promise<void> {
    if (this.owns) await this.nc.drain().catch(() => undefined);
  }

  /**
   * Every live entry of a bucket. Not `kv.keys()`: its consumer ends only on a message that
   * reports nothing pending, or on an idle heartbeat, and while keys were being created (nodes
   * taking their shards) it sometimes saw neither and waited for good (`vigil ctl shards`;
   * test/cluster-link.test.ts). The stream's own list of subjects is one bounded request
   * (paged by the client when long), and names each key once.
   */
  private async entries(kv: KV): Promise<Array<{ key: string; value: Uint8Array; revision: number }>> {
    const { streamInfo } = await kv.status();
    // a failed first attempt (NATS away) is not kept: the next listing asks again
    const jsm = await (this.jsm ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    }));
    const info = await jsm.streams.info(streamInfo.config.name, { subjects_filter: '>' });
    const prefix = (streamInfo.config.subjects?.[0] ?? '').replace(/>$/, ''); // `$KV.<bucket>.`
    const keys = Object.keys(info.state.subjects ?? {}).filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
    const got = await Promise.all(keys.map((k) => kv.get(k).catch(() => null)));
    return got.flatMap((e) => (e && e.operation === 'PUT' && e.value.length > 0 ? [{ key: e.key, value: e.value, revision: e.revision }] : []));
  }
}
