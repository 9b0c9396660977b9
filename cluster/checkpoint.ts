// Checkpoints (DESIGN.md §2.1, steps 4-5): every few seconds, and at a clean stop, for each
// shard whose watermark moved: take the detector state of its tenants (each TenantActor
// answers after its services and correlator handled what came before), flush the writers
// (so every effect of the batches up to the watermark is stored), save the shard's
// snapshot at the watermark, and acknowledge the log as far as the snapshots allow.
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import type { TenantSnapshots } from '../actors/tenant/index.ts';
import type { StatePacker } from '../actors/service/index.ts';
import type { Incident } from '../protocols/index.ts';
import type { IngestLog } from './ingest-log/index.ts';
import type { ShardHosts } from './shard-host.ts';
import { encodeTenantEntries, SNAPSHOT_VERSION, type LoadedSnapshot, type SnapshotStore } from './snapshots/index.ts';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;
/**
 * A shard's timed snapshots are paced to this much packed state a second: a shard of 6,400
 * Basic series packs to 4.2 MB, whose packing, encoding and deflate took ~130 ms of the event
 * loop and whose chunks went through the bus, every 5 s (bench:tenancy, a CPU profile of the
 * processing node). At 256 KiB/s that shard is snapshotted every ~17 s (the next tick after
 * 16.4 s), for under 1% of a core; a shard of a few hundred series keeps the 5 s interval. The
 * price is replay: a restart or failover reads up to that much more of the shard's log.
 */
export const DEFAULT_CHECKPOINT_BYTES_PER_SECOND = 256 * 1024;

export interface CheckpointParts {
  hosts: Pick<ShardHosts, 'shards' | 'watermark' | 'tenants'>;
  snapshots: Pick<SnapshotStore, 'save'>;
  log: Pick<IngestLog, 'ack'>;
  clock: Clock;
  node: string;
  /** timed snapshots of a shard at most this many bytes of its packed state a second (DEFAULT_CHECKPOINT_BYTES_PER_SECOND) */
  bytesPerSecond?: number;
  /** the detector state of these tenants, packed by `packTenantState` (encoded snapshot entries) */
  stateOf(tenants: readonly string[]): Promise<Map<string, readonly Uint8Array[]>>;
  /** resolves once every effect handed to the writers so far is stored */
  flush(): Promise<void>;
  onError(err: unknown): void;
  /**
   * cluster mode: the shard's fencing token, and whether this node still holds its lease. A
   * shard's checkpoint is saved and acknowledged only while it is held under the token it had
   * when the checkpoint read its watermark: lost and taken again meanwhile, that watermark is
   * the earlier ownership's, whose last batches the fence may have dropped.
   */
  fence?: { token(shard: number): number; holds(shard: number): boolean };
  /** cluster mode: the unresolved incidents of the shard's tenants, carried in its snapshot for the next owner */
  openIncidents?(shard: number): Incident[];
  /** each snapshot saved and each acknowledgement of the log, for a trace (absent: not traced) */
  trace?(what: 'snapshot saved' | 'log acknowledged', shard: number, position: number, token: number): void;
}

