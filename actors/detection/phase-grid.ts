// Agile's coarse phase grid, for series sampled finer than a day's 288th (5 minutes).
// A daily cycle of 10-second samples is 8,640 slots: three of them do not fit a warm-up
// buffer of modest size, and a profile of 8,640 phases would cost 69 KB per series. On
// the coarse grid the warm-up buffer holds the mean of each 5-minute bucket (the period
// search and the initial profile read those means), and the season has 288 phases a day,
// read between bucket centres by linear interpolation; every sample is still scored.
// Series sampled every 5 minutes or slower keep their native grid (nothing here applies).
import { DAY } from './seasonality.ts';

/** Width of a coarse bucket: a day's 288th, the finest phase a daily profile keeps. */
export const COARSE_UNIT = DAY / 288;

/** Grid unit for a series of sampling step `step` (ms): its own step, or the coarse bucket
 * when it samples finer than that. */
export function gridUnit(step: number): number {
  return step > 0 && step < COARSE_UNIT ? COARSE_UNIT : step;
}

/** One value into the running mean at `i` (a count that would overflow its array stays put:
 * the mean then weighs each new value by 1/max, as good as exact for a mean). */
export function addToMean(means: Float64Array | Float32Array, counts: Float32Array | Uint16Array, i: number, value: number): void {
  const c = (counts[i] as number) + 1;
  const n = counts instanceof Uint16Array && c > 65_535 ? 65_535 : c;
  counts[i] = n;
  const m = means[i] as number;
  means[i] = n === 1 ? value : m + (value - m) / n;
}

/**
 * Warm-up buffer on the coarse grid: the running mean and count of each bucket (a bucket
 * is centred on its index times the unit). Means are NaN where no sample came, which
 * findPeriod counts as the mean and the profile initialisation skips.
 */
export class BucketMeans {
  readonly means: Float64Array;
  readonly counts: Float32Array;

  constructor(size: number) {
    this.means = new Float64Array(size).fill(NaN);
    this.counts = new Float32Array(size);
  }

  add(bucket: number, value: number): void {
    if (!(bucket >= 0 && bucket < this.means.length)) return;
    addToMean(this.means, this.counts, bucket, value);
  }

  state(): { means: Array<number | null>; counts: number[] } {
    return { means: Array.from(this.means, (v) => (Number.isNaN(v) ? null : v)), counts: Array.from(this.counts) };
  }

  static restore(s: { means: Array<number | null>; counts: number[] }): BucketMeans {
    const b = new BucketMeans(s.means.length);
    s.means.forEach((v, i) => (b.means[i] = v === null ? NaN : v));
    b.counts.set(s.counts);
    return b;
  }
}
