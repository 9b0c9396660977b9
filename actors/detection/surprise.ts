// The scoring chain every statistical tier shares: a sided deviation (in robust spreads)
// and the raw value in, a calibrated score in [0, 1] out.
//   likelihood  tail probability of the short-term deviation vs the series' own history
//   novelty     a value beyond the whole known range scores `novelty.score`
//   refractory  one alarm per episode
import { scoreFromLogTail } from './calibration.ts';
import { Likelihood, type LikelihoodParams } from './likelihood.ts';
import { RangeNovelty } from './range-novelty.ts';
import { Refractory, type RefractoryParams } from './refractory.ts';
import type { Side } from './sensitivity.ts';

export interface SurpriseParams {
  likelihood: LikelihoodParams;
  /** deviations are capped here before averaging, so one huge spike cannot blind the
   * long-term statistics for weeks */
  cap: number;
  refractory: RefractoryParams;
  /** range novelty: margin (fraction of range), score of a new extreme, warm-up samples,
   * and the least excess over the old extreme, in the model's spreads (noise that
   * happens to set a record by a hair is not news) */
  novelty: { tolerance: number; score: number; warmup: number; minExcess: number };
}

export const SURPRISE_PARAMS: SurpriseParams = {
  likelihood: { shortAlpha: 0.2, longAlpha: 0.0003, warmup: 50, sdFloor: 0.05 },
  cap: 20,
  refractory: { level: 0.7, span: 200, damping: 0.5 },
  novelty: { tolerance: 0.01, score: 1, warmup: 1000, minExcess: 0 },
};

export class Surprise {
  private readonly likelihood: Likelihood;
  private readonly novelty: RangeNovelty;
  private readonly refractory: Refractory;
  /** the last score before refractory damping: the decision uses it, so every anomalous
   * sample of an episode is marked even though only the first one scores high */
  raw = 0;

  constructor(readonly params: SurpriseParams = SURPRISE_PARAMS) {
    this.likelihood = new Likelihood(params.likelihood);
    this.novelty = new RangeNovelty(params.novelty.tolerance, params.novelty.warmup);
    this.refractory = new Refractory(params.refractory);
  }

  /** Scores one finite sample: `deviation` >= 0 from the tier's model (already sided),
   * `value` the sample, `side` the direction that counts, `spread` the model's noise unit. */
  score(deviation: number, value: number, side: Side, spread: number): number {
    const d = deviation < this.params.cap ? deviation : this.params.cap;
    const logTail = this.likelihood.update(d);
    const excess = this.novelty.excess(value, side);
    const novel = excess > 0 && excess >= this.params.novelty.minExcess * spread;
    let raw = scoreFromLogTail(logTail);
    if (novel && raw < this.params.novelty.score) raw = this.params.novelty.score;
    this.raw = raw;
    return this.refractory.apply(raw);
  }

  state(): number[] {
    return [...this.likelihood.state(), ...this.novelty.state(), this.refractory.left];
  }

  restore(s: readonly number[]): this {
    this.likelihood.restore(s.slice(0, 4));
    this.novelty.restore(s.slice(4, 7));
    this.refractory.left = s[7] as number;
    return this;
  }
}
