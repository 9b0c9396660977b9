// The host of the tenants' budgets (budget.ts): the door between the shard hosts and the
// tenants supervisor. A tenant without a budget (small) goes straight through, as before;
// a tenant with one (medium) has its batches queued in its own TenantBudget and handed on as
// its budgets allow. A batch counts as inside until every service has taken its part in
// (its receipt settled); the detectors of a budgeted tenant report the time they take.
// The outer receipt (the ingest backlog's) stays open while a batch is held, so the
// tenant's backlog grows and its own ingest is refused first.
import type { Clock, TimerHandle } from '../runtime/index.ts';
import { aroundUpdates, type DetectorFactory } from '../service/index.ts';
import { IngestReceipt } from '../ingest-receipt.ts';
import { TenantBudget, type BudgetLimits } from './budget.ts';
import type { TenantMsg } from './tenant-actor.ts';

type Ingest = Extract<TenantMsg, { type: 'ingest' }>;

export interface BudgetGatesDeps {
  clock: Clock;
  /** the tenant's budget; undefined: none (a small tenant, or a large one on its own nodes) */
  limitsOf(tenant: string): BudgetLimits | undefined;
  /** hands a message to the tenant's actors (the tenants supervisor) */
  tell(tenant: string, msg: TenantMsg): void;
  /** a monotonic ms reading for processing time (default performance.now) */
  elapsed?: () => number;
}

interface Gate {
  budget: TenantBudget<Ingest>;
  timer?: TimerHandle;
}

export interface GateView {
  tenant: string;
  waiting: number;
  inFlight: number;
  leftMs: number;
}

export class BudgetGates {
  private readonly gates = new Map<string, Gate>();
  /** per tenant whose detectors were asked for: whether they report their time */
  private readonly meters = new Map<string, { on: boolean }>();
  private readonly elapsed: () => number;
  private stopped = false;

  constructor(private readonly deps: BudgetGatesDeps) {
    this.elapsed = deps.elapsed ?? (() => performance.now());
  }

  /** An ingest goes through the tenant's budget, if it has one; anything else goes straight on. */
  deliver(tenant: string, msg: TenantMsg): void {
    if (msg.type !== 'ingest') {
      this.deps.tell(tenant, msg);
      return;
    }
    const gate = this.gateOf(tenant);
    if (!gate) {
      this.deps.tell(tenant, msg);
      return;
    }
    this.send(tenant, gate, gate.budget.offer(msg, this.deps.clock.now()));
  }

  /**
   * The tenant's detectors, reporting the time they take to its budget while it has one. A
   * tenant's actor spawns once, so every tenant's are wrapped: one that becomes medium while
   * running is metered from its next batch, and one without a budget pays a flag read.
   */
  detectorsOf(tenant: string, detectors: DetectorFactory): DetectorFactory {
    const meter = this.meterOf(tenant);
    const spent = (ms: number): void => this.gates.get(tenant)?.budget.spent(ms, this.deps.clock.now());
    const elapsed = this.elapsed;
    return aroundUpdates(detectors, (d, ts, value) => {
      if (!meter.on) return d.update(ts, value);
      const t0 = elapsed();
      try {
        return d.update(ts, value);
      } finally {
        spent(elapsed() - t0);
      }
    });
  }

  /** Each budgeted tenant's queue, inside count and time left (for /metrics and tests). */
  views(): GateView[] {
    return [...this.gates].map(([tenant, g]) => ({ tenant, waiting: g.budget.waiting, inFlight: g.budget.inFlight, leftMs: g.budget.left }));
  }

  /**
   * Stops the timers. Held batches are left as they are: their receipts stay open, so the
   * shard's watermark stays below them and the next start reads them from the log again.
   */
  stop(): void {
    this.stopped = true;
    for (const g of this.gates.values()) if (g.timer) this.deps.clock.clearTimeout(g.timer);
  }

  /** Whether the tenant's detectors report their time (it has a budget now). */
  private meterOf(tenant: string): { on: boolean } {
    let meter = this.meters.get(tenant);
    if (!meter) this.meters.set(tenant, (meter = { on: this.deps.limitsOf(tenant) !== undefined }));
    return meter;
  }

  private gateOf(tenant: string): Gate | undefined {
    const gate = this.gates.get(tenant);
    // a budget in use keeps its limits until it is idle, so the tenant's batches stay in order
    if (gate && (gate.budget.waiting > 0 || gate.budget.inFlight > 0)) return gate;
    const limits = this.deps.limitsOf(tenant);
    this.meterOf(tenant).on = limits !== undefined;
    if (gate && limits && sameLimits(gate.budget.limits, limits)) return gate;
    if (gate?.timer) this.deps.clock.clearTimeout(gate.timer);
    this.gates.delete(tenant);
    if (!limits) return undefined;
    const next: Gate = { budget: new TenantBudget<Ingest>(limits, this.deps.clock.now()) };
    this.gates.set(tenant, next);
    return next;
  }

  private send(tenant: string, gate: Gate, batches: readonly Ingest[]): void {
    if (this.stopped) return; // after stop nothing leaves a budget: what it holds is in the log
    for (const m of batches) this.deps.tell(tenant, this.tracked(tenant, m));
    this.arm(tenant, gate);
  }

  /** Sets the timer for when the processing budget lets the next held batch go. */
  private arm(tenant: string, gate: Gate): void {
    if (this.stopped || gate.timer) return;
    const now = this.deps.clock.now();
    const at = gate.budget.resumeAt(now);
    if (at === undefined) return;
    gate.timer = this.deps.clock.setTimeout(() => {
      gate.timer = undefined;
      if (this.gates.get(tenant) === gate) this.send(tenant, gate, gate.budget.release(this.deps.clock.now()));
    }, at - now);
  }

  /** The batch with a receipt of its own: once every part is taken in, the outer one settles and the budget hears. */
  private tracked(tenant: string, msg: Ingest): Ingest {
    let n = 0;
    for (const s of msg.series) n += s.samples.length;
    const outer = msg.receipt;
    const done = (): void => {
      const gate = this.gates.get(tenant);
      if (gate) this.send(tenant, gate, gate.budget.done(this.deps.clock.now()));
    };
    if (n === 0 || !outer) {
      // nothing to take in: it costs its hops only, so it leaves the count at once
      queueMicrotask(done);
      return msg;
    }
    let open = n;
    const inner = new IngestReceipt(n, (k) => {
      open -= k;
      if (open > 0) return;
      outer.settle();
      done();
    });
    outer.track(inner.stored);
    return { ...msg, receipt: inner };
  }
}

const sameLimits = (a: BudgetLimits, b: BudgetLimits): boolean =>
  a.inFlight === b.inFlight && a.tickMs === b.tickMs && a.share === b.share && a.backlogSamples === b.backlogSamples;
