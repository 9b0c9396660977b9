// A level shift that persists: `shiftRun` errors in a row beyond `shiftBound` spreads on the
// same side move the level by their mean at once, so one episode gives one alarm instead of
// a slow drift that keeps alarming. Shared by Basic's robust level and Agile's seasonal one.

export interface ShiftParams {
  shiftBound: number;
  shiftRun: number;
}

/** The model's run state: signed count of same-side large errors and their sum. */
export interface ShiftRun {
  run: number;
  runSum: number;
}

/** Counts error `e` (spread `s`) into the run; returns how far the level moves (0: not yet). */
export function followShift(r: ShiftRun, e: number, s: number, p: ShiftParams): number {
  const side = e > p.shiftBound * s ? 1 : e < -p.shiftBound * s ? -1 : 0;
  if (side === 0 || side !== Math.sign(r.run)) {
    r.run = side;
    r.runSum = side === 0 ? 0 : e;
    return 0;
  }
  r.run += side;
  r.runSum += e;
  if (Math.abs(r.run) < p.shiftRun) return 0;
  const jump = r.runSum / Math.abs(r.run);
  r.run = 0;
  r.runSum = 0;
  return jump;
}
