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
import { floorSpread, learnSpread, ROBUST_LEVEL_SLOTS, type RobustLevelParams } from './robust-level.ts';
import { doubleSlots } from './slots.ts';

/** A robust level's parameters (robust-level.ts), and the season's weight. */
export interface SeasonalLevelParams extends RobustLevelParams {
  seasonGamma: number;
}

// its slots (slots.ts): a robust level's (robust-level.ts), whose spread it shares
const LEVEL = 0;
const SPREAD = 1;
const COUNT = 2;
const RUN = 3; // the shift run's two slots (level-shift.ts)
const SLOTS = ROBUST_LEVEL_SLOTS;

export class SeasonalLevel {
  /** [level, spread, count, run, run's sum] */
  private readonly s = doubleSlots(SLOTS);
  season: Float64Array;

  constructor(
    readonly params: SeasonalLevelParams,
    readonly period: number,
  ) {
    this.season = new Float64Array(period);
  }

  get level(): number {
    return this.s[LEVEL] as number;
  }

  set level(v: number) {
    this.s[LEVEL] = v;
  }

  get spread(): number {
    return this.s[SPREAD] as number;
  }

  set spread(v: number) {
    this.s[SPREAD] = v;
  }

  /** samples learnt */
  get count(): number {
    return this.s[COUNT] as number;
  }

  predict(phase: number, frac = 0): number {
    return this.period > 0 ? (this.s[LEVEL] as number) + this.seasonAt(phase, frac) : (this.s[LEVEL] as number);
  }

  private seasonAt(phase: number, frac: number): number {
    const s = this.season[phase] as number;
    if (frac === 0) return s;
    return (1 - frac) * s + frac * (this.season[(phase + 1) % this.period] as number);
  }

  floorSpread(): number {
    return floorSpread(this.s, 0);
  }

  /** Signed error of x in spreads, judged before x is learned. */
  deviation(x: number, phase: number, frac = 0): number {
    if (this.s[COUNT] === 0) return 0;
    return (x - this.predict(phase, frac)) / this.floorSpread();
  }

  learn(x: number, phase: number, frac = 0): void {
    const p = this.params;
    const st = this.s;
    const n = (st[COUNT] as number) + 1;
    st[COUNT] = n;
    if (n === 1) {
      st[LEVEL] = x - (this.period > 0 ? this.seasonAt(phase, frac) : 0);
      return;
    }
    const s = this.floorSpread();
    const e = x - this.predict(phase, frac);
    const limit = p.clip * s;
    const clipped = n < 8 ? e : e > limit ? limit : e < -limit ? -limit : e;
    const a = Math.max(p.levelAlpha, 1 / n);
    let level = (st[LEVEL] as number) + a * clipped;
    if (this.period > 0) {
      const step = p.seasonGamma * (1 - a) * clipped;
      if (frac === 0) this.season[phase] = (this.season[phase] as number) + step;
      else {
        const next = (phase + 1) % this.period;
        this.season[phase] = (this.season[phase] as number) + (1 - frac) * step;
        this.season[next] = (this.season[next] as number) + frac * step;
      }
    }
    learnSpread(st, 0, p.spreadAlpha, n, e, limit);
    level += followShift(st, RUN, e, s, this.params);
    st[LEVEL] = level;
  }

  state(): { scalars: number[]; season: number[] } {
    return { scalars: this.s.slice(0, SLOTS), season: Array.from(this.season) };
  }

  restore(s: { scalars: number[]; season: number[] }): this {
    // (a run absent from an older snapshot starts at 0, as it would have)
    for (let i = 0; i < SLOTS; i++) this.s[i] = i < RUN ? (s.scalars[i] as number) : (s.scalars[i] ?? 0);
    this.season.set(s.season);
    return this;
  }
}
