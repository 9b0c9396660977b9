// Values outside everything the series has shown are surprising whatever the local noise
// says (Numenta's "spatial anomaly" in NAB): bursty series have near-zero typical residuals
// and their incidents are new extremes. The surprise grows with the overshoot (in ranges).
import { ROBUST } from './params.ts';

export class Extremes {
  lo = Infinity;
  hi = -Infinity;

  /** Surprise of `x` against the range so far (0 inside it), then widens the range. */
  surprise(x: number, armed: boolean): number {
    const range = this.hi - this.lo;
    let out = 0;
    if (armed && range > 0) {
      const over = x > this.hi ? (x - this.hi) / range : x < this.lo ? (this.lo - x) / range : 0;
      if (over > 0) out = ROBUST.extremeSurprise * (1 + over);
    }
    if (x > this.hi) this.hi = x;
    if (x < this.lo) this.lo = x;
    return out;
  }

  state(): number[] {
    return [this.lo, this.hi];
  }

  restore(s: readonly number[]): this {
    [this.lo, this.hi] = s as [number, number];
    return this;
  }
}
