// Agile tier: a robust, quickly adapting seasonal predictor (seasonal-level.ts) whose period
// is found automatically (seasonality.ts), scored on its errors by the shared surprise chain.
// Life of a series:
//  1. warm-up: samples are scored against a plain robust level (no season) and buffered
//     on the series' time grid (the step is the median gap of the first 16 samples);
//  2. once the grid spans three cycles of the longest calendar period that fits in
//     `warmCap` slots, the period is chosen, the seasonal profile is initialised from the
//     buffered cycles, the model replays the grid, and the buffer is dropped.
// Phase comes from the timestamp on the series' own step, so gaps keep the phase aligned.
import type { Tier } from '../../protocols/types.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { DAY, HOUR, WEEK, findPeriod, medianStep, PERIOD_TEST, type PeriodTest } from './seasonality.ts';
import { SeasonalLevel, type SeasonalLevelParams } from './seasonal-level.ts';
import { AGILE_DEVIATIONS, resolveSensitivity, sided, type ResolvedSensitivity } from './sensitivity.ts';
import { Surprise, SURPRISE_PARAMS, type SurpriseParams } from './surprise.ts';

export interface AgileParams {
  model: SeasonalLevelParams;
  surprise: SurpriseParams;
  period: PeriodTest;
  /** most slots buffered while looking for the period (periods that do not fit `cycles`
   * times are not candidates) */
  warmCap: number;
  /** cycles of a candidate period the buffer must hold before it is tested */
  cycles: number;
}

export const AGILE_PARAMS: AgileParams = {
  model: { levelAlpha: 0.05, seasonGamma: 0.1, spreadAlpha: 0.005, clip: 4, shiftBound: 4, shiftRun: 6 },
  surprise: SURPRISE_PARAMS,
  period: PERIOD_TEST,
  warmCap: 2048,
  cycles: 3,
};

const VERSION = 1;
/** samples used to learn the sampling step */
const STEP_SAMPLES = 16;

export class AgileDetector implements Detector {
  readonly tier: Tier = 'agile';
  anomalous = false;
  expected = 0;
  /** After update(): the signed error in spreads, before siding (0 for a non-finite value).
   * Read by tiers built on this kernel (Robust feeds it to its learnt residual model). */
  deviation = 0;
  private model: SeasonalLevel;
  private readonly surprise: Surprise;
  /** warm-up: the first samples until the step is known, then values on the step grid
   * (one number per slot, NaN where none came); both dropped once the period is chosen */
  private early: { stamps: number[]; values: number[] } | undefined = { stamps: [], values: [] };
  private grid: Float64Array | undefined;
  /** sampling step in ms, origin of the phase grid, slot of the last sample */
  private step = NaN;
  private origin = NaN;
  private slot = -1;
  /** samples the buffer must span before the period is chosen */
  private needed = 0;

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    readonly params: AgileParams = AGILE_PARAMS,
  ) {
    this.model = new SeasonalLevel(params.model, 0);
    this.surprise = new Surprise(params.surprise);
  }

  /** After update(): the score before refractory damping (Robust applies its own refractory
   * to the combination of this and its learnt channel). */
  rawScore = 0;

  get period(): number {
    return this.model.period;
  }

  update(timestamp: number, value: number): number {
    const slot = this.slotOf(timestamp);
    const phase = this.model.period > 0 ? slot % this.model.period : 0;
    const model = this.model;
    this.expected = model.count > 0 ? model.predict(phase) : value;
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.deviation = 0;
      this.rawScore = 0;
      return 0;
    }
    this.deviation = model.deviation(value, phase);
    const d = sided(this.deviation, this.sensitivity.direction);
    const score = this.surprise.score(d, value, this.sensitivity.direction, model.floorSpread());
    model.learn(value, phase);
    this.rawScore = this.surprise.raw;
    this.anomalous = this.rawScore >= this.sensitivity.threshold && d >= this.sensitivity.deviations;
    if (this.early !== undefined) this.bufferEarly(timestamp, value);
    else if (this.grid !== undefined) this.bufferOnGrid(timestamp, value, slot);
    return score;
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

  private learnStep(stamps: number[]): void {
    const step = medianStep(stamps);
    this.step = step > 0 ? step : 0;
    if (!(step > 0)) {
      this.needed = -1; // no usable time: no calendar periods
      return;
    }
    // the grid starts at the first readable timestamp; the last readable one places us on it
    const readable = stamps.filter((t) => Number.isFinite(t));
    this.origin = readable[0] as number;
    this.slot = Math.max(0, Math.round(((readable[readable.length - 1] as number) - this.origin) / step));
    const cycles = this.params.cycles;
    const fitting = this.candidates().filter((p) => cycles * p <= this.params.warmCap);
    this.needed = fitting.length > 0 ? cycles * Math.max(...fitting) : -1;
  }

  private candidates(): number[] {
    return [HOUR, DAY, WEEK].map((c) => Math.round(c / this.step)).filter((p) => p >= 4);
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
  }

  snapshot(): DetectorSnapshot {
    return {
      tier: 'agile',
      version: VERSION,
      sensitivity: this.sensitivity,
      clock: [this.step, this.origin, this.slot, this.needed],
      model: this.model.state(),
      surprise: this.surprise.state(),
      ...(this.early ? { early: { stamps: this.early.stamps.map(orNull), values: this.early.values } } : {}),
      ...(this.grid ? { grid: Array.from(this.grid, orNull) } : {}),
    };
  }

  static restore(s: DetectorSnapshot): AgileDetector {
    if (s.version !== VERSION) throw new RangeError(`agile snapshot version ${String(s.version)} is not ${VERSION}`);
    const d = new AgileDetector(resolveSensitivity(s.sensitivity as Sensitivity, AGILE_DEVIATIONS));
    const [step, origin, slot, needed] = (s.clock as Array<number | null>).map(orNaN) as [number, number, number, number];
    Object.assign(d, { step, origin, slot, needed });
    const model = s.model as { scalars: number[]; season: number[] };
    d.model = new SeasonalLevel(d.params.model, model.season.length).restore(model);
    d.surprise.restore(s.surprise as number[]);
    const early = s.early as { stamps: Array<number | null>; values: number[] } | undefined;
    d.early = early ? { stamps: early.stamps.map(orNaN), values: early.values.slice() } : undefined;
    const grid = s.grid as Array<number | null> | undefined;
    d.grid = grid ? Float64Array.from(grid, orNaN) : undefined;
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
