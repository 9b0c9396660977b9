// Agile tier: a robust, quickly adapting seasonal predictor (seasonal-level.ts) whose period
// is found automatically (seasonality.ts), scored on its errors by the shared surprise chain.
// Life of a series:
//  1. warm-up: samples are scored against a plain robust level (no season) and buffered
//     on the series' time grid (the step is the median gap of the first 16 samples);
//  2. once the grid spans three cycles of the longest calendar period that fits in
//     `warmCap` slots, the period is chosen, the seasonal profile is initialised from the
//     buffered cycles, the model replays the grid, and the buffer is dropped.
// Phase comes from the timestamp on the series' own step, so gaps keep the phase aligned.
// A series sampled finer than 5 minutes is buffered and seasoned on a coarse grid of
// 5-minute buckets instead (phase-grid.ts); it is still scored sample by sample.
// A daily season gains a weekly layer (weekly.ts): tested on the series' first three weeks
// after the day is found (and on each three weeks after that until one shows a week), then
// added to the prediction.
import type { Tier } from '../../protocols/types.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { DAY, HOUR, WEEK, findPeriod, medianStep, PERIOD_TEST, type PeriodTest } from './seasonality.ts';
import { BucketMeans, gridUnit } from './phase-grid.ts';
import { SeasonalLevel, type SeasonalLevelParams } from './seasonal-level.ts';
import { AGILE_DEVIATIONS, resolveSensitivity, sided, type ResolvedSensitivity } from './sensitivity.ts';
import { Surprise, SURPRISE_PARAMS, surpriseFor, type SurpriseParams } from './surprise.ts';
import { WeeklyLayer, WEEKLY_PARAMS, type WeeklyParams, type WeeklyState } from './weekly.ts';

export interface AgileParams {
  model: SeasonalLevelParams;
  surprise: SurpriseParams;
  period: PeriodTest;
  /** most slots buffered while looking for the period (periods that do not fit `cycles`
   * times are not candidates) */
  warmCap: number;
  /** cycles of a candidate period the buffer must hold before it is tested */
  cycles: number;
  /** the weekly layer over a daily season; null: none (the model before version 4) */
  weekly: WeeklyParams | null;
}

export const AGILE_PARAMS: AgileParams = {
  model: { levelAlpha: 0.05, seasonGamma: 0.1, spreadAlpha: 0.005, clip: 4, shiftBound: 4, shiftRun: 6 },
  surprise: SURPRISE_PARAMS,
  period: PERIOD_TEST,
  warmCap: 2048,
  cycles: 3,
  weekly: WEEKLY_PARAMS,
};

/** 4: a daily season carries its weekly layer (`weekly`; a version-3 daily season starts
 * one, buffering from its next sample), and every series its drift channel (`drift`;
 * started afresh from a version-3 snapshot).
 * 3: the refractory span is data time (the surprise state gains its end).
 * 2: the clock adds the grid unit, the position on it, the early test and the recent
 * level (coarse grid); a coarse warm-up buffer travels as `buckets`. Versions 1 (native
 * grid only) and 2 still restore. */
const VERSION = 4;
/** samples used to learn the sampling step */
const STEP_SAMPLES = 16;

