// Basic tier: robust rolling level/spread plus a coarse time-of-day profile (24 hourly
// offsets, calendar-profile.ts; no period search, no weekly season), scored by the shared
// surprise chain. The cheapest tier: a few dozen numbers per series, no allocation per sample.
import type { Tier } from '../../protocols/types.ts';
import { CalendarProfile, DAY_HOURS, type CalendarProfileParams } from './calendar-profile.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { RobustLevel, type RobustLevelParams } from './robust-level.ts';
import { BASIC_DEVIATIONS, resolveSensitivity, sided, type ResolvedSensitivity } from './sensitivity.ts';
import { Surprise, SURPRISE_PARAMS, type SurpriseParams } from './surprise.ts';

export interface BasicParams {
  level: RobustLevelParams;
  /** the time-of-day profile; null: none (a season-less level, as before version 3) */
  daily: CalendarProfileParams | null;
  surprise: SurpriseParams;
}

export const BASIC_PARAMS: BasicParams = {
  // a shift needs a run twice Agile's: Basic's spread holds the structure it does not model
  // (a season), whose swings also make runs beyond 4 spreads
  level: { levelAlpha: 0.02, spreadAlpha: 0.005, clip: 4, shiftBound: 4, shiftRun: 12 },
  // Agile's season weight (0.1 a cycle) and clip (4 spreads), on an hourly grid in time
  daily: { gamma: 0.1, clip: 4 },
  surprise: SURPRISE_PARAMS,
};

/** 3: the time-of-day profile (`daily`). 2: the refractory span is data time (the surprise
 * state gains its end). 1 and 2 still restore, with an empty profile learnt afresh. */
const VERSION = 3;

export class BasicDetector implements Detector {
  readonly tier: Tier = 'basic';
  anomalous = false;
  expected = 0;
  rawScore = 0;
  /** After update(): the score came from the series going quiet (its noise fell), which is
   * anomalous without a deviation beyond the bound (surprise.ts). */
  fromNoise = false;
  private readonly level: RobustLevel;
  private readonly surprise: Surprise;
  private readonly daily: CalendarProfile | null;

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    readonly params: BasicParams = BASIC_PARAMS,
  ) {
    this.level = new RobustLevel(params.level);
    this.surprise = new Surprise(params.surprise);
    this.daily = params.daily === null ? null : new CalendarProfile(params.daily, DAY_HOURS);
  }

  update(timestamp: number, value: number): number {
    const level = this.level;
    const daily = this.daily;
    // the level is of the values less their time-of-day offset
    const offset = daily === null ? 0 : daily.read(timestamp);
    this.expected = level.count > 0 ? level.level + offset : value;
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.fromNoise = false;
      this.rawScore = 0;
      return 0;
    }
    const d = sided(level.deviation(value - offset), this.sensitivity.direction);
    const score = this.surprise.score(d, value, this.sensitivity.direction, timestamp);
    level.learn(value - offset);
    // the offset learns what the updated level leaves (Holt-Winters' order); while the
    // spread is still being learnt (first samples) errors are not clipped
    if (daily !== null) daily.learn(timestamp, value - offset - level.level, level.count > 8 ? level.floorSpread() : Infinity);
    this.rawScore = this.surprise.raw;
    this.fromNoise = this.surprise.fromNoise;
    this.anomalous = this.rawScore >= this.sensitivity.threshold && (d >= this.sensitivity.deviations || this.fromNoise);
    if (this.anomalous) this.surprise.noteAnomaly(timestamp);
    return score;
  }

  snapshot(): DetectorSnapshot {
    return { tier: 'basic', version: VERSION, sensitivity: this.sensitivity, level: this.level.state(), surprise: this.surprise.state(), noise: this.surprise.noiseState(), daily: this.daily?.state() ?? null };
  }

  static restore(s: DetectorSnapshot): BasicDetector {
    if (s.version !== VERSION && s.version !== 2 && s.version !== 1) throw new RangeError(`basic snapshot version ${String(s.version)} is not ${VERSION} (or 2, 1)`);
    const d = new BasicDetector(resolveSensitivity(s.sensitivity as Sensitivity, BASIC_DEVIATIONS));
    d.level.restore(s.level as number[]);
    d.surprise.restore(s.surprise as number[]).restoreNoise(s.noise as Array<number | null> | undefined);
    d.daily?.restore(s.daily as Array<number | null> | undefined);
    return d;
  }
}
