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

export class DailyProfile {
  readonly offsets = new Float64Array(BUCKETS);
  /** data time of the first and the last readable timestamps (NaN: none yet) */
  first = NaN;
  last = NaN;
  /** where the current sample reads the profile */
  private i0 = 0;
  private i1 = 1;
  private frac = 0;
  /** data time of the start of the last sample's day (a cache; NaN: none) */
  private dayStart = NaN;
  /** the offset read for the current sample (kept for an unreadable timestamp) */
  value = 0;

  /** days after which 1 / (1 + days) falls under gamma */
  private readonly steadyAfter: number;

  constructor(readonly params: DailyProfileParams) {
    this.steadyAfter = 1 / params.gamma - 1;
  }

  /** The offset at `timestamp` (the last one read when it is unreadable). */
  read(timestamp: number): number {
    if (!Number.isFinite(timestamp)) return this.value;
    // the start of the sample's day is cached: one subtraction per sample, no modulo
    if (!(timestamp >= this.dayStart && timestamp < this.dayStart + DAY_MS)) this.dayStart = timestamp - (((timestamp % DAY_MS) + DAY_MS) % DAY_MS);
    const h = (timestamp - this.dayStart) * PER_HOUR - 0.5;
    const f = Math.floor(h);
    const i0 = f < 0 ? BUCKETS - 1 : f;
    const i1 = i0 === BUCKETS - 1 ? 0 : i0 + 1;
    const frac = h - f;
    this.i0 = i0;
    this.i1 = i1;
    this.frac = frac;
    const o = this.offsets;
    this.value = (o[i0] as number) + frac * ((o[i1] as number) - (o[i0] as number));
    return this.value;
  }

  /** Learns the error `e` (value − level − offset) of the sample last read at `timestamp`. */
  learn(timestamp: number, e: number, spread: number): void {
    if (!Number.isFinite(timestamp)) return;
    if (Number.isNaN(this.first)) this.first = timestamp;
    const dt = Number.isFinite(this.last) ? Math.min(Math.max(timestamp - this.last, 0), HOUR_MS) : 0;
    if (!(timestamp <= this.last)) this.last = timestamp;
    if (dt === 0) return;
    // the plain mean of the first days, then the steady weight (no division once past them)
    const days = (timestamp - this.first) * PER_DAY;
    const w = (days >= this.steadyAfter ? this.params.gamma : 1 / (1 + Math.max(0, days))) * dt * PER_HOUR;
    const lim = this.params.clip * spread;
    const c = e > lim ? lim : e < -lim ? -lim : e;
    this.offsets[this.i0] = (this.offsets[this.i0] as number) + w * (1 - this.frac) * c;
    this.offsets[this.i1] = (this.offsets[this.i1] as number) + w * this.frac * c;
  }

  /** [24 offsets, first, last, value]; an unknown time travels as null. */
  state(): Array<number | null> {
    const t = (x: number): number | null => (Number.isFinite(x) ? x : null);
    return [...this.offsets, t(this.first), t(this.last), this.value];
  }

  restore(s: ReadonlyArray<number | null> | undefined): this {
    if (!Array.isArray(s) || s.length !== BUCKETS + 3) return this;
    for (let i = 0; i < BUCKETS; i++) this.offsets[i] = (s[i] as number | null) ?? 0;
    this.first = (s[BUCKETS] as number | null) ?? NaN;
    this.last = (s[BUCKETS + 1] as number | null) ?? NaN;
    this.value = (s[BUCKETS + 2] as number | null) ?? 0;
    return this;
  }
}
