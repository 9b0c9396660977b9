// Online robust seasonal-trend decomposition: value ≈ level + season[phase] + residual.
// Both parts learn from Huber-clipped residuals (at most `clip` scales per sample), so a long
// anomaly moves them slowly and the baseline it is measured against stays put; a real change
// of level is still absorbed in time. The scale is the smoothed absolute residual, itself
// fed clipped residuals. The first visit of a phase seeds it from the value (fast start).
import { ROBUST } from './params.ts';

export class SeasonalTrend {
  level = NaN;
  scale = 0;
  private seen = 0;
  season: Float64Array;
  visited: Uint8Array;

  constructor(readonly period: number) {
    this.season = new Float64Array(period);
    this.visited = new Uint8Array(period);
  }

  /** The expectation for a sample at `phase` (NaN before the first sample). */
  predict(phase: number): number {
    return this.period > 0 && this.visited[phase] === 1 ? this.level + (this.season[phase] as number) : this.level;
  }

  /** Robust scale with a floor, so a perfectly flat series still makes any change stand out. */
  spread(reference: number): number {
    return this.scale > 0 ? this.scale : Math.max(Math.abs(reference) * 1e-6, 1e-9);
  }

  /** Learns from a sample whose residual against predict(phase) was `residual`. */
  learn(value: number, phase: number, residual: number): void {
    if (Number.isNaN(this.level)) {
      this.level = value;
      this.seen = 1;
      this.scale = this.spread(value);
      return;
    }
    const sc = this.spread(value);
    const bound = ROBUST.clip * sc;
    const clip = (x: number): number => (x > bound ? bound : x < -bound ? -bound : x);
    if (this.period > 0) {
      if (this.visited[phase] === 0) {
        this.season[phase] = value - this.level;
        this.visited[phase] = 1;
      } else this.season[phase] = (this.season[phase] as number) + ROBUST.seasonAlpha * clip(value - this.level - (this.season[phase] as number));
      this.level += ROBUST.levelAlpha * clip(value - (this.season[phase] as number) - this.level);
    } else this.level += ROBUST.levelAlpha * clip(residual);
    // the first samples average plainly (1/n), then exponential forgetting
    this.seen++;
    const a = Math.max(ROBUST.scaleAlpha, 1 / this.seen);
    const r = Math.min(Math.abs(residual), ROBUST.scaleClip * sc);
    this.scale += a * (r - this.scale);
  }

  /** The same trend and scale with a daily cycle of `period` samples (decided after start-up). */
  withPeriod(period: number): SeasonalTrend {
    const t = new SeasonalTrend(period);
    t.level = this.level;
    t.scale = this.scale;
    t.seen = this.seen;
    return t;
  }

  state(): { level: number; scale: number; seen: number; season: number[]; visited: number[] } {
    return { level: this.level, scale: this.scale, seen: this.seen, season: Array.from(this.season), visited: Array.from(this.visited) };
  }

  static restore(period: number, s: { level: number; scale: number; seen: number; season: readonly number[]; visited: readonly number[] }): SeasonalTrend {
    const t = new SeasonalTrend(period);
    t.level = s.level;
    t.scale = s.scale;
    t.seen = s.seen;
    t.season.set(s.season);
    t.visited.set(s.visited);
    return t;
  }
}