export class AgileDetector implements Detector {
  readonly tier: Tier = 'agile';
  anomalous = false;
  expected = 0;
  /** After update(): the signed error in spreads, before siding (0 for a non-finite value).
   * Read by tiers built on this kernel (Robust feeds it to its learnt residual model). */
  deviation = 0;
  /** After update(): the score came from the series going quiet (its noise fell), which is
   * anomalous without a deviation beyond the bound (surprise.ts). */
  fromNoise = false;
  /** After update(): the score came from a slow drift of the level (drift.ts), anomalous
   * without a deviation beyond the bound. */
  fromDrift = false;
  private model: SeasonalLevel;
  private surprise: Surprise;
  /** warm-up: the first samples until the step is known, then values on the step grid
   * (one number per slot, NaN where none came); both dropped once the period is chosen */
  private early: { stamps: number[]; values: number[] } | undefined = { stamps: [], values: [] };
  private grid: Float64Array | undefined;
  /** coarse grid only: bucket means while looking for the period */
  private buckets: BucketMeans | undefined;
  /** sampling step in ms, origin of the phase grid, slot of the last sample */
  private step = NaN;
  private origin = NaN;
  private slot = -1;
  /** samples the buffer must span before the period is chosen */
  private needed = 0;
  /** ms per grid slot: the step, or a coarse bucket when the step is finer (phase-grid.ts) */
  private unit = NaN;
  /** coarse grid: the position of the last sample in (fractional) buckets */
  private pos = 0;
  /** coarse grid: buckets after which a first test on two cycles is made (0: done or none) */
  private earlyCheck = 0;
  /** where the current sample reads the season: phase, and the fraction towards the next */
  private phase = 0;
  private frac = 0;
  /** coarse grid: the recent level of the values (exponential mean over about a bucket),
   * what range novelty judges (NaN until the first sample on the coarse grid) */
  private recent = NaN;
  /** the weekly layer, once the season is daily (and weekly params are set) */
  private weekly: WeeklyLayer | undefined;

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    readonly params: AgileParams = AGILE_PARAMS,
  ) {
    this.model = new SeasonalLevel(params.model, 0);
    this.surprise = new Surprise(this.surpriseParams());
  }

  /** After update(): the score before refractory damping (Robust applies its own refractory
   * to the combination of this and its learnt channel). */
  rawScore = 0;

  /** The period in grid slots (samples, or 5-minute buckets on the coarse grid); 0: none. */
  get period(): number {
    return this.model.period;
  }

  /** The period in ms (0: none). */
  get periodMs(): number {
    return this.model.period > 0 ? this.model.period * this.unit : 0;
  }

  /** Has the series shown a weekly pattern on top of its daily season (weekly.ts)? */
  get weeklyAdopted(): boolean {
    return this.weekly?.adopted ?? false;
  }

  /** Is the series on the coarse grid (sampled finer than a bucket)? */
  private get coarse(): boolean {
    return this.unit > this.step && this.step > 0;
  }

  update(timestamp: number, value: number): number {
    if (this.coarse) this.placeCoarse(timestamp);
    else {
      const slot = this.slotOf(timestamp);
      this.phase = this.model.period > 0 ? slot % this.model.period : 0;
    }
    const { phase, frac } = this;
    const model = this.model;
    const weekly = this.weekly;
    const w = weekly === undefined ? 0 : weekly.read(timestamp);
    this.expected = model.count > 0 ? model.predict(phase, frac) + w : value;
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.fromNoise = false;
      this.fromDrift = false;
      this.deviation = 0;
      this.rawScore = 0;
      return 0;
    }
    this.deviation = model.deviation(value - w, phase, frac);
    const d = sided(this.deviation, this.sensitivity.direction);
    // the level and spread only where the drift channel reads them (off by default)
    const drifts = this.sensitivity.drift && model.count > 0;
    const score = this.surprise.score(d, this.coarse ? this.smooth(value) : value, this.sensitivity.direction, timestamp, value, drifts ? model.level : NaN, drifts ? model.floorSpread() : NaN);
    model.learn(value - w, phase, frac);
    if (weekly !== undefined) {
      const before = weekly.adopted;
      weekly.learn(timestamp, value, w, model, phase, frac);
      // the level is now net of the week (it moved by the offset): yesterday's is not comparable
      if (!before && weekly.adopted) this.surprise.resetDrift();
    }
    this.rawScore = this.surprise.raw;
    this.fromNoise = this.surprise.fromNoise;
    this.fromDrift = this.surprise.fromDrift;
    this.anomalous = this.rawScore >= this.sensitivity.threshold && (d >= this.sensitivity.deviations || this.fromNoise || this.fromDrift);
    if (this.anomalous) this.surprise.noteAnomaly(timestamp);
    if (this.early !== undefined) this.bufferEarly(timestamp, value);
    else if (this.grid !== undefined) this.bufferOnGrid(timestamp, value, this.slot);
    else if (this.buckets !== undefined) this.bufferBuckets(timestamp, value);
    return score;
  }

  /** Coarse grid: a new all-time extreme is news when the series' level over about a bucket
   * reaches it, not when one sample's noise does: a day holds 8,640 samples of 10 s, and
   * their noise sets records far more often than 288 five-minute values would. A spike
   * remains the likelihood's to flag. */
  private smooth(value: number): number {
    const r = this.step / this.unit;
    this.recent = Number.isNaN(this.recent) ? value : this.recent + r * (value - this.recent);
    return this.recent;
  }

  /** Coarse grid: the fractional bucket position from the timestamp (an unreadable one
   * advances it by one step); the season is read between the two nearest bucket centres. */
  private placeCoarse(timestamp: number): void {
    const pos = Number.isFinite(timestamp) ? (timestamp - this.origin) / this.unit : this.pos + this.step / this.unit;
    this.pos = pos > 0 ? pos : 0;
    this.slot = Math.round(this.pos);
    const p = this.model.period;
    if (p === 0) return;
    const b = Math.floor(this.pos);
    this.phase = b % p;
    this.frac = this.pos - b;
  }

  /** Position of a timestamp on the series' step grid (arrival order when time is unknown). */
  private slotOf(timestamp: number): number {
    if (!(this.step > 0) || !Number.isFinite(timestamp)) return (this.slot = this.slot + 1);
    const s = Math.round((timestamp - this.origin) / this.step);
    return (this.slot = s >= 0 ? s : 0);
  }

  private bufferEarly(timestamp: number, value: number): void {
    const early = this.early as { stamps: number[]; values: number[] };
    early.stamps.push(timestamp);
    early.values.push(value);
    if (early.stamps.length < STEP_SAMPLES) return;
    this.early = undefined;
    this.learnStep(early.stamps);
    if (this.needed <= 0) return; // no calendar period can be tested: stay season-less
    if (this.coarse) {
      const buckets = (this.buckets = new BucketMeans(this.needed));
      early.stamps.forEach((t, i) => {
        if (Number.isFinite(t)) buckets.add(Math.round((t - this.origin) / this.unit), early.values[i] as number);
      });
      this.checkBuckets();
      return;
    }
    const grid = (this.grid = new Float64Array(this.needed).fill(NaN));
    early.stamps.forEach((t, i) => {
      const s = Number.isFinite(t) ? Math.round((t - this.origin) / this.step) : -1;
      if (s >= 0 && s < grid.length) grid[s] = early.values[i] as number;
    });
    if (this.slot + 1 >= this.needed) this.choosePeriod(grid);
  }

  private bufferOnGrid(timestamp: number, value: number, slot: number): void {
    const grid = this.grid as Float64Array;
    if (Number.isFinite(timestamp) && slot < grid.length) grid[slot] = value;
    if (slot + 1 >= grid.length) this.choosePeriod(grid);
  }

  /** Coarse grid: a sample into its bucket; the period is tested once the buckets span
   * two cycles (a clear season is adopted then) and again at `cycles`. */
  private bufferBuckets(timestamp: number, value: number): void {
    if (Number.isFinite(timestamp)) (this.buckets as BucketMeans).add(this.slot, value);
    this.checkBuckets();
  }

  /** Tests are made once the current sample lies beyond the tested buckets, so each of
   * them is complete. */
  private checkBuckets(): void {
    if (this.earlyCheck > 0 && this.slot >= this.earlyCheck) {
      const span = this.earlyCheck;
      this.earlyCheck = 0;
      if (this.chooseCoarse(span)) return;
    }
    if (this.slot >= this.needed) this.chooseCoarse(this.needed);
  }

  private learnStep(stamps: number[]): void {
    const step = medianStep(stamps);
    this.step = step > 0 ? step : 0;
    if (!(step > 0)) {
      this.needed = -1; // no usable time: no calendar periods
      return;
    }
    this.unit = gridUnit(step);
    if (this.coarse) this.surprise = new Surprise(this.surpriseParams()).restore(this.surprise.state()).restoreNoise(this.surprise.noiseState()).restoreDrift(this.surprise.driftState());
    // the grid starts at the first readable timestamp; the last readable one places us on it
    const readable = stamps.filter((t) => Number.isFinite(t));
    this.origin = readable[0] as number;
    const last = ((readable[readable.length - 1] as number) - this.origin) / this.unit;
    this.slot = Math.max(0, Math.round(last));
    this.pos = Math.max(0, last);
    const cycles = this.params.cycles;
    const fitting = this.candidates().filter((p) => cycles * p <= this.params.warmCap);
    const longest = fitting.length > 0 ? Math.max(...fitting) : 0;
    this.needed = longest > 0 ? cycles * longest : -1;
    // two cycles of bucket means already show a clear season (30+ samples in each mean)
    if (this.coarse && longest > 0 && cycles > 2) this.earlyCheck = 2 * longest;
  }

  private candidates(): number[] {
    return [HOUR, DAY, WEEK].map((c) => Math.round(c / this.unit)).filter((p) => p >= 4);
  }

  /** Coarse grid: the period from the first `span` bucket means; the profile and level are
   * learnt from those means at the 5-minute rates, then the model goes on sample by sample
   * at rates scaled to the step (so it adapts over the same time as on 5-minute data) with
   * the per-sample spread of the season-less warm-up model (means are less noisy). */
  private chooseCoarse(span: number): boolean {
    const means = (this.buckets as BucketMeans).means.subarray(0, span);
    const period = findPeriod(means, this.candidates(), this.params.period);
    if (period === 0) {
      if (span >= this.needed) this.buckets = undefined;
      return false;
    }
    this.buckets = undefined;
    const replay = new SeasonalLevel(this.params.model, period);
    initialiseSeason(replay.season, means);
    means.forEach((v, s) => {
      if (Number.isFinite(v)) replay.learn(v, s % period);
    });
    const model = new SeasonalLevel(this.modelParams(), period).restore(replay.state());
    model.spread = this.model.spread;
    this.model = model;
    this.startWeekly();
    // the season-less model's deviations are not this model's: its likelihood starts afresh
    // (state layout: surprise.ts, the likelihood's four numbers first)
    this.surprise.restore([0, 0, 0, 0, ...this.surprise.state().slice(4)]);
    this.surprise.resetDrift();
    return true;
  }

  /** On the coarse grid the likelihood's long-term memory spans the same time as on
   * 5-minute data (about 11 days, not 9 hours of 10-second samples), so an anomaly that
   * lasts hours does not become the norm it is judged against. The short-term average
   * and the rest of the chain stay per sample: one sample can still be a spike. */
  private surpriseParams(): SurpriseParams {
    const s = surpriseFor(this.params.surprise, this.sensitivity.drift);
    if (!this.coarse) return s;
    return { ...s, likelihood: { ...s.likelihood, longAlpha: (s.likelihood.longAlpha * this.step) / this.unit } };
  }

  /** On the coarse grid a seasonal model learns per sample at rates scaled by step/bucket:
   * a bucket's samples together weigh what one 5-minute sample weighs. */
  private modelParams(): SeasonalLevelParams {
    const m = this.params.model;
    if (!this.coarse) return m;
    const r = this.step / this.unit;
    return { ...m, levelAlpha: m.levelAlpha * r, seasonGamma: m.seasonGamma * r, spreadAlpha: m.spreadAlpha * r };
  }

  private choosePeriod(grid: Float64Array): void {
    this.grid = undefined;
    const period = findPeriod(grid, this.candidates(), this.params.period);
    if (period === 0) return;
    const model = new SeasonalLevel(this.params.model, period);
    initialiseSeason(model.season, grid);
    // replay in time order (repeats kept the last value of their slot)
    grid.forEach((v, s) => {
      if (Number.isFinite(v)) model.learn(v, s % period);
    });
    this.model = model;
    this.surprise.resetDrift();
    this.startWeekly();
  }

  /** A daily season gains the weekly layer (buffering from the next sample). */
  private startWeekly(): void {
    const p = this.params.weekly;
    if (p !== null && this.daily) this.weekly = new WeeklyLayer(p);
  }

  /** Is the season a day (to within a slot: the period is a day rounded to the step)? */
  private get daily(): boolean {
    return this.model.period > 0 && Math.abs(this.periodMs - DAY) < this.unit;
  }

  snapshot(): DetectorSnapshot {
    return {
      tier: 'agile',
      version: VERSION,
      sensitivity: this.sensitivity,
      clock: [this.step, this.origin, this.slot, this.needed, this.unit, this.pos, this.earlyCheck, this.recent].map(orNull),
      model: this.model.state(),
      surprise: this.surprise.state(),
      noise: this.surprise.noiseState(),
      drift: this.surprise.driftState(),
      ...(this.early ? { early: { stamps: this.early.stamps.map(orNull), values: this.early.values } } : {}),
      ...(this.grid ? { grid: Array.from(this.grid, orNull) } : {}),
      ...(this.buckets ? { buckets: this.buckets.state() } : {}),
      ...(this.weekly ? { weekly: this.weekly.state() } : {}),
    };
  }

  static restore(s: DetectorSnapshot): AgileDetector {
    if (s.version !== VERSION && s.version !== 3 && s.version !== 2 && s.version !== 1) throw new RangeError(`agile snapshot version ${String(s.version)} is not ${VERSION} (or 3, 2, 1)`);
    const d = new AgileDetector(resolveSensitivity(s.sensitivity as Sensitivity, AGILE_DEVIATIONS));
    const [step, origin, slot, needed, ...rest] = (s.clock as Array<number | null>).map(orNaN) as number[];
    // version 1 knew only the native grid: its unit is the step
    const [unit, pos, earlyCheck, recent] = s.version === 1 ? [step, slot, 0, NaN] : rest;
    Object.assign(d, { step, origin, slot, needed, unit, pos, earlyCheck, recent });
    const model = s.model as { scalars: number[]; season: number[] };
    const period = model.season.length;
    d.model = new SeasonalLevel(period > 0 ? d.modelParams() : d.params.model, period).restore(model);
    d.surprise = new Surprise(d.surpriseParams()).restore(s.surprise as number[]).restoreNoise(s.noise as Array<number | null> | undefined).restoreDrift(s.drift as Array<number | null> | undefined);
    const early = s.early as { stamps: Array<number | null>; values: number[] } | undefined;
    d.early = early ? { stamps: early.stamps.map(orNaN), values: early.values.slice() } : undefined;
    const grid = s.grid as Array<number | null> | undefined;
    d.grid = grid ? Float64Array.from(grid, orNaN) : undefined;
    const buckets = s.buckets as Parameters<typeof BucketMeans.restore>[0] | undefined;
    d.buckets = buckets ? BucketMeans.restore(buckets) : undefined;
    // before version 4 a daily season had no weekly layer: it starts one now
    if (d.params.weekly !== null && d.daily) d.weekly = WeeklyLayer.restore(d.params.weekly, s.weekly as WeeklyState | undefined);
    return d;
  }
}

/** JSON has no NaN: it travels as null. */
function orNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

function orNaN(v: number | null): number {
  return v === null ? NaN : v;
}

/** Seasonal profile from the buffered cycles: mean of each phase minus the overall mean. */
function initialiseSeason(season: Float64Array, grid: Float64Array): void {
  const p = season.length;
  const sum = new Float64Array(p);
  const count = new Float64Array(p);
  let total = 0;
  let n = 0;
  grid.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    sum[i % p] = (sum[i % p] as number) + v;
    count[i % p] = (count[i % p] as number) + 1;
    total += v;
    n++;
  });
  const mean = total / n;
  for (let i = 0; i < p; i++) season[i] = (count[i] as number) > 0 ? (sum[i] as number) / (count[i] as number) - mean : 0;
}
