// A level shift that persists: `shiftRun` errors in a row beyond `shiftBound` spreads on the
// same side move the level by their mean at once, so one episode gives one alarm instead of
// a slow drift that keeps alarming. Shared by Basic's robust level and Agile's seasonal one.

export interface ShiftParams {
  shiftBound: number;
  shiftRun: number;
}

// the run's slots in a model's array (slots.ts): the signed count of same-side large errors,
// then their sum
const RUN = 0;
const RUN_SUM = 1;
export const SHIFT_SLOTS = 2;

/** Counts error `e` (spread `spread`) into the run in `s` from `at`; returns how far the
 * level moves (0: not yet). */
export function followShift(s: number[], at: number, e: number, spread: number, p: ShiftParams): number {
  const side = e > p.shiftBound * spread ? 1 : e < -p.shiftBound * spread ? -1 : 0;
  const run = s[at + RUN] as number;
  if (side === 0 || side !== Math.sign(run)) {
    s[at + RUN] = side;
    s[at + RUN_SUM] = side === 0 ? 0 : e;
    return 0;
  }
  const n = run + side;
  const sum = (s[at + RUN_SUM] as number) + e;
  if (Math.abs(n) < p.shiftRun) {
    s[at + RUN] = n;
    s[at + RUN_SUM] = sum;
    return 0;
  }
  s[at + RUN] = 0;
  s[at + RUN_SUM] = 0;
  return sum / Math.abs(n);
}
