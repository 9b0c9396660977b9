// Guards the learnt model on the hot path: a throw, a non-finite answer or a time-budget
// overrun (checked over blocks of calls, so the clock is read rarely) switches the tier to
// its statistical score (degradation level L1) for a cooldown, after which the model is tried
// again. Time only ever degrades, never changes a score, so replay stays exact while the
// model is healthy.
import { ROBUST } from './params.ts';
import type { ResidualModel } from './residual-model.ts';

export type Degradation = 'L0' | 'L1';

export class InferenceGuard {
  /** sample count until which the model is benched (exclusive) */
  benchedUntil = 0;
  failures = 0;
  overruns = 0;
  private calls = 0;
  private started = 0;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** The model's error for `window`, or undefined when it is benched or fails at sample `n`. */
  run(model: ResidualModel | undefined, window: Float64Array, n: number): number | undefined {
    if (model === undefined || n < this.benchedUntil) return undefined;
    if (this.calls === 0) this.started = this.clock();
    let out: number;
    try {
      out = model.error(window);
    } catch {
      this.failures++;
      this.bench(n);
      return undefined;
    }
    if (!Number.isFinite(out)) {
      this.failures++;
      this.bench(n);
      return undefined;
    }
    if (++this.calls === ROBUST.modelTimingEvery) {
      const micros = ((this.clock() - this.started) * 1000) / this.calls;
      this.calls = 0;
      if (micros > ROBUST.modelBudgetMicros) {
        this.overruns++;
        this.bench(n);
      }
    }
    return out;
  }

  level(model: ResidualModel | undefined, n: number): Degradation {
    return model !== undefined && n >= this.benchedUntil ? 'L0' : 'L1';
  }

  private bench(n: number): void {
    this.benchedUntil = n + ROBUST.modelCooldown;
    this.calls = 0;
  }

  state(): number[] {
    return [this.benchedUntil, this.failures, this.overruns];
  }

  restore(s: readonly number[]): this {
    [this.benchedUntil, this.failures, this.overruns] = s as [number, number, number];
    return this;
  }
}
