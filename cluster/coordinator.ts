// The shard coordinator of one node (cluster mode). Every round (one heartbeat):
//   1. announce this node (heartbeat) and renew every lease it holds; a lease that cannot be
//      renewed, or whose validity ran out (lease.ts), is lost: its shard stops at once;
//   2. read who is alive and who holds what, place the shards (placement.ts) and take this
//      node's part of the round's moves: acquire an orphan shard it should own (the create
//      fails until the old lease has lapsed), hand off a shard another node should own.
// Every node computes the same placement from the same buckets, so no leader is needed.
// Members and owners are read from the node's running view of the buckets (cluster-view.ts),
// so a round costs a write per lease it renews and nothing per shard it only looks at.
// Renewals never wait on anything else: a lost shard is stopped, and shards are taken and
// handed off, beside the rounds. They run in a thread of their own (lease-keeper.ts) with a
// NATS connection of its own, so a node whose loop is busy with batches or starved of CPU keeps
// its leases; the round reads them back from it. A shard left without a lease for two heartbeats
// (its placed owner is not taking it: stalled, or still stopping it) is taken by any node.
import { appendFileSync } from 'node:fs';
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import { DEFAULT_LEASE_MARGIN_MS, isValid, validUntil, type Lease } from './lease.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { agedAcrossOutage, liveNodes, placeable, type Heartbeat, type ViewOutage } from './membership.ts';
import { countByNode, dedicate, keptForOthers, placeShards, planMoves } from './placement.ts';
import type { ClusterLink, OwnerEntry } from './nats-link.ts';

export interface CoordinatorParts {
  link: ClusterLink;
  /** who is alive and who holds what, as the buckets' watches show it */
  view: { heartbeats(): Heartbeat[]; owners(now: number): Map<number, OwnerEntry> };
  clock: Clock;
  /** this node's heartbeat, without `at` */
  self: Omit<Heartbeat, 'at' | 'draining' | 'level'>;
  /** this node's degradation level, announced with each heartbeat (absent: 0) */
  level?: () => number;
  shards: number;
  shardOf(tenant: string): number;
  /** the large tenants that name no nodes, read every round: placed on the nodes kept for them (placement.ts `dedicate`) */
  largeTenants?: () => readonly string[];
  heartbeatMs: number;
  deadAfterMs: number;
  leaseTtlMs: number;
  moveFraction: number;
  /** a shard was acquired: restore it and start reading (the lease is held meanwhile) */
  acquired(shard: number, lease: Lease): Promise<void>;
  /** hand a shard off gracefully: stop reading, last snapshot (the lease is released after) */
  handOff(shard: number): Promise<void>;
  /** the lease is gone (lapsed or taken): stop the shard now, write nothing more for it */
  lost(shard: number): Promise<void>;
  ownershipLog?: string;
  /** where leases are renewed: a thread of their own (default, when the link names its servers) or this event loop */
  renewIn?: 'thread' | 'loop';
  onError(err: unknown, what: string): void;
}

/**
 * A lease just created is renewed once this much later, and the shard is taken only if that
 * renewal succeeds. nats-server before 2.9.21 checks a write's expected revision outside its
 * Raft log (nats-io/nats-server#4320): two nodes creating the same lease within a commit's time
 * could both succeed, and both took the shard (seen in the partition test, 9 ms apart). The later
 * create lands after the earlier one's answer, so the earlier's confirmation is refused. It
 * narrows the race to creates still in flight this long; it does not close it on such a server.
 */
export const TAKE_CONFIRM_MS = 250;

/** Acquires or hand-offs run this many at a time (a failover of 100 shards takes a few rounds of requests, not 100 at once). */
const PARALLEL = 16;

export class ShardCoordinator {
  private readonly leases = new Map<number, Lease>();
  private readonly busy = new Set<number>();
  /** acquires and hand-offs under way: they run beside the rounds, so renewals never wait on them */
  private readonly moving = new Set<Promise<void>>();
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  draining = false;
  /** live nodes other than this one that take shards (as of the last round) */
  private peers = 0;
  /** the renewer thread (absent: renewals on this loop) */
  private keeper: LeaseKeeper | undefined;
  /** shard → when this node first saw it without a lease (an orphan its placed owner may not be taking) */
  private readonly orphanSince = new Map<number, number>();
  /** since when this node's own heartbeat has been missing from its view (the bus away from it) */
  private viewLostSince: number | undefined;
  /** the last such outage, once the view came back: for deadAfterMs after it the view settles */
  private outage: ViewOutage | undefined;
  /** when this node first found its own heartbeat in its view (undefined: not yet) */
  private firstViewAt: number | undefined;

