// A personalised random walk (PageRank with restarts) by power iteration over sparse
// transitions. Visit frequencies gather where the walker keeps being sent and stays.
import { DEFAULT_DAMPING, WALK_MAX_ITERATIONS, WALK_TOLERANCE } from './constants.ts';

export interface Transitions {
  /** per node: where a step may go and with what (unnormalised) weight */
  targets: number[][];
  weights: number[][];
}

/** Stationary visit frequencies; nodes with no way out send the walker back to `restart`. */
export function personalisedWalk(t: Transitions, restart: Float64Array, damping = DEFAULT_DAMPING): Float64Array {
  const n = restart.length;
  const p = normalise(restart);
  const probs = t.weights.map((w) => {
    const sum = w.reduce((s, x) => s + x, 0);
    return sum > 0 ? w.map((x) => x / sum) : [];
  });
  let pi = Float64Array.from(p);
  let next = new Float64Array(n);
  for (let it = 0; it < WALK_MAX_ITERATIONS; it++) {
    next.fill(0);
    let stranded = 0;
    for (let u = 0; u < n; u++) {
      const mass = pi[u]!;
      if (mass === 0) continue;
      const pr = probs[u]!;
      if (pr.length === 0) { stranded += mass; continue; }
      const to = t.targets[u]!;
      for (let k = 0; k < pr.length; k++) next[to[k]!]! += damping * mass * pr[k]!;
    }
    const back = 1 - damping + damping * stranded;
    let moved = 0;
    for (let u = 0; u < n; u++) {
      next[u]! += back * p[u]!;
      moved += Math.abs(next[u]! - pi[u]!);
    }
    [pi, next] = [next, pi];
    if (moved < WALK_TOLERANCE) break;
  }
  return pi;
}

function normalise(v: Float64Array): Float64Array {
  const sum = v.reduce((s, x) => s + x, 0);
  if (!(sum > 0)) throw new RangeError('restart distribution is empty');
  return v.map((x) => x / sum);
}
