// A medium tenant's budget (pure): how many of its batches may be inside the actor tree at
// once (its mailbox budget) and how much processing time it may spend per tick (its
// processing budget). Batches past either wait here, in the tenant's own queue, in log
// order. Every actor handles one message per turn of the event loop and the tenants
// supervisor's mailbox is shared, first in first out: without a budget, another tenant's
// batch waits behind every batch a flooding tenant has queued there. With one, it waits
// behind at most `inFlight` of them, and the flooder's detectors take at most `share` of
// the node's time (plus what its batches already inside cost).
// Held batches stay counted in the ingest backlog (their receipts are open), so a tenant
// whose queue grows meets its backlog bound and gets 503 with Retry-After; others go on.

export interface BudgetLimits {
  /** batches of the tenant handed to the actors and not yet taken in by their services */
  inFlight: number;
  /** the length of a tick, ms */
  tickMs: number;
  /** the fraction of each tick the tenant's processing may take (0 < share <= 1) */
  share: number;
  /** samples of the tenant accepted and not yet taken in (held here or inside), past which its ingest gets 503 */
  backlogSamples: number;
}

/**
 * The medium tier's budget. inFlight 4: the tenant's pipeline (supervisor, tenant, services:
 * three hops) stays busy when the node is idle, and another tenant's batch waits behind at
 * most four. share 0.5 of a 100 ms tick: a medium tenant alone gets half a core, the rest is
 * left to the HTTP server, the log and everyone else. backlogSamples 200,000: two seconds of
 * a medium tenant's default rate (100,000/s) may wait before its clients are pushed back.
 */
export const MEDIUM_BUDGET: Readonly<BudgetLimits> = Object.freeze({ inFlight: 4, tickMs: 100, share: 0.5, backlogSamples: 200_000 });

export class TenantBudget<T> {
  private held: T[] = [];
  private head = 0;
  private inside = 0;
  /** processing time left, ms; goes below 0 since time is measured after it is spent */
  private allowance: number;
  private refilledAt: number;

  constructor(readonly limits: BudgetLimits, now: number) {
    this.allowance = this.cap;
    this.refilledAt = now;
  }

  /** Queues a batch; returns what may go to the actors now (it, earlier ones, or nothing). */
  offer(item: T, now: number): T[] {
    this.held.push(item);
    return this.release(now);
  }

  /** A released batch was taken in; returns what may go now. */
  done(now: number): T[] {
    this.inside = Math.max(0, this.inside - 1);
    return this.release(now);
  }

  /** Processing time the tenant just spent. */
  spent(ms: number, now: number): void {
    this.refill(now);
    this.allowance -= ms;
  }

  /** What may go now, oldest first, within both budgets. */
  release(now: number): T[] {
    this.refill(now);
    const out: T[] = [];
    while (this.head < this.held.length && this.inside < this.limits.inFlight && this.allowance > 0) {
      out.push(this.held[this.head]!);
      this.held[this.head++] = undefined as T;
      this.inside++;
    }
    if (this.head === this.held.length) {
      this.held = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.held.length) {
      this.held = this.held.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /**
   * When the processing budget lets a held batch go again; undefined when nothing waits for
   * time (nothing held, or a batch taken in will release the next: see done).
   */
  resumeAt(now: number): number | undefined {
    this.refill(now);
    if (this.waiting === 0 || this.inside >= this.limits.inFlight || this.allowance > 0) return undefined;
    return now + Math.ceil(-this.allowance / this.limits.share) + 1;
  }

  /** Batches held here. */
  get waiting(): number {
    return this.held.length - this.head;
  }

  /** Batches released and not yet taken in. */
  get inFlight(): number {
    return this.inside;
  }

  /** Processing time left in this tick, ms (negative: in debt). */
  get left(): number {
    return this.allowance;
  }

  /** Everything held, oldest first (the queue is emptied). */
  drain(): T[] {
    const out = this.held.slice(this.head);
    this.held = [];
    this.head = 0;
    return out;
  }

  private get cap(): number {
    return this.limits.share * this.limits.tickMs;
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.refilledAt);
    this.refilledAt = Math.max(this.refilledAt, now);
    this.allowance = Math.min(this.cap, this.allowance + dt * this.limits.share);
  }
}