  constructor(private readonly p: CoordinatorParts) {}

  start(): void {
    void this.startKeeper().then(() => this.startRounds());
  }

  private async startKeeper(): Promise<void> {
    const servers = this.p.link.options.servers;
    if (this.p.renewIn === 'loop' || !servers) return;
    try {
      this.keeper = await LeaseKeeper.start({
        servers, name: this.p.link.options.name, shards: this.p.shards, heartbeatMs: this.p.heartbeatMs, ttlMs: this.p.leaseTtlMs, marginMs: DEFAULT_LEASE_MARGIN_MS,
        onError: (err, what) => this.p.onError(err, what),
      });
    } catch (err) {
      this.p.onError(err, 'starting the lease renewer thread (renewing on the event loop instead)');
    }
  }

  private startRounds(): void {
    // one round every heartbeatMs from the start of the last (a slow round does not push the next renewal further out)
    const again = (startedAt: number): void => {
      if (this.stopped) return;
      const wait = Math.max(0, startedAt + this.p.heartbeatMs - this.p.clock.now());
      this.timer = this.p.clock.setTimeout(() => {
        const at = this.p.clock.now();
        void this.round().finally(() => again(at));
      }, wait);
    };
    const at = this.p.clock.now();
    void this.round().finally(() => again(at));
  }

  /** Shards this node holds now (valid lease). */
  held(): number[] {
    return [...this.leases.keys()].filter((s) => this.holds(s)).sort((a, b) => a - b);
  }

  holds(shard: number): boolean {
    return isValid(this.current(shard), this.p.clock.now(), this.p.leaseTtlMs);
  }

  token(shard: number): number {
    return this.leases.get(shard)?.token ?? 0;
  }

  /** The shard's lease as last renewed (by the renewer thread, if any); undefined when not held or lost. */
  private current(shard: number): Lease | undefined {
    const lease = this.leases.get(shard);
    if (!lease || !this.keeper) return lease;
    const l = this.keeper.latest(lease);
    return l.lost ? undefined : l.lease;
  }

  /** Until when `lease` was valid, as last renewed (by the renewer thread, if any). */
  private validity(lease: Lease): number {
    return validUntil(this.keeper?.latest(lease).lease ?? lease, this.p.leaseTtlMs);
  }

  /** Stops renewing and gives the lease up (at its latest revision), only while it is still this holder's. */
  private async release(lease: Lease): Promise<void> {
    this.keeper?.drop(lease.shard);
    await this.p.link.release(this.keeper?.latest(lease).lease ?? lease);
  }

