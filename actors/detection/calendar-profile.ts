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

// Layout of the one array of doubles after the `hours` offsets (V8 keeps a double array
// unboxed, where each double field of an object is a separate heap number: ~100 B more per
// series, and a million Basic series must fit in a 2 GB heap)
const FIRST = 0; // data time of the first readable timestamp (NaN: none yet)
const LAST = 1; // the latest readable timestamp
const CYCLE_START = 2; // start of the last sample's cycle (a cache)
const FRAC = 3; // where the current sample reads: fraction towards the next hour
const VALUE = 4; // the offset read for the current sample
const SLOTS = 5;

export class CalendarProfile {
  /** `hours` hourly offsets, then the slots above */
  private readonly d: number[];
  /** the hour the current sample reads (and the next) */
  private i0 = 0;

  constructor(
    readonly params: CalendarProfileParams,
    readonly hours: number = DAY_HOURS,
  ) {
    // no per-object double fields (a boxed number each): the cycle's length is derived
    const d = (this.d = new Array<number>(hours + SLOTS).fill(0));
    d[hours + FIRST] = NaN;
    d[hours + LAST] = NaN;
    d[hours + CYCLE_START] = NaN;
  }

  /** The offset at `timestamp` (the last one read when it is unreadable). */
  read(timestamp: number): number {
    const d = this.d;
    const n = this.hours;
    if (!Number.isFinite(timestamp)) return d[n + VALUE] as number;
    // the start of the sample's cycle is cached: one subtraction per sample, no modulo
    const cycle = n * HOUR_MS;
    let start = d[n + CYCLE_START] as number;
    if (!(timestamp >= start && timestamp < start + cycle)) d[n + CYCLE_START] = start = timestamp - (((timestamp % cycle) + cycle) % cycle);
    const h = (timestamp - start) * PER_HOUR - 0.5;
    const f = Math.floor(h);
    const i0 = f < 0 ? n - 1 : f;
    const frac = h - f;
    this.i0 = i0;
    d[n + FRAC] = frac;
    const a = d[i0] as number;
    return (d[n + VALUE] = a + frac * ((d[i0 === n - 1 ? 0 : i0 + 1] as number) - a));
  }

  /** Learns the error `e` (value − level − offset) of the sample last read at `timestamp`. */
  learn(timestamp: number, e: number, spread: number): void {
    if (!Number.isFinite(timestamp)) return;
    const d = this.d;
    const n = this.hours;
    const last = d[n + LAST] as number;
    if (Number.isNaN(d[n + FIRST] as number)) d[n + FIRST] = timestamp;
    if (!(timestamp <= last)) d[n + LAST] = timestamp;
    const dt = timestamp - last; // NaN on the first sample: nothing learnt
    if (!(dt > 0)) return;
    const g = this.params.gamma;
    // the plain mean of the first cycles (1 / (1 + cycles)), then the steady weight
    const cycles1 = 1 + Math.max(0, (timestamp - (d[n + FIRST] as number)) / (n * HOUR_MS));
    const w = (cycles1 * g >= 1 ? g : 1 / cycles1) * (dt < HOUR_MS ? dt : HOUR_MS) * PER_HOUR;
    const lim = this.params.clip * spread;
    const c = w * (e > lim ? lim : e < -lim ? -lim : e);
    const frac = d[n + FRAC] as number;
    const i0 = this.i0;
    const i1 = i0 === n - 1 ? 0 : i0 + 1;
    d[i0] = (d[i0] as number) + (1 - frac) * c;
    d[i1] = (d[i1] as number) + frac * c;
  }

  /** Counts learning as begun at `timestamp` (a profile set from data already seen). */
  startFrom(timestamp: number): this {
    this.d[this.hours + FIRST] = timestamp;
    return this;
  }

  /** Sets the offsets (a profile estimated from buffered cycles). */
  setOffsets(offsets: ArrayLike<number>): this {
    for (let i = 0; i < this.hours; i++) this.d[i] = offsets[i] as number;
    return this;
  }

  /** [offsets, first, last, value]; an unknown time travels as null. */
  state(): Array<number | null> {
    const d = this.d;
    const n = this.hours;
    const out: Array<number | null> = [];
    for (let i = 0; i < n; i++) out.push(d[i] as number);
    const first = d[n + FIRST] as number;
    const last = d[n + LAST] as number;
    out.push(Number.isFinite(first) ? first : null, Number.isFinite(last) ? last : null, d[n + VALUE] as number);
    return out;
  }

  restore(s: ReadonlyArray<number | null> | undefined): this {
    const n = this.hours;
    if (!Array.isArray(s) || s.length !== n + 3) return this;
    const d = this.d;
    for (let i = 0; i < n; i++) d[i] = (s[i] as number | null) ?? 0;
    d[n + FIRST] = (s[n] as number | null) ?? NaN;
    d[n + LAST] = (s[n + 1] as number | null) ?? NaN;
    d[n + VALUE] = (s[n + 2] as number | null) ?? 0;
    return this;
  }
}
