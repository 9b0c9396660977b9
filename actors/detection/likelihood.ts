// How surprising is the recent deviation, given this series' own history of deviations?
// After Numenta's anomaly likelihood: a short-term average of the per-sample deviation is
// compared with the long-term distribution of that same average, and the tail probability
// of the current value is the surprise. Averaging makes a run of moderate deviations (a
// variance change) as visible as one large one (a spike), and comparing with the series'
// own history makes the result mean the same thing on every series (calibration).
import { logUpperTail } from './tail.ts';

export interface LikelihoodParams {
  /** weight of the newest deviation in the short-term average */
  shortAlpha: number;
  /** weight of the newest short-term average in the long-term mean and variance */
  longAlpha: number;
  /** samples before the long-term distribution is trusted (surprise 0 until then) */
  warmup: number;
  /** floor on the long-term standard deviation, in deviation units (flat series) */
  sdFloor: number;
}

// its slots in a chain's array (slots.ts)
const SHORT = 0; // the short-term average
const MEAN = 1; // the long-term mean and mean square of that average
const MEAN_SQ = 2;
const COUNT = 3;
export const LIKELIHOOD_SLOTS = 4;

/** Takes the newest deviation (>= 0), `steps` sampling steps after the previous one, into
 * the likelihood in `s` from `at`, and returns log P(average this high) (<= 0). The
 * short-term average spans time: across a gap it relaxes towards the long-term mean as the
 * missing samples would have moved it, so an old spike's trace does not outlive a day of
 * missing data. */
export function updateLikelihood(s: number[], at: number, p: LikelihoodParams, deviation: number, steps: number): number {
  let mean = s[at + MEAN] as number;
  let short = s[at + SHORT] as number;
  const n = (s[at + COUNT] as number) + 1;
  if (steps > 1 && n > 1) short = mean + (short - mean) * (1 - p.shortAlpha) ** (steps - 1);
  const u = (short += p.shortAlpha * (deviation - short));
  s[at + SHORT] = u;
  s[at + COUNT] = n;
  let meanSq = s[at + MEAN_SQ] as number;
  let logTail = 0;
  if (n > p.warmup) {
    const sd = Math.sqrt(Math.max(meanSq - mean * mean, p.sdFloor * p.sdFloor));
    const k = (u - mean) / sd;
    if (k > 0) logTail = logUpperTail(k);
  }
  // the long-term statistics include the newest average only after it was judged (causal)
  const a = Math.max(p.longAlpha, 1 / n);
  mean += a * (u - mean);
  meanSq += a * (u * u - meanSq);
  s[at + MEAN] = mean;
  s[at + MEAN_SQ] = meanSq;
  return logTail;
}
