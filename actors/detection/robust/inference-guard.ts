// Guards the learnt model on the hot path: a throw, a non-finite answer or a time-budget
// overrun (checked over blocks of calls, so the clock is read rarely) switches the tier to
// its statistical score (degradation level L1) for a cooldown, after which the model is tried
// again. The budget is enforced only with an injected clock (the host's Clock): a kernel has
// no clock of its own, and without one a replay is exact whatever the machine's speed.
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

  constructor(private readonly clock?: () => number) {}

  /** The model's error for `window`, or undefined when it is benched or fails at sample `n`. */
  run(model: ResidualModel | undefined, window: Float64Array, n: number): number | undefined {
    if (model === undefined || n < this.benchedUntil) return undefined;
    const clock = this.clock;
    if (clock !== undefined && this.calls === 0) this.started = clock();
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
    if (clock !== undefined && ++this.calls === ROBUST.modelTimingEvery) {
      const micros = ((clock() - this.started) * 1000) / this.calls;
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
    return [this.benchedUntil, this.failures, this.overruns, this.calls, this.started];
  }

  restore(s: readonly number[]): this {
    [this.benchedUntil, this.failures, this.overruns, this.calls, this.started] = s as [number, number, number, number, number];
    return this;
  }
}
