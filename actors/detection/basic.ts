// Basic tier: robust rolling level/spread plus a coarse time-of-day profile (24 hourly
// offsets, calendar-profile.ts; no period search, no weekly season), scored by the shared
// surprise chain. The cheapest tier: a few dozen numbers per series, no allocation per sample.
import type { Tier } from '../../protocols/types.ts';
import { DAY_HOURS, initProfile, learnProfile, profileSlots, profileState, readProfile, restoreProfile, type CalendarProfileParams } from './calendar-profile.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { floorSpread, learnLevel, levelCount, levelDeviation, levelOf, levelState, restoreLevel, ROBUST_LEVEL_SLOTS, type RobustLevelParams } from './robust-level.ts';
import { BASIC_DEVIATIONS, resolveSensitivity, sided, type ResolvedSensitivity } from './sensitivity.ts';
import { doubleSlots } from './slots.ts';
import { Surprise, SURPRISE_PARAMS, SURPRISE_SLOTS, type SurpriseParams } from './surprise.ts';

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

// its slots (slots.ts): the scoring chain's, its own figures, the level, the profile
const EXPECTED = SURPRISE_SLOTS;
const RAW_SCORE = EXPECTED + 1;
const LEVEL = EXPECTED + 2;
const DAILY = LEVEL + ROBUST_LEVEL_SLOTS;

export class BasicDetector implements Detector {
  readonly tier: Tier = 'basic';
  anomalous = false;
  /** After update(): the score came from the series going quiet (its noise fell), which is
   * anomalous without a deviation beyond the bound (surprise.ts). */
  fromNoise = false;
  /** [the chain's slots, expected, raw score, the level's slots, the profile's slots] */
  private readonly s: number[];
  private readonly surprise: Surprise;
  /** the time-of-day profile is kept (`params.daily` not null) */
  private readonly daily: boolean;

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    readonly params: BasicParams = BASIC_PARAMS,
  ) {
    this.daily = params.daily !== null;
    this.s = doubleSlots(DAILY + (this.daily ? profileSlots(DAY_HOURS) : 0));
    if (this.daily) initProfile(this.s, DAILY, DAY_HOURS);
    this.surprise = new Surprise(params.surprise, this.s);
  }

  get expected(): number {
    return this.s[EXPECTED] as number;
  }

  get rawScore(): number {
    return this.s[RAW_SCORE] as number;
  }

  update(timestamp: number, value: number): number {
    const s = this.s;
    const daily = this.daily;
    // the level is of the values less their time-of-day offset
    const offset = daily ? readProfile(s, DAILY, DAY_HOURS, timestamp) : 0;
    s[EXPECTED] = levelCount(s, LEVEL) > 0 ? levelOf(s, LEVEL) + offset : value;
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.fromNoise = false;
      s[RAW_SCORE] = 0;
      return 0;
    }
    const d = sided(levelDeviation(s, LEVEL, value - offset), this.sensitivity.direction);
    const score = this.surprise.score(d, value, this.sensitivity.direction, timestamp);
    learnLevel(s, LEVEL, this.params.level, value - offset);
    // the offset learns what the updated level leaves (Holt-Winters' order); while the
    // spread is still being learnt (first samples) errors are not clipped
    if (daily) learnProfile(s, DAILY, DAY_HOURS, this.params.daily as CalendarProfileParams, timestamp, value - offset - levelOf(s, LEVEL), levelCount(s, LEVEL) > 8 ? floorSpread(s, LEVEL) : Infinity);
    const raw = this.surprise.raw;
    s[RAW_SCORE] = raw;
    this.fromNoise = this.surprise.fromNoise;
    this.anomalous = raw >= this.sensitivity.threshold && (d >= this.sensitivity.deviations || this.fromNoise);
    if (this.anomalous) this.surprise.noteAnomaly(timestamp);
    return score;
  }

  snapshot(): DetectorSnapshot {
    const s = this.s;
    return { tier: 'basic', version: VERSION, sensitivity: this.sensitivity, level: levelState(s, LEVEL), surprise: this.surprise.state(), noise: this.surprise.noiseState(), daily: this.daily ? profileState(s, DAILY, DAY_HOURS) : null };
  }

  static restore(s: DetectorSnapshot): BasicDetector {
    if (s.version !== VERSION && s.version !== 2 && s.version !== 1) throw new RangeError(`basic snapshot version ${String(s.version)} is not ${VERSION} (or 2, 1)`);
    const d = new BasicDetector(resolveSensitivity(s.sensitivity as Sensitivity, BASIC_DEVIATIONS));
    restoreLevel(d.s, LEVEL, s.level as number[]);
    d.surprise.restore(s.surprise as number[]).restoreNoise(s.noise as Array<number | null> | undefined);
    if (d.daily) restoreProfile(d.s, DAILY, DAY_HOURS, s.daily as Array<number | null> | undefined);
    return d;
  }
}
