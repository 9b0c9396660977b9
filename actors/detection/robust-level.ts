// A robust running centre and spread without seasonality: an exponentially weighted level
// that moves by at most `clip` spreads per sample (a Huber step, so one spike barely moves
// it) and an exponentially weighted mean absolute deviation with the same clipping. A level
// shift that persists (`shiftRun` samples in a row beyond `shiftBound` spreads on one side)
// moves the level at once by their mean, as Agile's model does: the episode ends when the
// new level is learnt, not after hundreds of clipped steps. O(1) time, five numbers of state
// (slots in the tier's array: functions over them, slots.ts).
import { followShift, SHIFT_SLOTS } from './level-shift.ts';

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

// its slots in a tier's array (slots.ts)
const LEVEL = 0;
const SPREAD = 1;
const COUNT = 2;
const RUN = 3; // the shift run's two slots (level-shift.ts)
export const ROBUST_LEVEL_SLOTS = RUN + SHIFT_SLOTS;

/** The level in `s` from `at`. */
export function levelOf(s: readonly number[], at: number): number {
  return s[at + LEVEL] as number;
}

/** Samples learnt. */
export function levelCount(s: readonly number[], at: number): number {
  return s[at + COUNT] as number;
}

/** The spread, floored relative to the level so a flat series does not divide by zero. */
export function floorSpread(s: readonly number[], at: number): number {
  return Math.max(s[at + SPREAD] as number, 1e-3 * Math.abs(s[at + LEVEL] as number), 1e-9);
}

/** Signed deviation of x from the level, in spreads, judged before x is learned. */
export function levelDeviation(s: readonly number[], at: number, x: number): number {
  if (s[at + COUNT] === 0) return 0;
  return (x - (s[at + LEVEL] as number)) / floorSpread(s, at);
}

export function learnLevel(s: number[], at: number, p: RobustLevelParams, x: number): void {
  const n = (s[at + COUNT] as number) + 1;
  s[at + COUNT] = n;
  if (n === 1) {
    s[at + LEVEL] = x;
    return;
  }
  const spread = floorSpread(s, at);
  let level = s[at + LEVEL] as number;
  const d = x - level;
  const limit = p.clip * spread;
  // while the spread is still being learned (first samples) steps are not clipped
  const step = n < 8 ? d : Math.max(-limit, Math.min(limit, d));
  const a = Math.max(p.levelAlpha, 1 / n);
  level += a * step;
  learnSpread(s, at, p.spreadAlpha, n, d, limit);
  // most samples lie within the bound with no run going: nothing to follow
  if (n >= 8 && (s[at + RUN] !== 0 || d > p.shiftBound * spread || d < -p.shiftBound * spread)) level += followShift(s, at + RUN, d, spread, p);
  s[at + LEVEL] = level;
}

/** Learns the `n`th sample's error `e` into the spread in `s` from `at`: a mean absolute
 * error clipped at twice the level's clip `limit` (unclipped over the first samples, while
 * the spread is still being learnt). Agile's seasonal level keeps its spread the same way. */
export function learnSpread(s: number[], at: number, spreadAlpha: number, n: number, e: number, limit: number): void {
  const b = Math.max(spreadAlpha, 1 / (n - 1));
  const dev = n < 8 ? Math.abs(e) : Math.min(Math.abs(e), 2 * limit);
  s[at + SPREAD] = (s[at + SPREAD] as number) + b * (dev - (s[at + SPREAD] as number));
}

/** [level, spread, count, run, runSum] */
export function levelState(s: readonly number[], at: number): number[] {
  return s.slice(at, at + ROBUST_LEVEL_SLOTS);
}

/** Takes this layout or the older one without the run (3 numbers). */
export function restoreLevel(s: number[], at: number, st: readonly number[]): void {
  s[at + LEVEL] = st[0] as number;
  s[at + SPREAD] = st[1] as number;
  s[at + COUNT] = st[2] as number;
  s[at + RUN] = (st[3] as number | undefined) ?? 0;
  s[at + RUN + 1] = (st[4] as number | undefined) ?? 0;
}