export class Checkpoints {
  /** the position of each shard's newest snapshot */
  private readonly taken = new Map<number, number>();
  /** shards to snapshot at the next checkpoint whether or not they moved */
  private readonly forced = new Set<number>();
  /** when each shard's next timed snapshot may start (its last one's bytes, paced) */
  private readonly notBefore = new Map<number, number>();
  /** shards whose snapshot the last checkpoint could not save, and why */
  private failed = new Map<number, unknown>();
  private running: Promise<void> | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly p: CheckpointParts) {}

  /** Checkpoints every `intervalMs` on the node's clock until stop(). */
  every(intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS): void {
    const again = (): void => {
      this.timer = this.p.clock.setTimeout(() => {
        this.run(true).catch((err: unknown) => this.p.onError(err)).finally(again);
      }, intervalMs);
    };
    again();
  }

  /** A snapshot restored at start counts as taken. */
  restored(shard: number, position: number): void {
    this.taken.set(shard, position);
  }

  /** A shard handed off: its next owner's snapshots are not ours to count. */
  forget(shard: number): void {
    this.taken.delete(shard);
    this.forced.delete(shard);
    this.notBefore.delete(shard);
  }

  /** Shards whose watermark moved past their newest snapshot: a restart or failover now would replay them from it. */
  behind(): number {
    return this.p.hosts.shards().filter((shard) => this.p.hosts.watermark(shard) > (this.taken.get(shard) ?? 0)).length;
  }

  /** One checkpoint of every shard that moved, paced or not (calls made meanwhile share it). */
  take(): Promise<void> {
    return this.run(false);
  }

  /** `paced` (the timer's checkpoints): a shard whose last snapshot's bytes ask for a longer pause waits for it. */
  private run(paced: boolean): Promise<void> {
    this.running ??= this.once(paced).finally(() => { this.running = undefined; });
    return this.running;
  }

  /**
   * A checkpoint that starts after this call (one under way may have read the watermarks
   * before), snapshotting `shard` even if its watermark has not moved: a hand-off's last
   * snapshot must carry the shard's incidents as they are now.
   */
  async fresh(shard?: number): Promise<void> {
    if (shard !== undefined) this.forced.add(shard);
    await this.running?.catch(() => undefined);
    try {
      await this.take();
    } catch (err) {
      if (shard === undefined) throw err;
    }
    if (shard !== undefined && this.failed.has(shard)) throw this.failed.get(shard);
  }

  /** Stops the timer, then takes a last checkpoint. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.p.clock.clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.take();
  }

  private async once(paced: boolean): Promise<void> {
    const startedAt = this.p.clock.now();
    const due = this.p.hosts.shards()
      .map((shard) => ({ shard, position: this.p.hosts.watermark(shard), token: this.p.fence?.token(shard) ?? 0 }))
      .filter((s) => this.forced.has(s.shard)
        || (s.position > (this.taken.get(s.shard) ?? 0) && (!paced || (this.notBefore.get(s.shard) ?? 0) <= startedAt)))
      .filter((s) => this.held(s.shard, s.token));
    for (const { shard } of due) this.forced.delete(shard);
    this.failed = new Map();
    if (due.length === 0) return;
    // one ask per shard: a shard whose tenants answer late (a deep replay) fails alone, and the
    // others' snapshots go on (one ask for all made one slow shard fail every shard's snapshot)
    // the state comes encoded (packTenantState, where each service takes it): held as objects
    // through the flush (seconds, behind the store), every scavenge meanwhile copied them
    const states = await Promise.allSettled(due.map(async (s) => {
      const tenants = this.p.hosts.tenants(s.shard);
      const state = await this.p.stateOf(tenants);
      return tenants.flatMap((tenant) => state.get(tenant) ?? []);
    }));
    try {
      await this.p.flush(); // after every state was taken: the effects of what each covers are stored
    } catch (err) {
      for (const { shard } of due) this.failed.set(shard, err);
      throw err;
    }
    // one shard's failure does not hold the others back; the first is reported
    for (const [i, { shard, position, token }] of due.entries()) {
      const state = states[i]!;
      try {
        if (state.status === 'rejected') throw state.reason;
        await this.saveShard(shard, position, token, state.value);
        const bytes = state.value.reduce((n, e) => n + e.byteLength, 0);
        this.notBefore.set(shard, startedAt + Math.floor((bytes * 1000) / (this.p.bytesPerSecond ?? DEFAULT_CHECKPOINT_BYTES_PER_SECOND)));
      } catch (err) {
        this.failed.set(shard, err);
      }
    }
    const first = this.failed.values().next();
    if (!first.done) throw first.value;
  }

  /** Held under `token` still (always, outside cluster mode). */
  private held(shard: number, token: number): boolean {
    return !this.p.fence || (this.p.fence.holds(shard) && this.p.fence.token(shard) === token);
  }

  private async saveShard(shard: number, position: number, token: number, encodedEntries: readonly Uint8Array[]): Promise<void> {
    if (!this.held(shard, token)) return; // the lease lapsed meanwhile: the next owner replays
    const open = this.p.openIncidents?.(shard) ?? [];
    const saved = await this.p.snapshots.save({
      version: SNAPSHOT_VERSION, shard, logPosition: position, takenAt: this.p.clock.now(), node: this.p.node, fencingToken: token, encodedEntries,
      ...(open.length > 0 ? { openIncidents: open } : {}),
    });
    this.taken.set(shard, position);
    this.p.trace?.('snapshot saved', shard, position, token);
    // a failed acknowledgement only keeps more of the log (the next checkpoint or owner acknowledges it)
    if (saved.ackable > 0 && this.held(shard, token)) {
      await this.p.log.ack(shard, saved.ackable).then(() => this.p.trace?.('log acknowledged', shard, saved.ackable, token), (err: unknown) => this.p.onError(err));
    }
  }
}

/** A tenant's series as encoded snapshot entries, for the actors to pack their state with (StatePacker). */
export function packTenantState(tenant: string): StatePacker {
  return (series, keys) => encodeTenantEntries(tenant, series, keys);
}

/** The restored detector state by tenant and service, and where each shard resumes. */
export function restoredState(loaded: ReadonlyMap<number, LoadedSnapshot>): { state: TenantSnapshots; resume: Map<number, { position: number; tenants: string[] }> } {
  const state: TenantSnapshots = new Map();
  const resume = new Map<number, { position: number; tenants: string[] }>();
  for (const [shard, { snapshot }] of loaded) {
    const tenants = new Set<string>();
    for (const e of snapshot.entries) {
      const { tenant, seriesKey: _key, ...series } = e;
      tenants.add(tenant);
      let services = state.get(tenant);
      if (!services) state.set(tenant, (services = new Map()));
      const list = services.get(series.service);
      if (list) list.push(series);
      else services.set(series.service, [series]);
    }
    resume.set(shard, { position: snapshot.logPosition, tenants: [...tenants] });
  }
  return { state, resume };
}
