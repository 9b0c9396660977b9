// Agile's weekly layer, for series whose season is daily: how each hour of the week differs
// from the same hour of the average day (a weekend, a Monday morning rush). Why: a daily
// season of 5-minute data is 288 phases, and three weeks of them (the period search's
// rule) do not fit the warm-up buffer, so the week is never found there; yet operations
// traffic is weekly, and a model that knows only the average day calls every weekend's
// quiet and every Monday's ramp a deviation.
//
// Found, then followed:
//  1. from the daily season's adoption on, the values' hourly means are buffered for
//     `weeks` weeks (504 hours: 3 KB, dropped once the test is made);
//  2. the test: each hourly mean less the mean of its hour of the day over the window
//     (what the average day explains), judged by the period search's own rule at a lag of
//     one week (seasonality.ts: correlated at the week, out of phase at half and one and a
//     half weeks, so a trend or a one-off shift is not a week);
//  3. adopted: the profile (calendar-profile.ts, 168 hourly offsets) starts from the
//     buffered weeks, is added to the daily model's prediction, and keeps learning by time
//     what the model leaves, as the daily season does; rejected: the next `weeks` weeks are
//     buffered and tested, so a weekly pattern that starts later is found then.
import { CalendarProfile, WEEK_HOURS, type CalendarProfileParams } from './calendar-profile.ts';
import { findPeriod, HOUR, PERIOD_TEST, type PeriodTest } from './seasonality.ts';
import type { SeasonalLevel } from './seasonal-level.ts';

export interface WeeklyParams {
  /** the profile's learning once adopted (Agile's season weight and clip, per cycle) */
  profile: CalendarProfileParams;
  period: PeriodTest;
  /** weeks of hourly means a test reads (the daily period is tested on three cycles too) */
  weeks: number;
  /** least share of the window's hours that must hold a sample for a test */
  minFilled: number;
}

export const WEEKLY_PARAMS: WeeklyParams = { profile: { gamma: 0.1, clip: 4 }, period: PERIOD_TEST, weeks: 3, minFilled: 2 / 3 };

export interface WeeklyState {
  /** the profile once adopted, else null */
  profile: Array<number | null> | null;
  /** the buffered window: its first hour (hours since the epoch; null: not started), means, counts */
  start: number | null;
  means: Array<number | null> | null;
  counts: number[] | null;
}

export class WeeklyLayer {
  private profile: CalendarProfile | undefined;
  private means: Float32Array | undefined;
  private counts: Uint16Array | undefined;
  private start = NaN;

  constructor(readonly params: WeeklyParams) {}

  /** Has the series shown a weekly pattern (is the profile added to the prediction)? */
  get adopted(): boolean {
    return this.profile !== undefined;
  }

  /** The weekly offset at `timestamp` (0 until adopted). */
  read(timestamp: number): number {
    return this.profile === undefined ? 0 : this.profile.read(timestamp);
  }

  /**
   * After the daily model has learnt `value` less `offset` (what read() gave): the profile
   * learns what the model leaves, or the value goes into the window under test.
   */
  learn(timestamp: number, value: number, offset: number, model: SeasonalLevel, phase: number, frac: number): void {
    if (this.profile !== undefined) {
      this.profile.learn(timestamp, value - offset - model.predict(phase, frac), model.floorSpread());
      return;
    }
    if (!Number.isFinite(timestamp)) return;
    const hour = Math.floor(timestamp / HOUR);
    const size = this.params.weeks * WEEK_HOURS;
    if (Number.isNaN(this.start)) this.open(hour);
    const i = hour - this.start;
    if (i < 0) return; // before the window: time went back
    if (i >= size) {
      if (this.test(model, timestamp)) return;
      this.open(hour);
    }
    this.add(hour - this.start, value);
  }

  private open(hour: number): void {
    const size = this.params.weeks * WEEK_HOURS;
    this.start = hour;
    this.means = new Float32Array(size).fill(NaN);
    this.counts = new Uint16Array(size);
  }

  private add(i: number, value: number): void {
    const means = this.means as Float32Array;
    const counts = this.counts as Uint16Array;
    const n = Math.min((counts[i] as number) + 1, 65_535);
    counts[i] = n;
    const m = means[i] as number;
    means[i] = n === 1 ? value : m + (value - m) / n;
  }

  /** Tests the full window; on a week, adopts the profile and returns true. */
  private test(model: SeasonalLevel, timestamp: number): boolean {
    const means = this.means as Float32Array;
    const size = means.length;
    const d = dailyResidual(means, this.start);
    let filled = 0;
    for (const v of d) if (Number.isFinite(v)) filled++;
    if (filled < this.params.minFilled * size || findPeriod(d, [WEEK_HOURS], this.params.period) === 0) return false;
    const offsets = hourOfWeekMeans(d, this.start);
    const profile = new CalendarProfile(this.params.profile, WEEK_HOURS).setOffsets(offsets).startFrom(this.start * HOUR);
    // the model's level has been following the week; from now the profile holds it, so the
    // level moves by the offset here and the prediction does not jump at adoption
    model.level -= profile.read(timestamp);
    this.profile = profile;
    this.means = undefined;
    this.counts = undefined;
    return true;
  }

  state(): WeeklyState {
    return {
      profile: this.profile?.state() ?? null,
      start: Number.isFinite(this.start) ? this.start : null,
      means: this.means ? Array.from(this.means, (v) => (Number.isNaN(v) ? null : v)) : null,
      counts: this.counts ? Array.from(this.counts) : null,
    };
  }

  static restore(params: WeeklyParams, s: WeeklyState | null | undefined): WeeklyLayer {
    const layer = new WeeklyLayer(params);
    if (s === null || s === undefined) return layer;
    if (s.profile !== null) layer.profile = new CalendarProfile(params.profile, WEEK_HOURS).restore(s.profile);
    else if (s.start !== null && s.means !== null && s.counts !== null) {
      layer.start = s.start;
      layer.means = Float32Array.from(s.means, (v) => (v === null ? NaN : v));
      layer.counts = Uint16Array.from(s.counts);
    }
    return layer;
  }
}

/** Each hourly mean less the mean of its hour of the day over the window (NaN stays NaN). */
function dailyResidual(means: Float32Array, startHour: number): Float64Array {
  const sum = new Float64Array(24);
  const count = new Float64Array(24);
  means.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const h = (startHour + i) % 24;
    sum[h] = (sum[h] as number) + v;
    count[h] = (count[h] as number) + 1;
  });
  return Float64Array.from(means, (v, i) => {
    const h = (startHour + i) % 24;
    return Number.isNaN(v) ? NaN : v - (sum[h] as number) / (count[h] as number);
  });
}

/** The profile's starting offsets: the mean residual of each hour of the week (epoch-aligned
 * as the profile reads it; an hour never seen starts at 0). */
function hourOfWeekMeans(d: Float64Array, startHour: number): Float64Array {
  const sum = new Float64Array(WEEK_HOURS);
  const count = new Float64Array(WEEK_HOURS);
  d.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const k = (startHour + i) % WEEK_HOURS;
    sum[k] = (sum[k] as number) + v;
    count[k] = (count[k] as number) + 1;
  });
  return sum.map((s, k) => ((count[k] as number) > 0 ? s / (count[k] as number) : 0));
}
