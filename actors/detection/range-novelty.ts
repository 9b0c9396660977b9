// Values beyond everything the series has shown so far (by a margin of its range) are
// surprising whatever the local noise says: bursty series (disk writes, network bytes)
// have a median spread near zero and their anomalies are new extremes. After Numenta's
// "spatial anomaly" check in NAB.
import type { Side } from './sensitivity.ts';

// its slots in a chain's array (slots.ts)
const LO = 0;
const HI = 1;
const COUNT = 2;
export const RANGE_SLOTS = 3;

export interface RangeParams {
  /** margin as a fraction of the range */
  tolerance: number;
  /** samples before the range is trusted */
  warmup: number;
}

/** An empty range in `s` from `at`. */
export function initRange(s: number[], at: number): void {
  s[at + LO] = Infinity;
  s[at + HI] = -Infinity;
  s[at + COUNT] = 0;
}

/** The width of the range known so far (-Infinity: none). */
export function rangeWidth(s: readonly number[], at: number): number {
  return (s[at + HI] as number) - (s[at + LO] as number);
}

/** How far x lies outside the known range on the chosen side, in value units; 0 when
 * inside, within the margin or during warm-up. The range learns x either way. */
export function rangeExcess(s: number[], at: number, p: RangeParams, x: number, side: Side): number {
  const n = (s[at + COUNT] as number) + 1;
  s[at + COUNT] = n;
  const lo = s[at + LO] as number;
  const hi = s[at + HI] as number;
  if (x < lo) s[at + LO] = x;
  if (x > hi) s[at + HI] = x;
  if (n <= p.warmup) return 0;
  const range = hi - lo;
  // a constant series: any departure on the chosen side is new
  if (range <= 0) return (x > hi && side !== 'down') || (x < lo && side !== 'up') ? Infinity : 0;
  const out = x > hi && side !== 'down' ? x - hi : x < lo && side !== 'up' ? lo - x : 0;
  return out > p.tolerance * range ? out : 0;
}

/** [lo, hi, count]; JSON has no Infinity: an empty range is stored as count 0 and rebuilt on restore. */
export function rangeState(s: readonly number[], at: number): number[] {
  return s[at + COUNT] === 0 ? [0, 0, 0] : [s[at + LO] as number, s[at + HI] as number, s[at + COUNT] as number];
}

export function restoreRange(s: number[], at: number, st: readonly number[]): void {
  const count = st[2] as number;
  s[at + LO] = count === 0 ? Infinity : (st[0] as number);
  s[at + HI] = count === 0 ? -Infinity : (st[1] as number);
  s[at + COUNT] = count;
}
