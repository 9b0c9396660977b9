// Learns the sampling interval and places each timestamp on the daily cycle.
// Odd timestamps: only positive steps teach the interval (repeated or backward timestamps
// are ignored for that); the phase of a sample always comes from its own timestamp, so gaps
// keep the cycle aligned and an out-of-order sample is compared with its own time of day.
// A non-finite timestamp takes the phase after the previous sample's.
import { ROBUST } from './params.ts';

const DAY = 86_400_000;

export class Cadence {
  /** sampling interval in ms (0: not learnt yet or irregular) */
  interval = 0;
  /** samples per day (0: no daily cycle modelled) */
  period = 0;
  /** the interval is decided once, after `cadenceSamples` positive steps */
  decided = false;
  private steps: number[] = [];
  private last = NaN;
  private lastPhase = 0;

  /** Feeds a timestamp; returns true when the period has just been decided. */
  observe(ts: number): boolean {
    if (this.decided || !Number.isFinite(ts)) return false;
    if (Number.isFinite(this.last) && ts > this.last) this.steps.push(ts - this.last);
    if (Number.isFinite(ts)) this.last = ts;
    if (this.steps.length < ROBUST.cadenceSamples) return false;
    const sorted = [...this.steps].sort((a, b) => a - b);
    this.interval = sorted[sorted.length >> 1] as number;
    const perDay = DAY / this.interval;
    const whole = Math.round(perDay);
    // only when the interval divides the day: otherwise phases would drift through the cycle
    if (Math.abs(perDay - whole) < 1e-6 && whole >= ROBUST.minPeriod && whole <= ROBUST.maxPeriod) this.period = whole;
    this.steps = [];
    this.decided = true;
    return true;
  }

  phase(ts: number): number {
    if (this.period === 0) return 0;
    this.lastPhase = Number.isFinite(ts) ? Math.floor((((ts % DAY) + DAY) % DAY) / this.interval) % this.period : (this.lastPhase + 1) % this.period;
    return this.lastPhase;
  }

  state(): number[] {
    return [this.decided ? 1 : 0, this.interval, this.period, this.last, this.lastPhase, ...this.steps];
  }

  restore(s: readonly number[]): this {
    this.decided = s[0] === 1;
    [, this.interval, this.period, this.last, this.lastPhase] = s as [number, number, number, number, number];
    this.steps = s.slice(5);
    return this;
  }
}
