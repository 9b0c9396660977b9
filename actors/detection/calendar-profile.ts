// A coarse calendar profile: one offset per hour of a cycle (24 for a day, 168 for a week),
// read between the two nearest hour centres (linear interpolation, so a ramp is not a
// staircase) and learnt by time, not by samples: each hour of data moves the offsets under
// it by `gamma` of their error whatever the sampling step (Agile's seasonGamma, 0.1 per
// cycle and phase). Until `1 / gamma` cycles have passed an offset is the plain mean of what
// it has seen (weight 1 / (1 + cycles)), so a cycle is known after one or two, not ten.
// Basic's time-of-day profile (24): operations data is daily, and without it a season-less
// level calls every morning ramp and every quiet night a deviation, and a break of the daily
// pattern (a missing peak, a holiday) is invisible; 24 numbers keep the tier small (a daily
// season at Agile's native 5-minute grid is 288). Agile's weekly layer (weekly.ts, 168): how
// each day of the week differs from the average day. Timestamps that are unreadable,
// repeated or go backwards teach it nothing (no time passed); a gap teaches at most an hour.
import { doubleSlots } from './slots.ts';

const HOUR_MS = 3_600_000;
const PER_HOUR = 1 / HOUR_MS;
/** hours in the cycles the tiers use */
export const DAY_HOURS = 24;
export const WEEK_HOURS = 168;

export interface CalendarProfileParams {
  /** weight of an hour of data in the offsets under it, once past the first cycles */
  gamma: number;
  /** errors are Huber-clipped at this many spreads before they are learnt (as the level's) */
  clip: number;
}

// its slots in a tier's array (slots.ts): the `hours` offsets, then these
const FIRST = 0; // data time of the first readable timestamp (NaN: none yet)
const LAST = 1; // the latest readable timestamp
const CYCLE_START = 2; // start of the last sample's cycle (a cache)
const FRAC = 3; // where the current sample reads: fraction towards the next hour
const VALUE = 4; // the offset read for the current sample
const I0 = 5; // the hour the current sample reads (and the next)
const TAIL = 6;

/** Slots a profile of `hours` takes. */
export function profileSlots(hours: number): number {
  return hours + TAIL;
}

/** An empty profile of `hours` in `s` from `at`. */
export function initProfile(s: number[], at: number, hours: number): void {
  for (let i = 0; i < hours + TAIL; i++) s[at + i] = 0;
  s[at + hours + FIRST] = NaN;
  s[at + hours + LAST] = NaN;
  s[at + hours + CYCLE_START] = NaN;
}

/** The offset at `timestamp` (the last one read when it is unreadable). */
export function readProfile(s: number[], at: number, hours: number, timestamp: number): number {
  const t = at + hours; // where the slots after the offsets begin
  if (!Number.isFinite(timestamp)) return s[t + VALUE] as number;
  // the start of the sample's cycle is cached: one subtraction per sample, no modulo
  const cycle = hours * HOUR_MS;
  let start = s[t + CYCLE_START] as number;
  if (!(timestamp >= start && timestamp < start + cycle)) s[t + CYCLE_START] = start = timestamp - (((timestamp % cycle) + cycle) % cycle);
  const h = (timestamp - start) * PER_HOUR - 0.5;
  const f = Math.floor(h);
  const i0 = f < 0 ? hours - 1 : f;
  const frac = h - f;
  s[t + I0] = i0;
  s[t + FRAC] = frac;
  const a = s[at + i0] as number;
  return (s[t + VALUE] = a + frac * ((s[at + (i0 === hours - 1 ? 0 : i0 + 1)] as number) - a));
}

/** Learns the error `e` (value − level − offset) of the sample last read at `timestamp`. */
export function learnProfile(s: number[], at: number, hours: number, p: CalendarProfileParams, timestamp: number, e: number, spread: number): void {
  if (!Number.isFinite(timestamp)) return;
  const t = at + hours;
  const last = s[t + LAST] as number;
  if (Number.isNaN(s[t + FIRST] as number)) s[t + FIRST] = timestamp;
  if (!(timestamp <= last)) s[t + LAST] = timestamp;
  const dt = timestamp - last; // NaN on the first sample: nothing learnt
  if (!(dt > 0)) return;
  const g = p.gamma;
  // the plain mean of the first cycles (1 / (1 + cycles)), then the steady weight
  const cycles1 = 1 + Math.max(0, (timestamp - (s[t + FIRST] as number)) / (hours * HOUR_MS));
  const w = (cycles1 * g >= 1 ? g : 1 / cycles1) * (dt < HOUR_MS ? dt : HOUR_MS) * PER_HOUR;
  const lim = p.clip * spread;
  const c = w * (e > lim ? lim : e < -lim ? -lim : e);
  const frac = s[t + FRAC] as number;
  const i0 = s[t + I0] as number;
  const i1 = i0 === hours - 1 ? 0 : i0 + 1;
  s[at + i0] = (s[at + i0] as number) + (1 - frac) * c;
  s[at + i1] = (s[at + i1] as number) + frac * c;
}

/** [offsets, first, last, value]; an unknown time travels as null. */
export function profileState(s: readonly number[], at: number, hours: number): Array<number | null> {
  const out: Array<number | null> = [];
  for (let i = 0; i < hours; i++) out.push(s[at + i] as number);
  const first = s[at + hours + FIRST] as number;
  const last = s[at + hours + LAST] as number;
  out.push(Number.isFinite(first) ? first : null, Number.isFinite(last) ? last : null, s[at + hours + VALUE] as number);
  return out;
}

/** Takes a state of the same length (anything else is ignored: the profile learns afresh). */
export function restoreProfile(s: number[], at: number, hours: number, st: ReadonlyArray<number | null> | undefined): void {
  if (!Array.isArray(st) || st.length !== hours + 3) return;
  for (let i = 0; i < hours; i++) s[at + i] = (st[i] as number | null) ?? 0;
  s[at + hours + FIRST] = (st[hours] as number | null) ?? NaN;
  s[at + hours + LAST] = (st[hours + 1] as number | null) ?? NaN;
  s[at + hours + VALUE] = (st[hours + 2] as number | null) ?? 0;
}

/** A profile with an array of its own (Agile's weekly layer). */
export class CalendarProfile {
  private readonly s: number[];

  constructor(
    readonly params: CalendarProfileParams,
    readonly hours: number = DAY_HOURS,
  ) {
    this.s = doubleSlots(profileSlots(hours));
    initProfile(this.s, 0, hours);
  }

  read(timestamp: number): number {
    return readProfile(this.s, 0, this.hours, timestamp);
  }

  learn(timestamp: number, e: number, spread: number): void {
    learnProfile(this.s, 0, this.hours, this.params, timestamp, e, spread);
  }

  /** Counts learning as begun at `timestamp` (a profile set from data already seen). */
  startFrom(timestamp: number): this {
    this.s[this.hours + FIRST] = timestamp;
    return this;
  }

  /** Sets the offsets (a profile estimated from buffered cycles). */
  setOffsets(offsets: ArrayLike<number>): this {
    for (let i = 0; i < this.hours; i++) this.s[i] = offsets[i] as number;
    return this;
  }

  state(): Array<number | null> {
    return profileState(this.s, 0, this.hours);
  }

  restore(st: ReadonlyArray<number | null> | undefined): this {
    restoreProfile(this.s, 0, this.hours, st);
    return this;
  }
}
