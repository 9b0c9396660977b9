// A series' sampling step, learnt from its first timestamps (the median of the first 16
// positive gaps), and how many steps each new sample lies after the previous one: what
// lets a model count a gap as the time that passed rather than as one more sample.
import { medianStep } from './seasonality.ts';

/** gaps used to learn the step */
const STEP_GAPS = 16;
/** the time a surprise is judged over: a daily profile's finest phase (5 minutes) */
export const SURPRISE_UNIT_MS = 300_000;

// its slots in a chain's array (slots.ts)
const STEP = 0; // ms per step (NaN until learnt)
const LAST = 1; // data time of the last readable timestamp (NaN: none yet)
// decades a per-sample surprise gives up to be per SURPRISE_UNIT_MS: log10(unit/step) for
// series sampled finer than that, 0 otherwise (and while the step is unknown)
const LOOK_ELSEWHERE = 2;
export const TIME_SLOTS = 3;

/** Nothing learnt, in `s` from `at`. */
export function initTimeStep(s: number[], at: number): void {
  s[at + STEP] = NaN;
  s[at + LAST] = NaN;
  s[at + LOOK_ELSEWHERE] = 0;
}

/** The learnt step (ms; NaN until learnt). */
export function stepOf(s: readonly number[], at: number): number {
  return s[at + STEP] as number;
}

/** The decades a sample's surprise gives up for the series' sampling (see LOOK_ELSEWHERE). */
export function lookElsewhereOf(s: readonly number[], at: number): number {
  return s[at + LOOK_ELSEWHERE] as number;
}

/** Steps between the previous readable sample and `timestamp` (1 while the step is
 * unknown, for unreadable, repeated or backward time); learns the timestamp, the first ones
 * into `stamps` until the step is known (then `stamps` is emptied). */
export function advanceTime(s: number[], at: number, stamps: number[], timestamp: number): number {
  const last = s[at + LAST] as number;
  // the common case first: time moves on and the step is known (NaN compares false)
  if (timestamp > last && timestamp < Infinity) {
    s[at + LAST] = timestamp;
    const step = s[at + STEP] as number;
    if (step === step) {
      const steps = (timestamp - last) / step;
      return steps > 1 ? steps : 1;
    }
    learnStep(s, at, stamps, timestamp);
    return 1;
  }
  if (!Number.isFinite(timestamp)) return 1;
  if (Number.isNaN(last)) s[at + LAST] = timestamp;
  if (Number.isNaN(s[at + STEP] as number)) learnStep(s, at, stamps, timestamp);
  return 1;
}

function learnStep(s: number[], at: number, stamps: number[], timestamp: number): void {
  stamps.push(timestamp);
  if (stamps.length <= STEP_GAPS) return;
  const step = medianStep(stamps);
  setStep(s, at, step > 0 ? step : Infinity); // no usable time: every sample is one step
  stamps.length = 0;
}

function setStep(s: number[], at: number, step: number): void {
  s[at + STEP] = step;
  s[at + LOOK_ELSEWHERE] = lookElsewhere(step);
}

/** [step, last, ...stamps]; NaN and Infinity become null on their way through JSON, and
 * restoreTimeStep reads null as NaN (an unusable step is then learnt again, as unusable). */
export function timeStepState(s: readonly number[], at: number, stamps: readonly number[]): number[] {
  const out = [s[at + STEP] as number, s[at + LAST] as number];
  for (const t of stamps) out.push(t);
  return out;
}

/** Restores the slots; returns the stamps still learning the step. */
export function restoreTimeStep(s: number[], at: number, st: ReadonlyArray<number | null>): number[] {
  setStep(s, at, orNaN(st[0]));
  s[at + LAST] = orNaN(st[1]);
  return st.slice(2).map(orNaN);
}

function lookElsewhere(step: number): number {
  return step > 0 && step < SURPRISE_UNIT_MS ? Math.log10(SURPRISE_UNIT_MS / step) : 0;
}

function orNaN(v: number | null | undefined): number {
  return v === null || v === undefined ? NaN : v;
}
