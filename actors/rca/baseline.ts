// Judging a window of a series against a baseline of normal operation: robust z (median,
// MAD), the excess on the harmful side, and when the departure began and peaked. The
// window's first sample is the pre-incident reference: a series that was already off
// there is not part of this incident, so a departure counts only as far as it is both
// abnormal against the baseline and new against that reference.
import { DEFAULT_DEVIATION_BOUND } from './constants.ts';
import { squash } from './evidence.ts';
import type { SeriesAnomaly } from './types.ts';

/** Fewer baseline samples than this leave a series unjudged (a third of a day at 5 minutes). */
export const DEFAULT_MIN_BASELINE = 100;
/**
 * The noise scale is at least this share of the series' level: a series that never moved
 * (availability at 100% for two days) would otherwise make any wobble infinitely abnormal.
 */
export const DEFAULT_SCALE_FLOOR = 0.01;
/** MAD of a normal distribution is 0.6745 sigma; this makes MAD estimate sigma. */
const MAD_TO_SIGMA = 1.4826;

export interface Baseline {
  median: number;
  /** robust noise scale, in the metric's unit */
  scale: number;
  count: number;
}

export function baselineOf(values: ReadonlyArray<number | undefined>, minCount = DEFAULT_MIN_BASELINE): Baseline | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length < minCount) return undefined;
  const median = medianOf(v);
  const mad = medianOf(v.map((x) => Math.abs(x - median)));
  return { median, scale: Math.max(MAD_TO_SIGMA * mad, DEFAULT_SCALE_FLOOR * Math.abs(median), Number.MIN_VALUE), count: v.length };
}

export interface WindowSeries {
  service: string;
  metric: string;
  /** which side hurts: latency 'up', availability 'down' */
  direction: 'up' | 'down';
  /** [ts, value]; a missing value is undefined */
  samples: ReadonlyArray<[number, number | undefined]>;
}

/** The series' evidence over the window, or undefined when the window has nothing to judge. */
export function judgeWindow(s: WindowSeries, base: Baseline, bound = DEFAULT_DEVIATION_BOUND): SeriesAnomaly | undefined {
  const sign = s.direction === 'up' ? 1 : -1;
  const excess: Array<[number, number]> = [];
  for (const [ts, v] of s.samples) if (v !== undefined && Number.isFinite(v)) excess.push([ts, sign * (v - base.median)]);
  if (s.samples.length < 2 || excess.length === 0) return undefined;
  const ref = s.samples[0]![1] === undefined ? undefined : sign * (s.samples[0]![1] - base.median);
  let deviation = 0;
  let peakAt = s.samples[1]![0];
  let onset: number | undefined;
  for (const [ts, e] of excess) {
    if (ts === s.samples[0]![0]) continue;
    const z = (ref === undefined ? e : Math.min(e, e - ref)) / base.scale;
    if (z > deviation) { deviation = z; peakAt = ts; }
    if (z > bound && onset === undefined) onset = ts;
  }
  return {
    service: s.service, metric: s.metric, score: squash(deviation, bound), deviation, direction: s.direction,
    ...(onset !== undefined ? { onset } : {}), peakAt, excess,
  };
}

/**
 * A series that is a percentage of events (availability: the share of requests that
 * succeeded), judged with the events' count at each sample. Its noise is binomial: a drop
 * from 100% to 89% over 37 requests (4 failures) is weaker evidence than one to 97.5% over
 * 882 (22 failures), which a noise scale taken from the level alone cannot tell apart. The
 * arcsine square-root transform makes a proportion's variance 1/(4n) whatever its level, so
 * a sample's deviation is 2 sqrt(n) (asin sqrt(p0) - asin sqrt(p)), with p0 the baseline's
 * median. A sample without a count says nothing. The excess stays in the metric's unit (for
 * the counterfactual share); the reference rule is judgeWindow's.
 */
export function judgeProportion(s: WindowSeries, counts: ReadonlyMap<number, number>, base: Baseline, bound = DEFAULT_DEVIATION_BOUND): SeriesAnomaly | undefined {
  const sign = s.direction === 'up' ? 1 : -1;
  const angle = (percent: number): number => Math.asin(Math.sqrt(Math.min(1, Math.max(0, percent / 100))));
  const level = angle(base.median);
  const z: Array<[number, number]> = [];
  const excess: Array<[number, number]> = [];
  for (const [ts, v] of s.samples) {
    if (v === undefined || !Number.isFinite(v)) continue;
    excess.push([ts, sign * (v - base.median)]);
    const n = counts.get(ts);
    z.push([ts, n !== undefined && n > 0 ? sign * 2 * Math.sqrt(n) * (angle(v) - level) : 0]);
  }
  if (s.samples.length < 2 || z.length === 0) return undefined;
  const first = s.samples[0]![0];
  const ref = z[0]![0] === first ? z[0]![1] : undefined;
  let deviation = 0;
  let peakAt = s.samples[1]![0];
  let onset: number | undefined;
  for (const [ts, zt] of z) {
    if (ts === first) continue;
    const d = ref === undefined ? zt : Math.min(zt, zt - ref);
    if (d > deviation) { deviation = d; peakAt = ts; }
    if (d > bound && onset === undefined) onset = ts;
  }
  return {
    service: s.service, metric: s.metric, score: squash(deviation, bound), deviation, direction: s.direction,
    ...(onset !== undefined ? { onset } : {}), peakAt, excess,
  };
}

function medianOf(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface AroundIncident {
  /** when the incident began (its first anomaly), Unix ms */
  start: number;
  /** how much of the series before `lead` serves as normal operation (default 1 h) */
  baselineMs?: number;
  /** the window opens this long before `start`, so its first sample predates the trouble (default 1 min) */
  leadMs?: number;
}

export const DEFAULT_BASELINE_MS = 3_600_000;
export const DEFAULT_LEAD_MS = 60_000;

/**
 * A raw series around an incident, judged against its own recent past (as BARO does with
 * the data before the detection time): what detectors missed or damped still counts.
 */
export function judgeAroundIncident(s: WindowSeries, at: AroundIncident): SeriesAnomaly | undefined {
  const open = at.start - (at.leadMs ?? DEFAULT_LEAD_MS);
  const from = open - (at.baselineMs ?? DEFAULT_BASELINE_MS);
  const base = baselineOf(s.samples.filter(([ts]) => ts >= from && ts < open).map(([, v]) => v));
  if (!base) return undefined;
  return judgeWindow({ ...s, samples: s.samples.filter(([ts]) => ts >= open) }, base);
}
