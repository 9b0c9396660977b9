// Rule-based detection: what a service judges with while the node is degraded (L2, L3) or in
// emergency (L4), instead of its tier's learnt verdict. Pure, per series, no I/O.
//
// Two rules, both explainable in one line of an alert and needing nothing learnt:
// - a static limit from the tenant's config (`metricLimits: {metric: {above, below}}`): an
//   operator's known line (an SLO, a disk at 95 %). The only rule left at L4 (static).
// - a robust z-score on a fixed window of the series' last RULES.window raw values:
//   |x − median| / (1.4826·MAD) ≥ RULES.bound. Why this one: it needs no baseline, no season
//   and no training (the tiers' learnt state is what L2 stops trusting), holds W numbers per
//   series, is exact on replay, and the median and MAD ignore up to half the window being
//   outliers, so a spike does not hide the next one. It cannot know a daily cycle: a bound of
//   6 robust deviations keeps the ordinary swing of a 32-sample window quiet and still sees a
//   spike or a step. A flat window (MAD 0) falls back to the mean absolute deviation; a
//   window that is entirely constant flags any other value (a constant that moves is news).
// The window is filled at every level, so a service that steps down to L2 judges at once; its
// median and spread are recomputed every RULES.refresh samples, not at each one.
// After a hit, the same series and side stay quiet for RULES.quiet samples: one step is one
// alert, not one per sample until the window has absorbed it.
import type { Direction } from '../../protocols/index.ts';

/** An operator's static line for a metric: above or below it is anomalous. */
export interface StaticLimit {
  above?: number;
  below?: number;
}

export const RULES = {
  /** samples in the window (a power of two: the ring index is a mask) */
  window: 32,
  /** samples the window must hold before the z rule judges */
  minFill: 16,
  /** robust deviations from the window's median that make a hit */
  bound: 6,
  /** samples a series' side stays quiet after a hit */
  quiet: 16,
  /** the window's median and spread are recomputed every this many samples (two sorts of 32
   * values cost ~4 µs; judged against a baseline at most 8 samples old, ~0.6 µs a sample) */
  refresh: 8,
} as const;

/** 1/Φ⁻¹(3/4): MAD → σ for Gaussian noise; √(π/2): mean absolute deviation → σ. */
const MAD_SIGMA = 1.4826;
const MEAN_AD_SIGMA = 1.2533;

export type RuleName = 'static_limit' | 'robust_z';

export interface RuleHit {
  rule: RuleName;
  direction: Direction;
  /** the window's median (z rule) or the limit crossed (static) */
  expected: number;
  /** in [0.9, 1]: a hit is an alert at the node's default minAlertScore; 1 for a static limit */
  score: number;
}

/** Scratch for the median and MAD: one for all series (judging is synchronous). */
const SCRATCH = new Float64Array(RULES.window);

/** Per series: 32 values (256 B) and a few counters; kept at every level. */
export class RuleWindow {
  private readonly values = new Float64Array(RULES.window);
  private filled = 0;
  private next = 0;
  private quietUp = 0;
  private quietDown = 0;
  /** the window's median and σ estimate, and samples learnt since they were computed */
  private median = NaN;
  private scale = NaN;
  private stale = Infinity;

  /** Judges `value` against the window before it (when `z` is on) and the limit, then learns it. */
  judge(value: number, limit: StaticLimit | undefined, z: boolean, direction: 'up' | 'down' | 'both' = 'both'): RuleHit | undefined {
    if (!Number.isFinite(value)) return undefined;
    let hit: RuleHit | undefined;
    if (limit?.above !== undefined && value > limit.above) hit = { rule: 'static_limit', direction: 'up', expected: limit.above, score: 1 };
    else if (limit?.below !== undefined && value < limit.below) hit = { rule: 'static_limit', direction: 'down', expected: limit.below, score: 1 };
    else if (z && this.filled >= RULES.minFill) hit = this.robustZ(value);
    if (hit && direction !== 'both' && hit.direction !== direction) hit = undefined;
    if (hit) {
      const quiet = hit.direction === 'up' ? this.quietUp : this.quietDown;
      if (quiet > 0) hit = undefined;
      else if (hit.direction === 'up') this.quietUp = RULES.quiet + 1;
      else this.quietDown = RULES.quiet + 1;
    }
    if (this.quietUp > 0) this.quietUp--;
    if (this.quietDown > 0) this.quietDown--;
    this.learn(value);
    return hit;
  }

  /** Takes a value into the window without judging it. */
  learn(value: number): void {
    if (!Number.isFinite(value)) return;
    this.values[this.next] = value;
    this.next = (this.next + 1) & (RULES.window - 1);
    if (this.filled < RULES.window) this.filled++;
    this.stale++;
  }

  private robustZ(value: number): RuleHit | undefined {
    if (this.stale >= RULES.refresh) this.estimate();
    const median = this.median;
    const scale = this.scale;
    const dev = value - median;
    const z = scale > 0 ? Math.abs(dev) / scale : dev === 0 ? 0 : Infinity;
    if (z < RULES.bound) return undefined;
    return { rule: 'robust_z', direction: dev >= 0 ? 'up' : 'down', expected: median, score: 1 - (0.1 * RULES.bound) / z };
  }

  /** The window's median and σ estimate: 1.4826·MAD, or √(π/2)·mean absolute deviation if larger. */
  private estimate(): void {
    const n = this.filled;
    const s = SCRATCH.subarray(0, n);
    s.set(this.values.subarray(0, n));
    s.sort();
    const median = mid(s);
    let meanAd = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(s[i]! - median);
      s[i] = d;
      meanAd += d;
    }
    s.sort();
    this.median = median;
    this.scale = Math.max(MAD_SIGMA * mid(s), (MEAN_AD_SIGMA * meanAd) / n);
    this.stale = 0;
  }
}

function mid(sorted: Float64Array): number {
  const n = sorted.length;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}
