// A series that goes quiet: its noise falls far below what its own history shows. The
// local noise is the running mean of |x_t - x_(t-1)| over the last `spanMs` of data time
// (whatever the level, so a season or a trend does not move it much); its log is compared
// with the long-term mean and spread of that same log, and the lower tail is the surprise.
// A stuck sensor, an exporter repeating its last value, a service that stopped serving and
// reports a flat line: every sample lies within the model's bounds, yet the series has
// changed. (A rise of noise is the likelihood's: a run of larger deviations raises its
// short-term average. Scoring that side here too was measured and added only false alarms.)
import { logUpperTail } from './tail.ts';

export interface VarianceParams {
  /** data time the local noise averages over (ms), and the least number of differences:
   * the log of one or two differences of an hourly series has a fat lower tail (a single
   * near-repeat is not a flat line) */
  spanMs: number;
  minSamples: number;
  /** data time the long-term statistics of the log-noise remember (ms) */
  longSpanMs: number;
  /** data time from the first sample before the long-term statistics are trusted (ms) */
  warmupMs: number;
  /** floor of the long-term sd of the log-noise (nats) */
  sdFloor: number;
  /** a difference across a gap of more than this many steps is not a sample of the noise */
  maxSteps: number;
}

/** sampling step assumed while the step is unknown or unusable */
const DEFAULT_STEP_MS = 300_000;

export class VarianceChange {
  /** the previous finite sample (NaN: none) */
  prev = NaN;
  /** local mean |difference| */
  noise = 0;
  /** long-term mean |difference|: the log's floor is relative to it (a flat line has noise 0) */
  scale = 0;
  /** long-term mean and mean square of the log-noise */
  mean = 0;
  meanSq = 0;
  /** differences seen, and the data time of the first sample (NaN: none yet) */
  count = 0;
  start = NaN;
  /** the weights for the step they were computed for (derived, not state) */
  private rateStep = NaN;
  private alpha = 0;
  private longAlpha = 0;

  constructor(readonly params: VarianceParams) {}

  /** log P(noise this low) (<= 0) for finite sample `x` at `timestamp`, `steps` sampling
   * steps of `stepMs` after the previous one. Tails under 3 sds (p > 1e-3, a score under
   * 0.3) are not computed: they never decide anything, and this runs on every sample. */
  update(x: number, timestamp: number, steps: number, stepMs: number): number {
    const prev = this.prev;
    this.prev = x;
    if (this.start !== this.start && timestamp === timestamp) this.start = timestamp;
    if (prev !== prev || steps > this.params.maxSteps) return 0;
    if (stepMs !== this.rateStep) this.rates(stepMs);
    const r = x >= prev ? x - prev : prev - x;
    const n = ++this.count;
    // count-weighted means until 1/n falls below the weights (no division after that)
    const a = n * this.alpha > 1 ? this.alpha : 1 / n;
    const b = n * this.longAlpha > 1 ? this.longAlpha : 1 / n;
    this.noise += a * (r - this.noise);
    this.scale += b * (r - this.scale);
    const f = Math.log(this.noise + 1e-3 * this.scale + 1e-12);
    const mean = this.mean;
    let logTail = 0;
    const below = mean - f;
    if (below > 0) {
      const floor = this.params.sdFloor;
      const v = this.meanSq - mean * mean;
      const variance = v > floor * floor ? v : floor * floor;
      // more than 3 sds below, compared squared: the root only for the rare sample that is
      if (below * below > 9 * variance && timestamp - this.start >= this.params.warmupMs) logTail = logUpperTail(below / Math.sqrt(variance));
    }
    // the long-term statistics take the newest value only after it was judged (causal)
    this.mean += b * (f - mean);
    this.meanSq += b * (f * f - this.meanSq);
    return logTail;
  }

  /** The weights for a sampling step (an unknown or unusable step counts as 5 minutes). */
  private rates(stepMs: number): void {
    const p = this.params;
    const step = stepMs > 0 && stepMs < Infinity ? stepMs : DEFAULT_STEP_MS;
    this.rateStep = stepMs;
    this.alpha = Math.min(step / p.spanMs, 1 / p.minSamples);
    this.longAlpha = step / p.longSpanMs;
  }

  /** [prev, noise, scale, mean, meanSq, count, start]; NaN travels as null. */
  state(): Array<number | null> {
    return [this.prev, this.noise, this.scale, this.mean, this.meanSq, this.count, this.start].map((v) => (Number.isNaN(v) ? null : v));
  }

  restore(s: ReadonlyArray<number | null>): this {
    const [prev, noise, scale, mean, meanSq, count, start] = s.map((v) => (v === null ? NaN : v)) as number[];
    Object.assign(this, { prev, noise, scale, mean, meanSq, count, start });
    return this;
  }
}
