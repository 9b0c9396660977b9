// After a detection, the same episode keeps producing surprising samples; NAB (and an
// on-call engineer) counts only the first. For `spanMs` of data time after a score reached
// `level`, scores are damped by `damping`, so one episode yields one alarm. The span is
// time, not a sample count: a series sampled every 10 s and one sampled hourly get the same
// quiet period, and a gap in the data uses it up as time passes. Samples whose timestamp
// cannot be read fall back to counting (`spanSamples`).
import { doubleSlots } from './slots.ts';

export interface RefractoryParams {
  /** score at which an episode starts */
  level: number;
  /** data time the damping lasts (ms) */
  spanMs: number;
  /** samples the damping lasts when a timestamp is unreadable (and for pre-time snapshots) */
  spanSamples: number;
  /** factor applied to scores during the span */
  damping: number;
}

// its slots in a chain's array (slots.ts)
const LEFT = 0; // samples left in a counted span (0: none)
const UNTIL = 1; // data time (ms) until which scores are damped (-Infinity: none)
export const REFRACTORY_SLOTS = 2;

/** No span under way, in `s` from `at`. */
export function initRefractory(s: number[], at: number): void {
  s[at + LEFT] = 0;
  s[at + UNTIL] = -Infinity;
}

/** The score as the refractory in `s` from `at` lets it through (damped within a span). */
export function applyRefractory(s: number[], at: number, p: RefractoryParams, score: number, timestamp: number): number {
  const timed = Number.isFinite(timestamp);
  let damped = timed && timestamp < (s[at + UNTIL] as number);
  const left = s[at + LEFT] as number;
  if (left > 0) {
    s[at + LEFT] = left - 1;
    damped = true;
  }
  if (damped) return score * p.damping;
  if (score >= p.level) {
    if (timed) s[at + UNTIL] = timestamp + p.spanMs;
    else s[at + LEFT] = p.spanSamples;
  }
  return score;
}

/** [left, until] with no span stored as until 0 (JSON has no -Infinity). */
export function refractoryState(s: readonly number[], at: number): [number, number] {
  const until = s[at + UNTIL] as number;
  return [s[at + LEFT] as number, Number.isFinite(until) ? until : 0];
}

export function restoreRefractory(s: number[], at: number, left: number, until = 0): void {
  s[at + LEFT] = left;
  s[at + UNTIL] = until === 0 ? -Infinity : until;
}

/** A refractory of its own, for a tier that damps a combination of scores (Robust). */
export class Refractory {
  private readonly s = doubleSlots(REFRACTORY_SLOTS);

  constructor(readonly params: RefractoryParams) {
    initRefractory(this.s, 0);
  }

  /** samples left in a counted span (0: none) */
  get left(): number {
    return this.s[LEFT] as number;
  }

  apply(score: number, timestamp: number): number {
    return applyRefractory(this.s, 0, this.params, score, timestamp);
  }

  state(): [number, number] {
    return refractoryState(this.s, 0);
  }

  restore(left: number, until = 0): this {
    restoreRefractory(this.s, 0, left, until);
    return this;
  }
}