  /** One round now (ctl rebalance asks for it); calls meanwhile share it. */
  round(): Promise<void> {
    this.running ??= this.once().catch((err: unknown) => this.p.onError(err, 'cluster round')).finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Drain: take no shard, hand every one off; resolves when none is left (or `timeoutMs`). */
  async drain(timeoutMs = 60_000): Promise<number> {
    this.draining = true;
    const until = this.p.clock.now() + timeoutMs;
    while (this.leases.size > 0 && this.p.clock.now() < until) {
      await this.round();
      await this.settled();
      if (this.peers === 0) break; // nobody to hand off to: the shards stay (their leases lapse on stop)
      if (this.leases.size > 0) await new Promise((r) => setTimeout(r, Math.min(200, this.p.heartbeatMs)));
    }
    return this.leases.size;
  }

  /** Stops the rounds; hands off every shard if `handOff` (a clean stop), else just lets the leases lapse. */
  async stop(handOff: boolean): Promise<void> {
    if (handOff) await this.drain(30_000).catch(() => undefined);
    this.stopped = true;
    if (this.timer !== undefined) this.p.clock.clearTimeout(this.timer);
    await this.running;
    await this.settled();
    for (const lease of this.leases.values()) await this.release(lease);
    await this.keeper?.close().catch((err: unknown) => this.p.onError(err, 'stopping the lease renewer thread'));
    await this.p.link.forget(this.p.self.id);
  }

  private async once(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.p.clock.now();
    const level = this.p.level?.() ?? 0;
    const beat = { ...this.p.self, pinnedTenants: [...this.p.self.pinnedTenants], ...(this.draining ? { draining: true } : {}), ...(level > 0 ? { level } : {}) };
    if (this.keeper) {
      this.keeper.announce(beat); // sent by the renewer thread every heartbeat, however busy this loop is
      this.checkKept();
    } else {
      await Promise.all([
        this.p.link.heartbeat({ ...beat, at: sentAt }, this.p.deadAfterMs).catch((err: unknown) => this.p.onError(err, 'heartbeat')),
        this.renewAll(),
      ]);
    }
    const now = this.p.clock.now();
    const beats = this.p.view.heartbeats();
    // The view is as new as this node's own latest heartbeat in it (a watch delivers in order).
    // Cut off from the servers (a partition), it grows old: everyone else looks dead and every
    // lease lapsed. Acting on it would take every shard the moment the cut heals, so it waits.
    const mine = beats.find((b) => b.id === this.p.self.id);
    if (!mine || now - mine.at > this.p.deadAfterMs / 2) {
      this.orphanSince.clear(); // what it saw before is no measure of how long a shard has been without a lease
      if (mine) this.viewLostSince ??= mine.at; // (none yet at start: no outage, just a beginning)
      return;
    }
    if (this.viewLostSince !== undefined) this.outage = { from: this.viewLostSince, to: now };
    this.viewLostSince = undefined;
    this.firstViewAt ??= now;
    // A node kept for others that sees no shared node takes every shard (placement.ts), so none
    // is left without an owner. Just started, it has seen only who beat before it: the shared
    // nodes of a cluster started at once may beat a moment later, and it would take their
    // shards only to hand them over. So for deadAfterMs (after which a node not heard from
    // counts as dead) it takes only the shards of its own tenants.
    const starting = keptForOthers(this.p.self) && now - this.firstViewAt < this.p.deadAfterMs;
    // Back from an outage, the others' heartbeats were as unable to reach this view as its own:
    // for deadAfterMs they are aged without it, no shard is given away and an orphan waits that
    // long for its placed owner, whose view may come back a little later than this one's.
    const settling = this.outage !== undefined && now - this.outage.to < this.p.deadAfterMs ? this.outage : undefined;
    const owners = this.p.view.owners(now);
    const live = liveNodes(settling ? agedAcrossOutage(beats, settling) : beats, now, this.p.deadAfterMs);
    const liveIds = new Set(live.map((b) => b.id));
    this.peers = placeable(live).filter((b) => b.id !== this.p.self.id).length;
    const current = new Map([...owners].map(([s, o]) => [s, o.node]));
    for (const [s] of this.leases) current.set(s, this.p.self.id);
    const placed = dedicate(placeable(live), this.p.largeTenants?.() ?? [], this.p.shardOf, current);
    const desired = placeShards(this.p.shards, placed, this.p.shardOf);
    const moves = planMoves(this.p.shards, current, desired, liveIds, this.p.moveFraction);
    const me = this.p.self.id;
    const own = new Set((placed.find((n) => n.id === me)?.pinnedTenants ?? []).map((t) => this.p.shardOf(t)));
    const take = moves.filter((m) => m.to === me && !this.leases.has(m.shard) && !this.busy.has(m.shard) && !owners.has(m.shard) && (!starting || own.has(m.shard)));
    // an orphan its placed owner has not taken for two heartbeats (that owner stalled, or is still stopping it), or for
    // deadAfterMs while the view settles after an outage: anyone takes it
    const willing = !this.draining && !starting && placeable(live).some((b) => b.id === me);
    const orphanWait = settling ? this.p.deadAfterMs : 2 * this.p.heartbeatMs;
    for (let s = 0; s < this.p.shards; s++) {
      if (owners.has(s) || this.leases.has(s)) {
        this.orphanSince.delete(s);
        continue;
      }
      const since = this.orphanSince.get(s) ?? now;
      this.orphanSince.set(s, since);
      if (willing && now - since >= orphanWait && !this.busy.has(s) && !take.some((m) => m.shard === s)) take.push({ shard: s, from: undefined, to: me });
    }
    const give = settling ? [] : moves.filter((m) => m.from === me && this.leases.has(m.shard) && !this.busy.has(m.shard));
    for (const m of [...take, ...give]) this.busy.add(m.shard);
    const work = this.takeAll(take.map((m) => m.shard)).then(() => parallel(give, (m) => this.handOff(m.shard)))
      .catch((err: unknown) => this.p.onError(err, 'moving shards'));
    this.moving.add(work);
    void work.finally(() => this.moving.delete(work));
  }

  /** Resolves when the moves started so far are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.moving]);
  }

  private async renewAll(): Promise<void> {
    // all at once: one wave of requests, so the round's time is one round trip however many shards
    await Promise.all([...this.leases.values()].map(async (lease) => {
      const sentAt = this.p.clock.now();
      const valid = isValid(lease, sentAt, this.p.leaseTtlMs);
      const renewed = valid ? await this.p.link.renew(lease, sentAt, Math.max(100, validUntil(lease, this.p.leaseTtlMs) - sentAt)) : undefined;
      if (!renewed) this.p.onError(new Error(valid ? 'renewal refused' : `lease ran out ${sentAt - lease.renewedAt} ms after its last renewal`), `keeping shard ${lease.shard}`);
      if (this.leases.get(lease.shard) !== lease) return; // handed off meanwhile
      if (renewed) this.leases.set(lease.shard, renewed);
      else this.lapsed(lease);
    }));
  }

  /** The renewer thread's leases read back: a refused or run-out one is lost. */
  private checkKept(): void {
    const now = this.p.clock.now();
    for (const held of [...this.leases.values()]) {
      const { lease, lost } = this.keeper!.latest(held);
      if (!lost && isValid(lease, now, this.p.leaseTtlMs)) {
        this.leases.set(lease.shard, lease);
        continue;
      }
      this.p.onError(new Error(lost ? 'renewal refused' : `lease ran out ${now - lease.renewedAt} ms after its last renewal`), `keeping shard ${lease.shard}`);
      this.keeper!.drop(lease.shard);
      this.leases.set(lease.shard, lease); // its validity is what the loss is recorded with
      this.lapsed(lease);
    }
  }

  private lapsed(lease: Lease): void {
    if (this.busy.has(lease.shard)) {
      // a hand-off under way: its checkpoint is refused (holds() is false); a restore under way stops the shard when it ends
      this.leases.delete(lease.shard);
      this.record('lost', lease.shard, lease.token, validUntil(lease, this.p.leaseTtlMs));
    } else this.lose(lease.shard);
  }

  /**
   * Takes the leases of `shards` all at once (a failover is one wave of creates, not one per
   * shard in turn), then restores the ones it got, PARALLEL at a time (the leases are renewed meanwhile).
   */
  private async takeAll(shards: readonly number[]): Promise<void> {
    const got: Lease[] = [];
    await Promise.all(shards.map(async (shard) => {
      const created = await this.p.link.acquire(shard, this.p.self.id, this.p.clock.now()).catch((err: unknown) => {
        this.p.onError(err, `taking the lease of shard ${shard}`);
        return undefined;
      });
      const lease = created && await this.confirm(created);
      if (!lease) {
        this.busy.delete(shard);
        return;
      }
      if (!isValid(lease, this.p.clock.now(), this.p.leaseTtlMs)) {
        // its validity (counted from before the create was sent) ran out before the answer was
        // handled (a stalled loop): never held; given back while still this node's
        this.busy.delete(shard);
        await this.p.link.release(lease).catch(() => undefined);
        return;
      }
      this.leases.set(shard, lease);
      this.keeper?.keep(lease);
      this.record('acquired', shard, lease.token);
      got.push(lease);
    }));
    await parallel(got, (lease) => this.restore(lease));
  }

  /** The lease renewed once after TAKE_CONFIRM_MS; undefined when that is refused (another node's create landed after ours). */
  private async confirm(lease: Lease): Promise<Lease | undefined> {
    await new Promise<void>((resolve) => this.p.clock.setTimeout(resolve, TAKE_CONFIRM_MS));
    const sentAt = this.p.clock.now();
    if (!isValid(lease, sentAt, this.p.leaseTtlMs)) {
      await this.p.link.release(lease).catch(() => undefined); // lapsed meanwhile (a stalled loop): given back while still this node's
      return undefined;
    }
    const renewed = await this.p.link.renew(lease, sentAt, Math.max(100, validUntil(lease, this.p.leaseTtlMs) - sentAt));
    if (!renewed) this.p.onError(new Error('its confirming renewal was refused or unanswered (another node\'s create may have landed after it): not taken'), `taking the lease of shard ${lease.shard}`);
    return renewed;
  }

  private async restore(lease: Lease): Promise<void> {
    const shard = lease.shard;
    try {
      await this.p.acquired(shard, lease);
      // the lease ran out while the shard was being restored: stop it again (the loss is recorded)
      if (!this.leases.has(shard)) await this.p.lost(shard).catch((err: unknown) => this.p.onError(err, `stopping lost shard ${shard}`));
    } catch (err) {
      this.p.onError(err, `taking shard ${shard}`);
      await this.p.lost(shard).catch(() => undefined);
      const current = this.leases.get(shard); // renewed meanwhile: its revision is what a delete must name
      this.leases.delete(shard);
      if (current) {
        this.record('released', shard, current.token, this.validity(current));
        await this.release(current);
      }
    } finally {
      this.busy.delete(shard);
    }
  }

  /** Hands `shard` off; one that could not take its last snapshot stays held (and read) and is tried again next round. */
  private async handOff(shard: number): Promise<void> {
    try {
      await this.p.handOff(shard);
    } catch (err) {
      this.p.onError(err, `handing off shard ${shard} (kept for now)`);
      // its lease ran out meanwhile (recorded then): it is not ours to read on
      if (!this.leases.has(shard)) await this.p.lost(shard).catch((e: unknown) => this.p.onError(e, `stopping lost shard ${shard}`));
      this.busy.delete(shard);
      return;
    }
    const lease = this.leases.get(shard);
    this.leases.delete(shard);
    this.busy.delete(shard);
    // held until now, or until its validity ran out if that came first (a stalled loop notices late)
    this.record('released', shard, lease?.token ?? 0, lease ? this.validity(lease) : undefined);
    if (lease) await this.release(lease);
  }

  /**
   * Gives up a shard whose lease this node can no longer vouch for while it is still listed
   * under `token` (its validity ran out with a renewal still unanswered): an effect was refused
   * meanwhile, and only a replay from the last snapshot puts it back, so the shard is stopped
   * as a lost one would be (the next owner, this node perhaps, replays it). A round that sees
   * the lapse first does the same; a shard being restored or handed off is left to that work.
   */
  relinquish(shard: number, token: number): void {
    const lease = this.leases.get(shard);
    if (!lease || lease.token !== token || this.busy.has(shard) || this.holds(shard)) return;
    this.p.onError(new Error('its lease could not be vouched for when an effect was due (a renewal unanswered past its validity)'), `keeping shard ${shard}`);
    this.lose(shard);
  }

  /** The lease is gone: no longer held from now; the shard is stopped beside the rounds (busy until then, so it is not taken back meanwhile). */
  private lose(shard: number): void {
    const held = this.leases.get(shard);
    const lease = held && this.keeper ? this.keeper.latest(held).lease : held; // as last renewed: held until its validity ran out
    this.leases.delete(shard);
    this.keeper?.drop(shard);
    // it could act on the shard only until its validity ran out, however late this is noticed
    this.record('lost', shard, lease?.token ?? 0, lease ? validUntil(lease, this.p.leaseTtlMs) : undefined);
    this.busy.add(shard);
    const work = this.p.lost(shard)
      .catch((err: unknown) => this.p.onError(err, `stopping lost shard ${shard}`))
      .finally(() => this.busy.delete(shard));
    this.moving.add(work);
    void work.finally(() => this.moving.delete(work));
  }

  private record(event: 'acquired' | 'released' | 'lost', shard: number, token: number, until?: number): void {
    if (!this.p.ownershipLog) return;
    const at = Date.now();
    appendFileSync(this.p.ownershipLog, `${JSON.stringify({ at, node: this.p.self.id, event, shard, token, until: until === undefined ? at : Math.min(at, until) })}\n`);
  }

  /** Shards per node as this node sees the buckets (for ctl). */
  static counts(owners: ReadonlyMap<number, { node: string }>, nodes: Iterable<string>): Map<string, number> {
    return countByNode(new Map([...owners].map(([s, o]) => [s, o.node])), nodes);
  }
}

async function parallel<T>(items: readonly T[], work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(runners);
}
