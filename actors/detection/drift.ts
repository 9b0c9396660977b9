// A slow drift: the model's level has moved over the last day far more than this series'
// level moves in a day. A memory leak, a disk filling, latency creeping up: each sample
// lies within a spread or two of a level that follows it (the level lags a drift by only
// slope/alpha), so neither the likelihood nor the deviation bound ever sees it, and on a
// seasonal series the range never breaks either. The drift of a day is
//   z = (level now − level a day ago) / spread,
// the level read at the first sample of each hour (a ring of 25 hours, by data time, so a
// daily cycle that leaks into the level cancels and gaps leave holes, not lies). Its mean
// and spread over about 11.6 days (the likelihood's long memory), taken once an hour so the
// sampling rate does not weigh, make its tail. A drift already reported is not news again:
// the channel is quiet for a day and an hour after an anomaly the tier noted, and learns
// nothing then (a level shift it alarmed on would otherwise come back as a day's drift once
// the refractory span ends, and widen what the series' normal drift looks like). A tier whose
// model changes its frame (Agile adopting a season or a week) starts the channel afresh.
import type { Side } from './sensitivity.ts';
import { logUpperTail } from './tail.ts';

export interface DriftParams {
  /** the span the level's move is measured over (ms) */
  spanMs: number;
  /** data time the long-term statistics of z remember (ms) */
  longSpanMs: number;
  /** hourly values of z before its statistics are trusted */
  warmupHours: number;
  /** floor of z's long-term sd (spreads) */
  sdFloor: number;
  /** z is Huber-clipped at this many sds before it is learnt, so a drift under way (not yet
   * alarmed on) does not teach itself as normal within hours (the house's 4, as the models') */
  clip: number;
}

const HOUR_MS = 3_600_000;
/** hourly levels kept: spans up to a day */
const RING = 25;
// Layout of the one array of doubles (unboxed, as calendar-profile.ts: no boxed number per
// field): the ring of hourly levels, then these slots
const HOUR = RING; // the hour (since the epoch) of the latest ring entry (NaN: none)
const MEAN = RING + 1;
const MEAN_SQ = RING + 2;
const COUNT = RING + 3;
const QUIET = RING + 4; // data time until which drift is not news
const SLOTS = RING + 5;

export class Drift {
  private readonly d: number[] = new Array<number>(SLOTS).fill(NaN);

  constructor(readonly params: DriftParams) {
    if (!(params.spanMs >= HOUR_MS && params.spanMs < RING * HOUR_MS)) throw new RangeError(`drift span must be 1 to 24 hours, got ${params.spanMs} ms`);
    this.reset();
  }

  /** Forgets everything (also the tier's way to say its level now means something else). */
  reset(): void {
    const d = this.d;
    d.fill(NaN);
    d[MEAN] = 0;
    d[MEAN_SQ] = 0;
    d[COUNT] = 0;
    d[QUIET] = -Infinity;
  }

  /** log P(a day's drift this large on `side`) (<= 0) for the tier's `level` (before the
   * sample is learnt) and `spread` at `timestamp`. Tails under 3 sds are not computed. */
  update(level: number, spread: number, timestamp: number, side: Side): number {
    if (!Number.isFinite(timestamp) || !Number.isFinite(level)) return 0;
    const d = this.d;
    const p = this.params;
    const hour = Math.floor(timestamp / HOUR_MS);
    const last = d[HOUR] as number;
    const lag = Math.round(p.spanMs / HOUR_MS);
    if (!(hour <= last)) {
      // a new hour: the hours skipped are holes, this one holds the level
      const from = Number.isNaN(last) || hour - last > RING ? hour - RING + 1 : last + 1;
      for (let h = from; h < hour; h++) d[h % RING] = NaN;
      d[hour % RING] = level;
      d[HOUR] = hour;
      // a move that includes a reported anomaly is not how this series drifts
      const z = timestamp < (d[QUIET] as number) ? NaN : this.z(level, spread, hour, lag);
      if (!Number.isNaN(z)) this.learn(z);
    } else if (hour < last - RING + 1) return 0; // older than the ring: time went far back
    if (timestamp < (d[QUIET] as number) || (d[COUNT] as number) < p.warmupHours) return 0;
    const z = this.z(level, spread, hour, lag);
    if (Number.isNaN(z)) return 0;
    const mean = d[MEAN] as number;
    const v = (d[MEAN_SQ] as number) - mean * mean;
    const variance = v > p.sdFloor * p.sdFloor ? v : p.sdFloor * p.sdFloor;
    const k = side === 'up' ? z - mean : side === 'down' ? mean - z : Math.abs(z - mean);
    return k > 0 && k * k > 9 * variance ? logUpperTail(k / Math.sqrt(variance)) : 0;
  }

  /** The tier reported an anomaly: for a span, a day's move that includes it is not news. */
  noteAnomaly(timestamp: number): void {
    // the level a day ago was read at the start of its hour: up to an hour before the anomaly
    if (Number.isFinite(timestamp)) this.d[QUIET] = timestamp + this.params.spanMs + HOUR_MS;
  }

  private z(level: number, spread: number, hour: number, lag: number): number {
    const then = this.d[(hour - lag) % RING] as number;
    return Number.isNaN(then) || !(spread > 0) ? NaN : (level - then) / spread;
  }

  private learn(raw: number): void {
    const d = this.d;
    const p = this.params;
    const n = (d[COUNT] as number) + 1;
    let z = raw;
    if (n > p.warmupHours) {
      const mean = d[MEAN] as number;
      const v = (d[MEAN_SQ] as number) - mean * mean;
      const lim = p.clip * Math.sqrt(v > p.sdFloor * p.sdFloor ? v : p.sdFloor * p.sdFloor);
      z = raw > mean + lim ? mean + lim : raw < mean - lim ? mean - lim : raw;
    }
    d[COUNT] = n;
    const a = Math.max(HOUR_MS / this.params.longSpanMs, 1 / n);
    d[MEAN] = (d[MEAN] as number) + a * (z - (d[MEAN] as number));
    d[MEAN_SQ] = (d[MEAN_SQ] as number) + a * (z * z - (d[MEAN_SQ] as number));
  }

  /** The array as is; NaN and ±Infinity travel as null. */
  state(): Array<number | null> {
    return this.d.map((v) => (Number.isFinite(v) ? v : null));
  }

  restore(s: ReadonlyArray<number | null> | null | undefined): this {
    if (!Array.isArray(s) || s.length !== SLOTS) return this;
    s.forEach((v, i) => (this.d[i] = v === null ? NaN : v));
    if (Number.isNaN(this.d[QUIET] as number)) this.d[QUIET] = -Infinity;
    return this;
  }
}
