// How far a ratio of two pooled percentiles can be trusted from one run: a bootstrap over the
// run's rounds. Each resample draws as many rounds as the run had, with replacement, and keeps
// each round's two phases together (the machine's drift hits both phases of a round alike), then
// pools the drawn rounds' latencies per phase, as the run's own figure does. The interval is the
// spread of that figure over the resamples: when B alone against B with A lands anywhere in
// [lo, hi] 90 times in 100, one run saying 1.05 and another 1.25 is the machine, not the node.
import { createRng } from '../actors/runtime/index.ts';
import { percentile } from './ingest/client.ts';

export const DEFAULT_RESAMPLES = 1000;

export interface RatioInterval {
  /** the 5th and 95th percentiles of the resampled ratio */
  lo: number;
  hi: number;
  resamples: number;
}

/**
 * `over[r]` and `under[r]` are round r's latencies (any order) in the two phases compared;
 * the ratio is percentile `q` of `over` pooled / percentile `q` of `under` pooled.
 */
export function ratioInterval(over: readonly number[][], under: readonly number[][], q: number, seed: number | string = 1, resamples = DEFAULT_RESAMPLES): RatioInterval {
  if (over.length !== under.length || over.length === 0) throw new RangeError('ratioInterval needs the same number of rounds, at least one, in both phases');
  const rng = createRng(seed);
  const ratios: number[] = [];
  const rounds = over.length;
  for (let i = 0; i < resamples; i++) {
    const picked = Array.from({ length: rounds }, () => rng.int(rounds));
    const denominator = pooledPercentile(under, picked, q);
    if (denominator > 0) ratios.push(pooledPercentile(over, picked, q) / denominator);
  }
  ratios.sort((x, y) => x - y);
  return { lo: percentile(ratios, 5), hi: percentile(ratios, 95), resamples: ratios.length };
}

function pooledPercentile(phase: readonly number[][], picked: readonly number[], q: number): number {
  const pool = new Float64Array(picked.reduce((n, r) => n + phase[r]!.length, 0));
  let at = 0;
  for (const r of picked) {
    pool.set(phase[r]!, at);
    at += phase[r]!.length;
  }
  pool.sort(); // a typed array sorts by value, and several times faster than a compared Array
  return percentile(pool, q);
}
