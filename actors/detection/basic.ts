// Basic tier: robust rolling level/spread (no seasonality) scored by the shared surprise
// chain. The cheapest tier: a handful of numbers per series, no allocation per sample.
import type { Tier } from '../../protocols/types.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { RobustLevel, type RobustLevelParams } from './robust-level.ts';
import { BASIC_DEVIATIONS, resolveSensitivity, sided, type ResolvedSensitivity } from './sensitivity.ts';
import { Surprise, SURPRISE_PARAMS, type SurpriseParams } from './surprise.ts';

export interface BasicParams {
  level: RobustLevelParams;
  surprise: SurpriseParams;
}

export const BASIC_PARAMS: BasicParams = {
  // a shift needs a run twice Agile's: Basic's spread holds the structure it does not model
  // (a season), whose swings also make runs beyond 4 spreads
  level: { levelAlpha: 0.02, spreadAlpha: 0.005, clip: 4, shiftBound: 4, shiftRun: 12 },
  surprise: SURPRISE_PARAMS,
};

/** 2: the refractory span is data time (the surprise state gains its end); 1 still restores. */
const VERSION = 2;

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

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    readonly params: BasicParams = BASIC_PARAMS,
  ) {
    this.level = new RobustLevel(params.level);
    this.surprise = new Surprise(params.surprise);
  }

  update(timestamp: number, value: number): number {
    const level = this.level;
    this.expected = level.count > 0 ? level.level : value;
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.fromNoise = false;
      this.rawScore = 0;
      return 0;
    }
    const d = sided(level.deviation(value), this.sensitivity.direction);
    const score = this.surprise.score(d, value, this.sensitivity.direction, timestamp);
    level.learn(value);
    this.rawScore = this.surprise.raw;
    this.fromNoise = this.surprise.fromNoise;
    this.anomalous = this.rawScore >= this.sensitivity.threshold && (d >= this.sensitivity.deviations || this.fromNoise);
    if (this.anomalous) this.surprise.noteAnomaly(timestamp);
    return score;
  }

  snapshot(): DetectorSnapshot {
    return { tier: 'basic', version: VERSION, sensitivity: this.sensitivity, level: this.level.state(), surprise: this.surprise.state(), noise: this.surprise.noiseState() };
  }

  static restore(s: DetectorSnapshot): BasicDetector {
    if (s.version !== VERSION && s.version !== 1) throw new RangeError(`basic snapshot version ${String(s.version)} is not ${VERSION} (or 1)`);
    const d = new BasicDetector(resolveSensitivity(s.sensitivity as Sensitivity, BASIC_DEVIATIONS));
    d.level.restore(s.level as number[]);
    d.surprise.restore(s.surprise as number[]).restoreNoise(s.noise as Array<number | null> | undefined);
    return d;
  }
}
