// The learnt rescorer: a logistic regression, trained with labels (NAB's dev windows, by
// bench/nab/rescore.ts with tfjs), over what the tier knows about an elevated sample
// (alarm-features.ts). Its output p is how much such a sample looks like the start of a
// labelled anomaly rather than a false alarm; the score is moved by at most ±`reach` of
// itself: × (1 + reach · (2p − 1)). Only samples already scoring ≥ `from` are judged: below
// it no threshold the sweeps choose can be reached, and the per-sample path stays as it was.
import { FEATURE_NAMES, FEATURES } from './alarm-features.ts';
import { ROBUST } from './params.ts';
import shipped from './rescorer-weights.json' with { type: 'json' };

export interface RescorerWeights {
  /** the feature names in order (alarm-features.ts); a mismatch refuses the weights */
  features: string[];
  /** standardisation of each feature (train-set mean and spread) */
  mean: number[];
  scale: number[];
  w: number[];
  b: number;
}

export function checkWeights(r: RescorerWeights): RescorerWeights {
  const ok =
    r.features.length === FEATURES &&
    r.features.every((f, i) => f === FEATURE_NAMES[i]) &&
    [r.mean, r.scale, r.w].every((a) => a.length === FEATURES && a.every(Number.isFinite)) &&
    r.scale.every((s) => s > 0) &&
    Number.isFinite(r.b);
  if (!ok) throw new RangeError('robust: rescorer weights do not match the features');
  return r;
}

/** The weights shipped with the tier: trained on the whole NAB dev split (all three folds). */
export const SHIPPED_RESCORER: RescorerWeights = checkWeights(shipped as RescorerWeights);

/** p in (0, 1): the logistic model's belief that the sample starts a real anomaly. */
export function rescoreProbability(r: RescorerWeights, x: ArrayLike<number>): number {
  let s = r.b;
  for (let i = 0; i < FEATURES; i++) s += (r.w[i] as number) * (((x[i] as number) - (r.mean[i] as number)) / (r.scale[i] as number));
  return 1 / (1 + Math.exp(-s));
}

/** The rescored score (never above 1). */
export function rescore(r: RescorerWeights, score: number, x: ArrayLike<number>): number {
  const p = rescoreProbability(r, x);
  return Math.min(1, score * (1 + ROBUST.rescore.reach * (2 * p - 1)));
}
