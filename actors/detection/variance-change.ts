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

  constructor(readonly params: VarianceParams) {}

  /** log P(noise this low) (<= 0) for finite sample `x` at `timestamp`, `steps` sampling
   * steps of `stepMs` after the previous one. */
  update(x: number, timestamp: number, steps: number, stepMs: number): number {
    const prev = this.prev;
    this.prev = x;
    if (this.start !== this.start && timestamp === timestamp) this.start = timestamp;
    if (prev !== prev || steps > this.params.maxSteps) return 0;
    const p = this.params;
    const step = stepMs > 0 && stepMs < Infinity ? stepMs : DEFAULT_STEP_MS;
    const r = x >= prev ? x - prev : prev - x;
    const n = ++this.count;
    const a = Math.max(Math.min(step / p.spanMs, 1 / p.minSamples), 1 / n);
    this.noise += a * (r - this.noise);
    const b = Math.max(step / p.longSpanMs, 1 / n);
    this.scale += b * (r - this.scale);
    const f = Math.log(this.noise + 1e-3 * this.scale + 1e-12);
    let logTail = 0;
    if (timestamp - this.start >= p.warmupMs) {
      const sd = Math.sqrt(Math.max(this.meanSq - this.mean * this.mean, p.sdFloor * p.sdFloor));
      const k = (this.mean - f) / sd;
      if (k > 0) logTail = logUpperTail(k);
    }
    // the long-term statistics take the newest value only after it was judged (causal)
    this.mean += b * (f - this.mean);
    this.meanSq += b * (f * f - this.meanSq);
    return logTail;
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
