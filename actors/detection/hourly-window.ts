// A window of hourly means of a series' values, for a test that looks for a calendar cycle
// after warm-up (weekly.ts: a week on a daily season).
// Hours since the epoch index it, so it is aligned with the calendar profiles that read it
// (calendar-profile.ts); Float32 means and Uint16 counts keep it at 6 B an hour.
import { addToMean } from './phase-grid.ts';
import { HOUR } from './seasonality.ts';

/** The means as base64 of their Float32 bytes and the counts of their Uint16 bytes: exact
 * (NaN included), and about a third of the size of JSON numbers (as Robust's error history). */
export interface HourlyWindowState {
  start: number;
  means: string;
  counts: string;
}

export class HourlyWindow {
  private means: Float32Array;
  private counts: Uint16Array;

  private constructor(
    /** the window's first hour (hours since the epoch) */
    readonly start: number,
    hours: number,
  ) {
    this.means = new Float32Array(hours).fill(NaN);
    this.counts = new Uint16Array(hours);
  }

  /** A window of `hours` hours from the hour of `timestamp`. */
  static at(timestamp: number, hours: number): HourlyWindow {
    return new HourlyWindow(Math.floor(timestamp / HOUR), hours);
  }

  /** Adds a value; false when `timestamp` lies past the window's end (it is then complete),
   * true otherwise (a time before the window teaches nothing). */
  add(timestamp: number, value: number): boolean {
    const i = Math.floor(timestamp / HOUR) - this.start;
    if (i >= this.means.length) return false;
    if (i >= 0) addToMean(this.means, this.counts, i, value);
    return true;
  }

  /** Has at least `share` of the window's hours a sample? */
  filled(share: number): boolean {
    let n = 0;
    for (const c of this.counts) if (c > 0) n++;
    return n >= share * this.means.length;
  }

  /** Each hourly mean less the mean of its hour of the `cycle`-hour cycle over the window
   * (NaN where no sample came). */
  lessCycle(cycle: number): Float64Array {
    const mean = this.cycleMeans(Float64Array.from(this.means), cycle);
    return Float64Array.from(this.means, (v, i) => (Number.isNaN(v) ? NaN : v - (mean[(this.start + i) % cycle] as number)));
  }

  /** The mean of the values at each hour of the `cycle`-hour cycle, from `series` (one value
   * per hour of the window; NaN skipped; an hour never seen is 0). */
  cycleMeans(series: Float64Array, cycle: number): Float64Array {
    const sum = new Float64Array(cycle);
    const count = new Float64Array(cycle);
    series.forEach((v, i) => {
      if (Number.isNaN(v)) return;
      const k = (this.start + i) % cycle;
      sum[k] = (sum[k] as number) + v;
      count[k] = (count[k] as number) + 1;
    });
    return sum.map((s, k) => ((count[k] as number) > 0 ? s / (count[k] as number) : 0));
  }

  state(): HourlyWindowState {
    return { start: this.start, means: base64(this.means), counts: base64(this.counts) };
  }

  static restore(s: HourlyWindowState): HourlyWindow {
    const means = Buffer.from(s.means, 'base64');
    const counts = Buffer.from(s.counts, 'base64');
    const w = new HourlyWindow(s.start, means.byteLength / 4);
    // copied out: a decoded Buffer may sit unaligned in Node's pool
    new Uint8Array(w.means.buffer).set(means);
    new Uint8Array(w.counts.buffer).set(counts.subarray(0, w.counts.byteLength));
    return w;
  }
}

function base64(a: Float32Array | Uint16Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
