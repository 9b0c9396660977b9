// A coarse time-of-day profile for Basic: 24 hourly offsets from the level, read between
// the two nearest hour centres (linear interpolation, so a ramp is not a staircase) and
// learnt by time, not by samples: each hour of data moves the offsets under it by `gamma`
// of their error whatever the sampling step (Agile's seasonGamma, 0.1 per cycle and phase).
// Until `1 / gamma` days have passed an offset is the plain mean of what it has seen
// (weight 1 / (1 + days)), so a daily cycle is known after a day or two, not ten.
// Operations data is daily: without it a season-less level calls every morning ramp and
// every quiet night a deviation, and a break of the daily pattern (a missing peak, a
// holiday) is invisible. 24 numbers: the tier stays small (a daily season at Agile's native
// 5-minute grid is 288). Timestamps that are unreadable, repeated or go backwards teach it
// nothing (no time passed); a gap teaches at most an hour.
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BUCKETS = 24;
const PER_HOUR = 1 / HOUR_MS;
const PER_DAY = 1 / DAY_MS;

export interface DailyProfileParams {
  /** weight of an hour of data in the offsets under it, once past the first days */
  gamma: number;
  /** errors are Huber-clipped at this many spreads before they are learnt (as the level's) */
  clip: number;
}

// Layout of the one array of doubles (V8 keeps a double array unboxed, where each double
// field of an object is a separate heap number: ~100 B more per series, and a million Basic
// series must fit in a 2 GB heap)
const FIRST = BUCKETS; // data time of the first readable timestamp (NaN: none yet)
const LAST = BUCKETS + 1; // the latest readable timestamp
const DAY_START = BUCKETS + 2; // start of the last sample's day (a cache)
const FRAC = BUCKETS + 3; // where the current sample reads: fraction towards the next hour
const VALUE = BUCKETS + 4; // the offset read for the current sample
const SLOTS = BUCKETS + 5;

export class DailyProfile {
  /** 24 hourly offsets, then the slots above */
  private readonly d: number[] = new Array<number>(SLOTS).fill(0);
  /** the hour the current sample reads (and the next) */
  private i0 = 0;

  constructor(readonly params: DailyProfileParams) {
    const d = this.d;
    d[FIRST] = NaN;
    d[LAST] = NaN;
    d[DAY_START] = NaN;
  }

  /** The offset at `timestamp` (the last one read when it is unreadable). */
  read(timestamp: number): number {
    const d = this.d;
    if (!Number.isFinite(timestamp)) return d[VALUE] as number;
    // the start of the sample's day is cached: one subtraction per sample, no modulo
    let start = d[DAY_START] as number;
    if (!(timestamp >= start && timestamp < start + DAY_MS)) d[DAY_START] = start = timestamp - (((timestamp % DAY_MS) + DAY_MS) % DAY_MS);
    const h = (timestamp - start) * PER_HOUR - 0.5;
    const f = Math.floor(h);
    const i0 = f < 0 ? BUCKETS - 1 : f;
    const frac = h - f;
    this.i0 = i0;
    d[FRAC] = frac;
    const a = d[i0] as number;
    return (d[VALUE] = a + frac * ((d[i0 === BUCKETS - 1 ? 0 : i0 + 1] as number) - a));
  }

  /** Learns the error `e` (value − level − offset) of the sample last read at `timestamp`. */
  learn(timestamp: number, e: number, spread: number): void {
    if (!Number.isFinite(timestamp)) return;
    const d = this.d;
    const last = d[LAST] as number;
    if (Number.isNaN(d[FIRST] as number)) d[FIRST] = timestamp;
    if (!(timestamp <= last)) d[LAST] = timestamp;
    const dt = timestamp - last; // NaN on the first sample: nothing learnt
    if (!(dt > 0)) return;
    const g = this.params.gamma;
    // the plain mean of the first days (1 / (1 + days)), then the steady weight
    const days1 = 1 + Math.max(0, (timestamp - (d[FIRST] as number)) * PER_DAY);
    const w = (days1 * g >= 1 ? g : 1 / days1) * (dt < HOUR_MS ? dt : HOUR_MS) * PER_HOUR;
    const lim = this.params.clip * spread;
    const c = w * (e > lim ? lim : e < -lim ? -lim : e);
    const frac = d[FRAC] as number;
    const i0 = this.i0;
    const i1 = i0 === BUCKETS - 1 ? 0 : i0 + 1;
    d[i0] = (d[i0] as number) + (1 - frac) * c;
    d[i1] = (d[i1] as number) + frac * c;
  }

  /** [24 offsets, first, last, value]; an unknown time travels as null. */
  state(): Array<number | null> {
    const d = this.d;
    const out: Array<number | null> = [];
    for (let i = 0; i < BUCKETS; i++) out.push(d[i] as number);
    const first = d[FIRST] as number;
    const last = d[LAST] as number;
    out.push(Number.isFinite(first) ? first : null, Number.isFinite(last) ? last : null, d[VALUE] as number);
    return out;
  }

  restore(s: ReadonlyArray<number | null> | undefined): this {
    if (!Array.isArray(s) || s.length !== BUCKETS + 3) return this;
    const d = this.d;
    for (let i = 0; i < BUCKETS; i++) d[i] = (s[i] as number | null) ?? 0;
    d[FIRST] = (s[BUCKETS] as number | null) ?? NaN;
    d[LAST] = (s[BUCKETS + 1] as number | null) ?? NaN;
    d[VALUE] = (s[BUCKETS + 2] as number | null) ?? 0;
    return this;
  }
}
