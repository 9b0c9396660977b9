// A robust running centre and spread without seasonality: an exponentially weighted level
// that moves by at most `clip` spreads per sample (a Huber step, so one spike barely moves
// it) and an exponentially weighted mean absolute deviation with the same clipping. A level
// shift that persists (`shiftRun` samples in a row beyond `shiftBound` spreads on one side)
// moves the level at once by their mean, as Agile's model does: the episode ends when the
// new level is learnt, not after hundreds of clipped steps. O(1) time, five numbers of state.
import { followShift } from './level-shift.ts';

export interface RobustLevelParams {
  /** weight of a new sample in the level */
  levelAlpha: number;
  /** weight of a new absolute deviation in the spread */
  spreadAlpha: number;
  /** Huber clip, in spreads: larger steps count as this many spreads */
  clip: number;
  /** a run of `shiftRun` errors beyond `shiftBound` spreads on one side is a new level */
  shiftBound: number;
  shiftRun: number;
}

export class RobustLevel {
  level = 0;
  spread = 0;
  count = 0;
  /** signed run of same-side large errors and their sum */
  run = 0;
  runSum = 0;

  constructor(readonly params: RobustLevelParams) {}

  /** Signed deviation of x from the level, in spreads, judged before x is learned. */
  deviation(x: number): number {
    if (this.count === 0) return 0;
    return (x - this.level) / this.floorSpread();
  }

  /** The spread, floored relative to the level so a flat series does not divide by zero. */
  floorSpread(): number {
    return Math.max(this.spread, 1e-3 * Math.abs(this.level), 1e-9);
  }

  learn(x: number): void {
    const p = this.params;
    const n = ++this.count;
    if (n === 1) {
      this.level = x;
      return;
    }
    const s = this.floorSpread();
    const d = x - this.level;
    const limit = p.clip * s;
    // while the spread is still being learned (first samples) steps are not clipped
    const step = n < 8 ? d : Math.max(-limit, Math.min(limit, d));
    const a = Math.max(p.levelAlpha, 1 / n);
    this.level += a * step;
    const b = Math.max(p.spreadAlpha, 1 / (n - 1));
    const dev = n < 8 ? Math.abs(d) : Math.min(Math.abs(d), 2 * limit);
    this.spread += b * (dev - this.spread);
    // most samples lie within the bound with no run going: nothing to follow
    if (n >= 8 && (this.run !== 0 || d > p.shiftBound * s || d < -p.shiftBound * s)) this.level += followShift(this, d, s, this.params);
  }


  state(): number[] {
    return [this.level, this.spread, this.count, this.run, this.runSum];
  }

  /** Takes this layout or the older one without the run (3 numbers). */
  restore(s: readonly number[]): this {
    [this.level, this.spread, this.count] = s as [number, number, number];
    this.run = (s[3] as number | undefined) ?? 0;
    this.runSum = (s[4] as number | undefined) ?? 0;
    return this;
  }
}
