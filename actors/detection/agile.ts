// Agile tier: a robust, quickly adapting seasonal predictor (seasonal-level.ts) whose period
// is found automatically (seasonality.ts), scored on its errors by the shared surprise chain.
// Life of a series:
//  1. warm-up: samples are scored against a plain robust level (no season) and buffered;
//  2. once the buffer spans three cycles of the longest calendar period that fits (or
//     holds `warmCap` samples), the period is chosen, the seasonal profile is initialised from the
//     buffered cycles, the model replays the buffer, and the buffer is dropped.
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
  /** most samples buffered while looking for the period */
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
  private model: SeasonalLevel;
  private readonly surprise: Surprise;
  /** warm-up buffer (dropped once the period is chosen) */
  private warm: { stamps: number[]; values: number[] } | undefined = { stamps: [], values: [] };
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
      return 0;
    }
    const d = sided(model.deviation(value, phase), this.sensitivity.direction);
    const score = this.surprise.score(d, value, this.sensitivity.direction, model.floorSpread());
    model.learn(value, phase);
    this.anomalous = this.surprise.raw >= this.sensitivity.threshold && d >= this.sensitivity.deviations;
    if (this.warm !== undefined) this.buffer(timestamp, value);
    return score;
  }

  /** Position of a timestamp on the series' step grid (arrival order when time is unknown). */
  private slotOf(timestamp: number): number {
    if (!(this.step > 0) || !Number.isFinite(timestamp)) return (this.slot = this.slot + 1);
    const s = Math.round((timestamp - this.origin) / this.step);
    return (this.slot = s >= 0 ? s : 0);
  }

  private buffer(timestamp: number, value: number): void {
    const warm = this.warm as { stamps: number[]; values: number[] };
    warm.stamps.push(timestamp);
    warm.values.push(value);
    if (Number.isNaN(this.step) && warm.stamps.length >= STEP_SAMPLES) this.learnStep(warm.stamps);
    const span = this.step > 0 ? this.slot + 1 : 0;
    if (warm.values.length >= this.params.warmCap || (this.needed > 0 && span >= this.needed) || this.needed < 0) this.choosePeriod(warm);
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

  private choosePeriod(warm: { stamps: number[]; values: number[] }): void {
    this.warm = undefined;
    if (!(this.step > 0)) return;
    const grid = new Float64Array(Math.min(this.slot + 1, this.params.warmCap)).fill(NaN);
    const slots = warm.stamps.map((t) => (Number.isFinite(t) ? Math.round((t - this.origin) / this.step) : -1));
    slots.forEach((s, i) => {
      if (s >= 0 && s < grid.length) grid[s] = warm.values[i] as number;
    });
    const period = findPeriod(grid, this.candidates(), this.params.period);
    if (period === 0) return;
    const model = new SeasonalLevel(this.params.model, period);
    initialiseSeason(model.season, grid);
    slots.forEach((s, i) => {
      if (s >= 0) model.learn(warm.values[i] as number, s % period);
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
      ...(this.warm ? { warm: this.warm } : {}),
    };
  }

  static restore(s: DetectorSnapshot): AgileDetector {
    if (s.version !== VERSION) throw new RangeError(`agile snapshot version ${String(s.version)} is not ${VERSION}`);
    const d = new AgileDetector(resolveSensitivity(s.sensitivity as Sensitivity, AGILE_DEVIATIONS));
    const [step, origin, slot, needed] = (s.clock as Array<number | null>).map((v) => (v === null ? NaN : v)) as [number, number, number, number];
    Object.assign(d, { step, origin, slot, needed });
    const model = s.model as { scalars: number[]; season: number[] };
    d.model = new SeasonalLevel(d.params.model, model.season.length).restore(model);
    d.surprise.restore(s.surprise as number[]);
    const warm = s.warm as { stamps: Array<number | null>; values: number[] } | undefined;
    d.warm = warm ? { stamps: warm.stamps.map((t) => (t === null ? NaN : t)), values: warm.values.slice() } : undefined;
    return d;
  }
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
