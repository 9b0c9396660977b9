// Calibrates a statistic into a surprise in decades, log10(1/P(X >= x)), from the series' own
// past (peaks over threshold, as in SPOT, Siffer et al. 2017): the rate of exceeding `level`
// and the mean excess above it are tracked with forgetting; beyond the level the tail is
// exponential, below it the surprise ramps linearly to the level's. An exponential tail is
// heavier than a Gaussian one: a statistic with a heavy tail of its own (a single large
// deviation in an average, noise that is not Gaussian) gets the rarity it really has, not
// the far smaller one a Gaussian tail would claim. A prior (rate e^-level, mean excess 0.5:
// between a Gaussian's ~0.3 and a Laplace's 1) with the weight of ~50 samples makes the first
// estimates sane.

export interface ExceedanceParams {
  /** exceedance level of the statistic */
  level: number;
  /** weight of the newest sample in the rate and excess (forgetting) */
  alpha: number;
}

const PRIOR_WEIGHT = 50;
const MIN_RATE = 1e-4;
/** exceedances teach the tail at most this many mean excesses (Huber on the tail) */
const TAIL_CLIP = 5;

export class ExceedanceTail {
  rate: number;
  excess = 0.5;
  count = 0;

  constructor(readonly params: ExceedanceParams) {
    this.rate = Math.exp(-params.level);
  }

  /** Decades of surprise of x (>= 0). */
  surprise(x: number): number {
    const level = this.params.level;
    const base = -Math.log10(this.rate);
    if (x <= level) return x > 0 ? (base * x) / level : 0;
    return base + (x - level) / (this.excess * Math.LN10);
  }

  learn(x: number): void {
    this.count++;
    const level = this.params.level;
    const a = Math.max(this.params.alpha, 1 / (this.count + PRIOR_WEIGHT));
    const over = x > level;
    this.rate += a * ((over ? 1 : 0) - this.rate);
    if (this.rate < MIN_RATE) this.rate = MIN_RATE;
    // the excess is learnt from exceedances only: its step follows their (expected) count
    // and clipped, so a long anomaly cannot quickly teach that it is normal
    if (over) this.excess += Math.max(20 * a, 1 / (this.count * this.rate + 20)) * (Math.min(x - level, TAIL_CLIP * this.excess) - this.excess);
  }

  state(): number[] {
    return [this.rate, this.excess, this.count];
  }

  restore(s: readonly number[]): this {
    [this.rate, this.excess, this.count] = s as [number, number, number];
    return this;
  }
}
