// A series' sampling step, learnt from its first timestamps (the median of the first 16
// positive gaps), and how many steps each new sample lies after the previous one: what
// lets a model count a gap as the time that passed rather than as one more sample.
import { medianStep } from './seasonality.ts';

/** gaps used to learn the step */
const STEP_GAPS = 16;
/** the time a surprise is judged over: a daily profile's finest phase (5 minutes) */
export const SURPRISE_UNIT_MS = 300_000;

export class TimeStep {
  /** ms per step (NaN until learnt) */
  step = NaN;
  /** data time of the last readable timestamp (NaN: none yet) */
  last = NaN;
  private stamps: number[] = [];
  /** decades a per-sample surprise gives up to be per SURPRISE_UNIT_MS: log10(unit/step)
   * for series sampled finer than that, 0 otherwise (and while the step is unknown) */
  lookElsewhere = 0;

  /** Steps between the previous readable sample and `timestamp` (1 while the step is
   * unknown, for unreadable, repeated or backward time); learns the timestamp. */
  advance(timestamp: number): number {
    const last = this.last;
    // the common case first: time moves on and the step is known (NaN compares false)
    if (timestamp > last && timestamp < Infinity) {
      this.last = timestamp;
      const step = this.step;
      if (step === step) {
        const steps = (timestamp - last) / step;
        return steps > 1 ? steps : 1;
      }
      this.learn(timestamp);
      return 1;
    }
    if (!Number.isFinite(timestamp)) return 1;
    if (Number.isNaN(last)) this.last = timestamp;
    if (Number.isNaN(this.step)) this.learn(timestamp);
    return 1;
  }

  private learn(timestamp: number): void {
    this.stamps.push(timestamp);
    if (this.stamps.length <= STEP_GAPS) return;
    const step = medianStep(this.stamps);
    this.step = step > 0 ? step : Infinity; // no usable time: every sample is one step
    this.stamps = [];
    this.lookElsewhere = lookElsewhere(this.step);
  }

  /** [step, last, ...stamps]; NaN and Infinity become null on their way through JSON, and
   * restore() reads null as NaN (an unusable step is then learnt again, as unusable). */
  state(): number[] {
    const out = [this.step, this.last];
    for (const t of this.stamps) out.push(t);
    return out;
  }

  restore(s: ReadonlyArray<number | null>): this {
    this.step = orNaN(s[0]);
    this.last = orNaN(s[1]);
    this.stamps = s.slice(2).map(orNaN);
    this.lookElsewhere = lookElsewhere(this.step);
    return this;
  }
}

function lookElsewhere(step: number): number {
  return step > 0 && step < SURPRISE_UNIT_MS ? Math.log10(SURPRISE_UNIT_MS / step) : 0;
}

function orNaN(v: number | null | undefined): number {
  return v === null || v === undefined ? NaN : v;
}
