// Agile's predictor: additive Holt-Winters without trend, made robust and quick.
//  - robust: the error is Huber-clipped at `clip` spreads before it updates level and
//    season, so a spike does not print itself into next week's profile;
//  - quick: when `shiftRun` consecutive errors lie beyond `shiftBound` spreads on the same
//    side, the level jumps by their mean: a level shift is absorbed in a few samples
//    instead of 1/alpha, which stops an episode of alarms after the first.
// With period 0 it is a plain robust level (no season).
// A fractional phase `frac` in (0, 1) reads the season between two phases (linear
// interpolation) and shares each update between them: on a coarse phase grid
// (phase-grid.ts) a finely sampled series then sees a smooth profile, not a staircase.
// frac 0 (the default) is the plain one-phase-per-sample model, arithmetic unchanged.
import { followShift } from './level-shift.ts';

export interface SeasonalLevelParams {
  levelAlpha: number;
  seasonGamma: number;
  spreadAlpha: number;
  clip: number;
  shiftBound: number;
  shiftRun: number;
}

export class SeasonalLevel {
  level = 0;
  spread = 0;
  count = 0;
  /** signed run of same-side large errors and their sum */
  run = 0;
  runSum = 0;
  season: Float64Array;

  constructor(
    readonly params: SeasonalLevelParams,
    readonly period: number,
  ) {
    this.season = new Float64Array(period);
  }

  predict(phase: number, frac = 0): number {
    return this.period > 0 ? this.level + this.seasonAt(phase, frac) : this.level;
  }

  private seasonAt(phase: number, frac: number): number {
    const s = this.season[phase] as number;
    if (frac === 0) return s;
    return (1 - frac) * s + frac * (this.season[(phase + 1) % this.period] as number);
  }

  floorSpread(): number {
    return Math.max(this.spread, 1e-3 * Math.abs(this.level), 1e-9);
  }

  /** Signed error of x in spreads, judged before x is learned. */
  deviation(x: number, phase: number, frac = 0): number {
    if (this.count === 0) return 0;
    return (x - this.predict(phase, frac)) / this.floorSpread();
  }

  learn(x: number, phase: number, frac = 0): void {
    const p = this.params;
    const n = ++this.count;
    if (n === 1) {
      this.level = x - (this.period > 0 ? this.seasonAt(phase, frac) : 0);
      return;
    }
    const s = this.floorSpread();
    const e = x - this.predict(phase, frac);
    const limit = p.clip * s;
    const clipped = n < 8 ? e : e > limit ? limit : e < -limit ? -limit : e;
    const a = Math.max(p.levelAlpha, 1 / n);
    this.level += a * clipped;
    if (this.period > 0) {
      const step = p.seasonGamma * (1 - a) * clipped;
      if (frac === 0) this.season[phase] = (this.season[phase] as number) + step;
      else {
        const next = (phase + 1) % this.period;
        this.season[phase] = (this.season[phase] as number) + (1 - frac) * step;
        this.season[next] = (this.season[next] as number) + frac * step;
      }
    }
    const b = Math.max(p.spreadAlpha, 1 / (n - 1));
    const dev = n < 8 ? Math.abs(e) : Math.min(Math.abs(e), 2 * limit);
    this.spread += b * (dev - this.spread);
    this.level += followShift(this, e, s, this.params);
  }


  state(): { scalars: number[]; season: number[] } {
    return { scalars: [this.level, this.spread, this.count, this.run, this.runSum], season: Array.from(this.season) };
  }

  restore(s: { scalars: number[]; season: number[] }): this {
    [this.level, this.spread, this.count, this.run, this.runSum] = s.scalars as [number, number, number, number, number];
    this.season.set(s.season);
    return this;
  }
}
