// Agile's weekly layer, for series whose season is daily: how each hour of the week differs
// from the same hour of the average day (a weekend, a Monday morning rush). Why: a daily
// season of 5-minute data is 288 phases, and three weeks of them (the period search's
// rule) do not fit the warm-up buffer, so the week is never found there; yet operations
// traffic is weekly, and a model that knows only the average day calls every weekend's
// quiet and every Monday's ramp a deviation.
//
// Found, then followed:
//  1. from the daily season's adoption on, the values' hourly means are kept for `weeks`
//     weeks (hourly-window.ts; 504 hours: 3 KB, dropped once the test is made);
//  2. the test: each hourly mean less the mean of its hour of the day over the window
//     (what the average day explains), judged by the period search's own rule at a lag of
//     one week (seasonality.ts: correlated at the week, out of phase at half and one and a
//     half weeks, so a trend or a one-off shift is not a week);
//  3. adopted: the profile (calendar-profile.ts, 168 hourly offsets) starts from the
//     buffered weeks, is added to the daily model's prediction, and keeps learning by time
//     what the model leaves, as the daily season does; rejected: the next `weeks` weeks are
//     buffered and tested, so a weekly pattern that starts later is found then.
import { CalendarProfile, DAY_HOURS, WEEK_HOURS, type CalendarProfileParams } from './calendar-profile.ts';
import { HourlyWindow, type HourlyWindowState } from './hourly-window.ts';
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
  /** the window under test (null: adopted, or no sample yet) */
  window: HourlyWindowState | null;
}

export class WeeklyLayer {
  private profile: CalendarProfile | undefined;
  private window: HourlyWindow | undefined;

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
    const hours = this.params.weeks * WEEK_HOURS;
    this.window ??= HourlyWindow.at(timestamp, hours);
    if (this.window.add(timestamp, value)) return;
    if (this.test(this.window, model, timestamp)) return;
    this.window = HourlyWindow.at(timestamp, hours);
    this.window.add(timestamp, value);
  }

  /** Tests a full window; on a week, adopts the profile and returns true. */
  private test(window: HourlyWindow, model: SeasonalLevel, timestamp: number): boolean {
    if (!window.filled(this.params.minFilled)) return false;
    // what the average day leaves, at a lag of a week
    const residual = window.lessCycle(DAY_HOURS);
    if (findPeriod(residual, [WEEK_HOURS], this.params.period) === 0) return false;
    const offsets = window.cycleMeans(residual, WEEK_HOURS);
    const profile = new CalendarProfile(this.params.profile, WEEK_HOURS).setOffsets(offsets).startFrom(window.start * HOUR);
    // the model's level has been following the week; from now the profile holds it, so the
    // level moves by the offset here and the prediction does not jump at adoption
    model.level -= profile.read(timestamp);
    this.profile = profile;
    this.window = undefined;
    return true;
  }

  state(): WeeklyState {
    return { profile: this.profile?.state() ?? null, window: this.window?.state() ?? null };
  }

  static restore(params: WeeklyParams, s: WeeklyState | null | undefined): WeeklyLayer {
    const layer = new WeeklyLayer(params);
    if (s === null || s === undefined) return layer;
    if (s.profile !== null) layer.profile = new CalendarProfile(params.profile, WEEK_HOURS).restore(s.profile);
    else if (s.window !== null) layer.window = HourlyWindow.restore(s.window);
    return layer;
  }
}
