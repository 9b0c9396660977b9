// Finds the seasonal period of a series from its first samples, among calendar candidates
// (hour, day, week at the series' own sampling step). A candidate P is accepted when the
// autocorrelation at lag P is high AND clearly above the ones at P/2 and 3P/2: a smooth but aperiodic
// series (random walk, trend) has high autocorrelation at every short lag, while a real
// cycle is out of phase at half its period.

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** Median of the positive steps between consecutive timestamps (NaN if none). */
export function medianStep(timestamps: ArrayLike<number>): number {
  const steps: number[] = [];
  for (let i = 1; i < timestamps.length; i++) {
    const d = (timestamps[i] as number) - (timestamps[i - 1] as number);
    if (d > 0 && Number.isFinite(d)) steps.push(d);
  }
  if (steps.length === 0) return NaN;
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1] as number;
}

function autocorrelation(x: ArrayLike<number>, mean: number, variance: number, lag: number): number {
  let s = 0;
  const n = x.length;
  for (let i = lag; i < n; i++) s += ((x[i] as number) - mean) * ((x[i - lag] as number) - mean);
  return s / ((n - lag) * variance);
}

export interface PeriodTest {
  /** minimum autocorrelation at the period */
  minCorrelation: number;
  /** minimum excess over the autocorrelation at half the period */
  minContrast: number;
}

export const PERIOD_TEST: PeriodTest = { minCorrelation: 0.5, minContrast: 0.3 };

/**
 * The best period (in samples) among the candidates that fit twice in `values`, or 0.
 * `values` must be gap-filled onto the regular step (NaN allowed: it counts as the mean).
 */
export function findPeriod(values: ArrayLike<number>, candidates: readonly number[], test: PeriodTest = PERIOD_TEST): number {
  const x = Float64Array.from(values as ArrayLike<number>);
  let sum = 0;
  let count = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) continue;
    sum += v;
    count++;
  }
  if (count < 8) return 0;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i] as number)) x[i] = mean;
    sq += ((x[i] as number) - mean) ** 2;
  }
  const variance = sq / x.length;
  if (!(variance > 0)) return 0;
  let best = 0;
  let bestCorrelation = -Infinity;
  for (const p of candidates) {
    if (p < 4 || 2 * p > x.length) continue;
    const c = autocorrelation(x, mean, variance, p);
    // out of phase at half a period on both sides of P: a cycle, not mere smoothness
    const half = Math.max(autocorrelation(x, mean, variance, Math.round(p / 2)), 2 * p <= x.length ? autocorrelation(x, mean, variance, Math.round(1.5 * p)) : -1);
    if (c >= test.minCorrelation && c - half >= test.minContrast && c >= bestCorrelation - 0.05) {
      best = p;
      bestCorrelation = Math.max(c, bestCorrelation);
    }
  }
  return best;
}
