// How surprising is the recent deviation, given this series' own history of deviations?
// After Numenta's anomaly likelihood: a short-term average of the per-sample deviation is
// compared with the long-term distribution of that same average, and the tail probability
// of the current value is the surprise. Averaging makes a run of moderate deviations (a
// variance change) as visible as one large one (a spike), and comparing with the series'
// own history makes the result mean the same thing on every series (calibration).
import { logUpperTail } from './tail.ts';

export interface LikelihoodParams {
  /** weight of the newest deviation in the short-term average */
  shortAlpha: number;
  /** weight of the newest short-term average in the long-term mean and variance */
  longAlpha: number;
  /** samples before the long-term distribution is trusted (surprise 0 until then) */
  warmup: number;
  /** floor on the long-term standard deviation, in deviation units (flat series) */
  sdFloor: number;
}

export class Likelihood {
  short = 0;
  mean = 0;
  meanSq = 0;
  count = 0;

  constructor(readonly params: LikelihoodParams) {}

  /** Takes the newest deviation (>= 0), `steps` sampling steps after the previous one, and
   * returns log P(average this high) (<= 0). The short-term average spans time: across a
   * gap it relaxes towards the long-term mean as the missing samples would have moved it,
   * so an old spike's trace does not outlive a day of missing data. */
  update(deviation: number, steps = 1): number {
    const p = this.params;
    if (steps > 1 && this.count > 0) this.short = this.mean + (this.short - this.mean) * (1 - p.shortAlpha) ** (steps - 1);
    const u = (this.short += p.shortAlpha * (deviation - this.short));
    const n = ++this.count;
    let logTail = 0;
    if (n > p.warmup) {
      const sd = Math.sqrt(Math.max(this.meanSq - this.mean * this.mean, p.sdFloor * p.sdFloor));
      const k = (u - this.mean) / sd;
      if (k > 0) logTail = logUpperTail(k);
    }
    // the long-term statistics include the newest average only after it was judged (causal)
    const a = Math.max(p.longAlpha, 1 / n);
    this.mean += a * (u - this.mean);
    this.meanSq += a * (u * u - this.meanSq);
    return logTail;
  }

  state(): number[] {
    return [this.short, this.mean, this.meanSq, this.count];
  }

  restore(s: readonly number[]): this {
    [this.short, this.mean, this.meanSq, this.count] = s as [number, number, number, number];
    return this;
  }
}
