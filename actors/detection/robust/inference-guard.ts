// Guards the learnt model on the hot path with the one circuit breaker of the house
// (supervisors/breakers: DESIGN.md's ml_inference, 5 failures to open, 2 probes to close,
// 30 s open; its fallback is the statistical score, degradation level L1). No second
// mechanism: this file only decides what one guarded call is.
//
// One guarded call is a block of model calls, never a sample, so the per-sample path sends
// the breaker no event: a block starts with `allows()` (a read) and `tryAcquire()`, and ends
// with one outcome: a throw or a non-finite answer fails it at once; otherwise it succeeds
// after ROBUST.modelTimingEvery calls, or fails as an overrun if the time spent inside those
// calls (summed per call, never the block's span: a series sampled every 10 s would span 43
// minutes) passed the time budget (only with an injected clock: a kernel has no clock of its
// own, and without one a replay is exact whatever the machine's speed). While the breaker is half-open a block
// is a short probe (ROBUST.modelProbeCalls calls, judged on answers, not on time), so a
// shared breaker closes after two series answered, not after two series saw 256 samples each.
//
// Whose breaker: in a node, the node's `ml_inference` (registered with its NodeHealth, so a
// failing model takes the node to L1 and operators can force it), shared by every Robust
// detector there (the model runtime is one per node). Alone (`vigil detect`, benches, tests),
// the guard owns a LeanBreaker whose time is the detector's sample count, one sample a second
// (so the design's 30 s open is 30 samples): exact on replay like everything in a kernel, and a
// model that stays broken costs one failed call per ~31 samples whatever the data's rate
// (on the samples' timestamps, 5-minute data would probe at every sample). Carried in its snapshot.
import { BREAKERS, LeanBreaker, REJECTED, type Breaker, type BreakerSnapshot } from '../../../supervisors/index.ts';
import { ROBUST } from './params.ts';
import type { ResidualModel } from './residual-model.ts';

export type Degradation = 'L0' | 'L1';

/** The own breaker's clock: one sample is one second of its time. */
const SAMPLE_MS = 1_000;

export interface GuardOptions {
  /** the host's clock (ms) for the time budget; without one the budget is not enforced */
  clock?: () => number;
  /** a breaker owned by the host (the node's ml_inference); absent: one of the guard's own on data time */
  breaker?: Breaker;
  /** whether the host's level lets the model run (read per call: the level may be held at L1+ by
   * other faults or an operator while this breaker is closed); absent: always */
  allowed?: () => boolean;
}

/** What a guard carries in a snapshot (version 1 was an array, restored as counts only). */
export interface InferenceGuardState {
  version: 2;
  /** the guard's own breaker; null when the breaker is the host's */
  breaker: BreakerSnapshot | null;
  failures: number;
  overruns: number;
}

export class InferenceGuard {
  failures = 0;
  overruns = 0;
  private readonly breaker: Breaker;
  private readonly own: LeanBreaker | undefined;
  private readonly clock: (() => number) | undefined;
  private readonly allowed: (() => boolean) | undefined;
  /** the detector's sample count at the latest call (the own breaker's time, in seconds) */
  private n = 0;
  /** calls made in the current block (0: no block), the block's length, spell and time spent in calls (ms) */
  private calls = 0;
  private length = 0;
  private epoch = REJECTED;
  private spent = 0;

  constructor(options: GuardOptions = {}) {
    this.clock = options.clock;
    this.allowed = options.allowed;
    if (options.breaker) this.breaker = options.breaker;
    else this.breaker = this.own = new LeanBreaker('ml_inference', BREAKERS.ml_inference, { now: () => this.n * SAMPLE_MS });
  }

  /** The model's error for `window` at sample `n`, or undefined: no model, circuit open, level says no, or it failed. */
  run(model: ResidualModel | undefined, window: Float64Array, n: number): number | undefined {
    if (model === undefined) return undefined;
    this.n = n;
    if (this.allowed !== undefined && !this.allowed()) {
      this.calls = 0; // drop the block: nobody waits for a closed circuit's block
      return undefined;
    }
    const b = this.breaker;
    if (this.calls === 0) {
      if (!b.allows()) return undefined;
      const epoch = b.tryAcquire();
      if (epoch === REJECTED) return undefined;
      this.epoch = epoch;
      this.length = b.state === 'halfOpen' ? ROBUST.modelProbeCalls : ROBUST.modelTimingEvery;
      this.spent = 0;
    }
    const clock = this.clock;
    const t0 = clock === undefined ? 0 : clock();
    let out: number;
    try {
      out = model.error(window);
    } catch {
      out = NaN;
    }
    // a millisecond clock reads most calls as 0 and a few as 1: the sum over a block is still fair
    if (clock !== undefined) this.spent += clock() - t0;
    if (!Number.isFinite(out)) {
      this.failures++;
      this.calls = 0;
      b.onFailure(this.epoch);
      return undefined;
    }
    if (++this.calls === this.length) this.endBlock();
    return out;
  }

  private endBlock(): void {
    const b = this.breaker;
    const calls = this.calls;
    this.calls = 0;
    if (this.clock === undefined || calls !== ROBUST.modelTimingEvery) {
      b.onSuccess(this.epoch, 0);
      return;
    }
    const ms = this.spent;
    if ((ms * 1000) / calls > ROBUST.modelBudgetMicros) {
      this.overruns++;
      b.onFailure(this.epoch, ms);
    } else b.onSuccess(this.epoch, ms);
  }

  /** L0 while a model exists and its breaker is closed (or disabled by an operator); L1 otherwise. */
  level(model: ResidualModel | undefined): Degradation {
    if (model === undefined) return 'L1';
    const s = this.breaker.state;
    return (s === 'closed' || s === 'disabled') && (this.allowed === undefined || this.allowed()) ? 'L0' : 'L1';
  }

  get breakerState(): Breaker['state'] {
    return this.breaker.state;
  }

  state(): InferenceGuardState {
    return { version: 2, breaker: this.own ? this.own.snapshot() : null, failures: this.failures, overruns: this.overruns };
  }

  /** Takes up a snapshot; a block in progress is not carried (the next call starts one). */
  restore(s: InferenceGuardState | readonly number[]): this {
    if (Array.isArray(s)) {
      // version 1: [benchedUntil, failures, overruns, calls, started]; the bench is not carried
      this.failures = Number(s[1]) || 0;
      this.overruns = Number(s[2]) || 0;
      return this;
    }
    const v = s as InferenceGuardState;
    if (v.version !== 2) throw new RangeError(`robust: cannot restore inference guard version ${String(v.version)}`);
    this.failures = v.failures;
    this.overruns = v.overruns;
    if (this.own && v.breaker) this.own.restore(v.breaker);
    return this;
  }
}
