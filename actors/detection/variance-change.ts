// A series that goes quiet: its noise falls far below what its own history shows. The
// local noise is the running mean of |x_t - x_(t-1)| over the last `spanMs` of data time
// (whatever the level, so a season or a trend does not move it much); its log is compared
// with the long-term mean and spread of that same log, and the lower tail is the surprise.
// A stuck sensor, an exporter repeating its last value, a service that stopped serving and
// reports a flat line: every sample lies within the model's bounds, yet the series has
// changed. (A rise of noise is the likelihood's: a run of larger deviations raises its
// short-term average. Scoring that side here too was measured and added only false alarms.)
import { logUpperTail } from './tail.ts';

export interface VarianceParams {
  /** data time the local noise averages over (ms), and the least number of differences:
   * the log of one or two differences of an hourly series has a fat lower tail (a single
   * near-repeat is not a flat line) */
  spanMs: number;
  minSamples: number;
  /** data time the long-term statistics of the log-noise remember (ms) */
  longSpanMs: number;
  /** data time from the first sample before the long-term statistics are trusted (ms) */
  warmupMs: number;
  /** floor of the long-term sd of the log-noise (nats) */
  sdFloor: number;
  /** a difference across a gap of more than this many steps is not a sample of the noise */
  maxSteps: number;
}

/** sampling step assumed while the step is unknown or unusable */
const DEFAULT_STEP_MS = 300_000;

// its slots in a chain's array (slots.ts)
const PREV = 0; // the previous finite sample (NaN: none)
const NOISE = 1; // local mean |difference|
const SCALE = 2; // long-term mean |difference|: the log's floor is relative to it (a flat line has noise 0)
const MEAN = 3; // long-term mean and mean square of the log-noise
const MEAN_SQ = 4;
const COUNT = 5; // differences seen
const START = 6; // data time of the first sample (NaN: none yet)
// the weights for the step they were computed for (derived, not state)
const RATE_STEP = 7;
const ALPHA = 8;
const LONG_ALPHA = 9;
export const VARIANCE_SLOTS = 10;
/** the slots a snapshot holds (PREV to START) */
const STATE = START + 1;

/** Nothing seen, in `s` from `at`. */
export function initVariance(s: number[], at: number): void {
  for (let i = 0; i < VARIANCE_SLOTS; i++) s[at + i] = 0;
  s[at + PREV] = NaN;
  s[at + START] = NaN;
  s[at + RATE_STEP] = NaN;
}

/** log P(noise this low) (<= 0) for finite sample `x` at `timestamp`, `steps` sampling
 * steps of `stepMs` after the previous one, by the channel in `s` from `at`. Tails under 3
 * sds (p > 1e-3, a score under 0.3) are not computed: they never decide anything, and this
 * runs on every sample. */
export function updateVariance(s: number[], at: number, p: VarianceParams, x: number, timestamp: number, steps: number, stepMs: number): number {
  const prev = s[at + PREV] as number;
  s[at + PREV] = x;
  let start = s[at + START] as number;
  if (start !== start && timestamp === timestamp) s[at + START] = start = timestamp;
  if (prev !== prev || steps > p.maxSteps) return 0;
  if (stepMs !== s[at + RATE_STEP]) rates(s, at, p, stepMs);
  const r = x >= prev ? x - prev : prev - x;
  const n = (s[at + COUNT] as number) + 1;
  s[at + COUNT] = n;
  // count-weighted means until 1/n falls below the weights (no division after that)
  const alpha = s[at + ALPHA] as number;
  const longAlpha = s[at + LONG_ALPHA] as number;
  const a = n * alpha > 1 ? alpha : 1 / n;
  const b = n * longAlpha > 1 ? longAlpha : 1 / n;
  const noise = (s[at + NOISE] as number) + a * (r - (s[at + NOISE] as number));
  const scale = (s[at + SCALE] as number) + b * (r - (s[at + SCALE] as number));
  s[at + NOISE] = noise;
  s[at + SCALE] = scale;
  const f = Math.log(noise + 1e-3 * scale + 1e-12);
  const mean = s[at + MEAN] as number;
  const meanSq = s[at + MEAN_SQ] as number;
  let logTail = 0;
  const below = mean - f;
  if (below > 0) {
    const floor = p.sdFloor;
    const v = meanSq - mean * mean;
    const variance = v > floor * floor ? v : floor * floor;
    // more than 3 sds below, compared squared: the root only for the rare sample that is
    if (below * below > 9 * variance && timestamp - start >= p.warmupMs) logTail = logUpperTail(below / Math.sqrt(variance));
  }
  // the long-term statistics take the newest value only after it was judged (causal)
  s[at + MEAN] = mean + b * (f - mean);
  s[at + MEAN_SQ] = meanSq + b * (f * f - meanSq);
  return logTail;
}

/** The weights for a sampling step (an unknown or unusable step counts as 5 minutes). */
function rates(s: number[], at: number, p: VarianceParams, stepMs: number): void {
  const step = stepMs > 0 && stepMs < Infinity ? stepMs : DEFAULT_STEP_MS;
  s[at + RATE_STEP] = stepMs;
  s[at + ALPHA] = Math.min(step / p.spanMs, 1 / p.minSamples);
  s[at + LONG_ALPHA] = step / p.longSpanMs;
}

/** [prev, noise, scale, mean, meanSq, count, start]; NaN travels as null. */
export function varianceState(s: readonly number[], at: number): Array<number | null> {
  const out: Array<number | null> = [];
  for (let i = 0; i < STATE; i++) {
    const v = s[at + i] as number;
    out.push(Number.isNaN(v) ? null : v);
  }
  return out;
}

export function restoreVariance(s: number[], at: number, st: ReadonlyArray<number | null>): void {
  for (let i = 0; i < STATE; i++) {
    const v = st[i];
    s[at + i] = v === null || v === undefined ? NaN : v;
  }
}
