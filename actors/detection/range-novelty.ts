// Values beyond everything the series has shown so far (by a margin of its range) are
// surprising whatever the local noise says: bursty series (disk writes, network bytes)
// have a median spread near zero and their anomalies are new extremes. After Numenta's
// "spatial anomaly" check in NAB.
import type { Side } from './sensitivity.ts';

export class RangeNovelty {
  lo = Infinity;
  hi = -Infinity;
  count = 0;

  constructor(
    /** margin as a fraction of the range */
    readonly tolerance: number,
    /** samples before the range is trusted */
    readonly warmup: number,
  ) {}

  /** How far x lies outside the known range on the chosen side, in value units; 0 when
   * inside, within the margin or during warm-up. The range learns x either way. */
  excess(x: number, side: Side): number {
    const n = ++this.count;
    const lo = this.lo;
    const hi = this.hi;
    if (x < lo) this.lo = x;
    if (x > hi) this.hi = x;
    if (n <= this.warmup) return 0;
    const range = hi - lo;
    // a constant series: any departure on the chosen side is new
    if (range <= 0) return (x > hi && side !== 'down') || (x < lo && side !== 'up') ? Infinity : 0;
    const out = x > hi && side !== 'down' ? x - hi : x < lo && side !== 'up' ? lo - x : 0;
    return out > this.tolerance * range ? out : 0;
  }

  /** JSON has no Infinity: an empty range is stored as count 0 and rebuilt on restore. */
  state(): number[] {
    return this.count === 0 ? [0, 0, 0] : [this.lo, this.hi, this.count];
  }

  restore(s: readonly number[]): this {
    [this.lo, this.hi, this.count] = s as [number, number, number];
    if (this.count === 0) {
      this.lo = Infinity;
      this.hi = -Infinity;
    }
    return this;
  }
}
