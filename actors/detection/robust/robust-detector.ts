// The Robust tier: a robust seasonal-trend baseline, four statistical channels on its
// residuals (spike, level shift, variance change, new extreme), each calibrated against the
// series' own history into a surprise (−log10 p), plus the learnt residual model's surprise
// when it is healthy. The largest surprise becomes the score in [0, 1]; episodes keep one
// incident to one alarm. See README.md for the handling of odd input.
import type { Detector, DetectorSnapshot, Sensitivity } from '../detector.ts';
import { resolveSensitivity, sided, type ResolvedSensitivity } from '../sensitivity.ts';
import { Cadence } from './cadence.ts';
import { Episode } from './episode.ts';
import { ExceedanceTail } from './exceedance-tail.ts';
import { Extremes } from './extremes.ts';
import type { Degradation } from './inference-guard.ts';
import { ROBUST } from './params.ts';
import { ModelChannel, type ModelChannelState } from './residual-model-channel.ts';
import type { ModelRuntime } from './residual-model.ts';
import { ResidualWindow } from './residual-window.ts';
import { robustRuntime } from './runtime.ts';
import { SeasonalTrend } from './seasonal-trend.ts';
import { pack, unpack, type Packed } from './codec.ts';


export interface RobustOptions {
  /** model runtime (trainer, model builder); default: the process runtime (configureRobust) */
  runtime?: ModelRuntime;
  /** the host's clock (ms) for the inference time budget; without one the budget is not enforced */
  clock?: () => number;
}

export interface RobustSnapshot extends DetectorSnapshot {
  tier: 'robust';
  version: 2;
  sensitivity: ResolvedSensitivity;
  n: number;
  expected: number | string;
  cadence: Packed;
  trend: { level: number | string; scale: number; seen: number; season: number[]; visited: number[] };
  tails: number[][];
  window: number[];
  extremes: Packed;
  episode: number[];
  model: ModelChannelState;
}

export class RobustDetector implements Detector {
  readonly tier = 'robust' as const;
  anomalous = false;
  expected = NaN;
  /** samples learnt from (finite values only) */
  n = 0;
  private readonly cadence = new Cadence();
  private trend = new SeasonalTrend(0);
  private readonly tails = [new ExceedanceTail(), new ExceedanceTail(), new ExceedanceTail()];
  private readonly window = new ResidualWindow();
  private readonly extremes = new Extremes();
  private readonly episode = new Episode();
  private readonly model: ModelChannel;
  private readonly stats = new Float64Array(3);

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    options: RobustOptions = {},
  ) {
    this.model = new ModelChannel(options.runtime ?? robustRuntime(), options.clock);
  }

  /** L0 while the learnt model scores, L1 while the tier runs on statistics alone. */
  get degradation(): Degradation {
    return this.model.degradation(this.n);
  }

  /** Model health counters (for metrics and tests). */
  get modelHealth(): { trainings: number; trainFailures: number; inferenceFailures: number; overruns: number } {
    const g = this.model.guard;
    return { trainings: this.model.trainings, trainFailures: this.model.trainFailures, inferenceFailures: g.failures, overruns: g.overruns };
  }

  update(timestamp: number, value: number): number {
    // NaN / ±Infinity carry no information: score 0, nothing learnt, no decision
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      return 0;
    }
    if (this.cadence.observe(timestamp) && this.cadence.period > 0) this.trend = this.trend.withPeriod(this.cadence.period);
    const phase = this.cadence.phase(timestamp);
    const n = ++this.n;
    const predicted = this.trend.predict(phase);
    const expected = Number.isNaN(predicted) ? value : predicted;
    this.expected = expected;
    const residual = value - expected;
    const spread = this.trend.spread(value);
    const z = residual / spread;
    this.trend.learn(value, phase, residual);

    this.window.push(z);
    const stats = this.window.statistics(z, this.stats);
    let surprise = this.extremes.surprise(value, n > ROBUST.extremesFrom);
    for (let k = 0; k < 3; k++) {
      const tail = this.tails[k] as ExceedanceTail;
      const s = tail.surprise(stats[k] as number);
      if (s > surprise) surprise = s;
      if (n > ROBUST.tailFrom) tail.learn(stats[k] as number);
    }
    const learnt = this.model.surprise(z, n);
    if (learnt !== undefined && learnt > surprise) surprise = learnt;

    const raw = n < ROBUST.warmup ? 0 : 1 - Math.exp(-surprise / ROBUST.surpriseScale);
    const score = this.episode.apply(raw);
    const s = this.sensitivity;
    this.anomalous = score >= s.threshold && sided(residual / spread, s.direction) >= s.deviations;
    return score;
  }

  snapshot(): RobustSnapshot {
    const t = this.trend.state();
    return {
      tier: 'robust',
      version: 2,
      sensitivity: this.sensitivity,
      n: this.n,
      expected: pack([this.expected])[0] as number | string,
      cadence: pack(this.cadence.state()),
      trend: { ...t, level: pack([t.level])[0] as number | string },
      tails: this.tails.map((x) => x.state()),
      window: this.window.state(),
      extremes: pack(this.extremes.state()),
      episode: this.episode.state(),
      model: this.model.state(),
    };
  }

  static restore(snapshot: DetectorSnapshot, options: RobustOptions = {}): RobustDetector {
    if (snapshot.tier !== 'robust' || snapshot.version !== 2) throw new RangeError(`robust: cannot restore snapshot version ${String(snapshot.version)}`);
    const s = snapshot as RobustSnapshot;
    const d = new RobustDetector(resolveSensitivity(s.sensitivity, ROBUST.deviations), options);
    d.n = s.n;
    d.expected = unpack([s.expected])[0] as number;
    d.cadence.restore(unpack(s.cadence));
    d.trend = SeasonalTrend.restore(d.cadence.period, { ...s.trend, level: unpack([s.trend.level])[0] as number });
    s.tails.forEach((x, k) => (d.tails[k] as ExceedanceTail).restore(x));
    d.window.restore(s.window);
    d.extremes.restore(unpack(s.extremes));
    d.episode.restore(s.episode);
    d.model.restore(s.model);
    return d;
  }
}

export function createRobust(sensitivity?: Sensitivity, options?: RobustOptions): RobustDetector {
  const withDefault = { ...sensitivity, threshold: sensitivity?.threshold ?? ROBUST.threshold };
  return new RobustDetector(resolveSensitivity(withDefault, ROBUST.deviations), options);
}
