// Keeps this node's shard leases renewed from a thread of its own (lease-renewer.mjs), so the
// renewals do not wait behind the batches the node's event loop is processing: a node starved
// of CPU (load average 16-21 on two cores) lost its leases every few seconds when they shared
// its loop, and shards churned or waited unowned. The coordinator hands each lease it takes to
// keep() and reads it back with latest(): the renewer writes each renewal (its revision, and when
// it was sent) to memory both threads share, so the holder's validity (lease.ts) is as fresh as
// the last renewal, however late the main loop runs. Fencing is unchanged: a lease is valid
// until its last renewal's send time + TTL − margin, then the holder writes nothing more.
//
// The main thread ticks into the shared memory; when it has not for `stallMs` (a loop hung for
// good) the renewer stops renewing, the leases lapse and other nodes take the shards. The
// heartbeat goes on: the node is alive, and a stale view keeps its rounds from acting.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Lease } from './lease.ts';
import type { Heartbeat } from './membership.ts';

const RENEWER = fileURLToPath(new URL('./lease-renewer.mjs', import.meta.url));
const SLOT = 4;
const HELD = 1n;
const LOST = 2n;
const ALIVE_TICK_MS = 200;
/**
 * A main thread silent this long gives its leases up (it would hold shards it cannot process).
 * Not 10 s: at load average 15-30, with these processes at nice 10, a node's loop went silent
 * for 10-20 s while it took over and replayed ~120 shards (losses recorded 5-12 s after the
 * validity ended, bench:failover), and giving the shards up then only moved them to a node
 * as starved, round after round.
 */
export const DEFAULT_STALL_MS = 60_000;

export interface LeaseKeeperOptions {
  servers: string;
  /** the cluster's name (its lease bucket is `<name>_leases`) */
  name: string;
  shards: number;
  heartbeatMs: number;
  ttlMs: number;
  marginMs: number;
  stallMs?: number;
  /** the renewer thread's failures (a heartbeat not sent) */
  onError?(err: Error, what: string): void;
}

export class LeaseKeeper {
  private readonly slots: BigInt64Array;
  private readonly alive: NodeJS.Timeout;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker, private readonly shards: number, buffer: SharedArrayBuffer, onError: (err: Error, what: string) => void) {
    this.slots = new BigInt64Array(buffer);
    worker.on('message', (m: { type: string; what?: string; message?: string }) => {
      if (m.type === 'error') onError(new Error(m.message), m.what ?? 'lease renewer');
    });
    this.tick();
    this.alive = setInterval(() => this.tick(), ALIVE_TICK_MS);
    this.alive.unref();
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /** Starts the renewer thread; resolves once it is connected to NATS. */
  static async start(o: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const buffer = new SharedArrayBuffer((o.shards * SLOT + 1) * BigInt64Array.BYTES_PER_ELEMENT);
    Atomics.store(new BigInt64Array(buffer), o.shards * SLOT, BigInt(Date.now()));
    const worker = new Worker(RENEWER, {
      workerData: {
        servers: o.servers.split(',').map((s) => s.trim()), name: o.name, shards: o.shards,
        heartbeatMs: o.heartbeatMs, ttlMs: o.ttlMs, marginMs: o.marginMs, stallMs: o.stallMs ?? DEFAULT_STALL_MS, buffer,
      },
    });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the lease renewer thread exited (${code}) before it was ready`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', () => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve();
      });
    });
    worker.unref();
    return new LeaseKeeper(worker, o.shards, buffer, o.onError ?? (() => undefined));
  }

  /** Renews `lease` from now on, until drop() or until a renewal is refused. */
  keep(lease: Lease): void {
    this.worker.postMessage({ type: 'keep', shard: lease.shard, node: lease.node, token: lease.token, revision: lease.revision, renewedAt: lease.renewedAt });
  }

  /** What this node's heartbeat says (its time is added when each is sent), sent every tick from now on. */
  announce(beat: Omit<Heartbeat, 'at'>): void {
    this.worker.postMessage({ type: 'announce', beat });
  }

  /** Stops renewing the shard's lease (handed off, lost or released). */
  drop(shard: number): void {
    this.worker.postMessage({ type: 'drop', shard });
  }

  /**
   * `lease` as last renewed by the renewer (`lost`: a renewal was refused or came too late; the
   * lease is then the last that was renewed, so its validity says until when it was held).
   * Until the renewer has taken it (keep() is a message), `lease` itself.
   */
  latest(lease: Lease): { lease: Lease; lost: boolean } {
    const at = lease.shard * SLOT;
    if (lease.shard < 0 || lease.shard >= this.shards || Number(Atomics.load(this.slots, at)) !== lease.token) return { lease, lost: false };
    const status = Atomics.load(this.slots, at + 3);
    if (status !== HELD && status !== LOST) return { lease, lost: false };
    const revision = Number(Atomics.load(this.slots, at + 1));
    const renewedAt = Number(Atomics.load(this.slots, at + 2));
    // a read torn by a renewal pairs one renewal's revision with another's time: validity uses
    // the time (a sent time that succeeded either way), and a release re-reads a revision that moved
    const newer = renewedAt >= lease.renewedAt ? { ...lease, revision: Math.max(revision, lease.revision), renewedAt } : lease;
    return { lease: newer, lost: status === LOST };
  }

  async close(): Promise<void> {
    clearInterval(this.alive);
    this.worker.postMessage({ type: 'stop' });
    const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref())]);
    if (!done) await this.worker.terminate();
    await this.exited;
  }

  private tick(): void {
    Atomics.store(this.slots, this.shards * SLOT, BigInt(Date.now()));
  }
}
