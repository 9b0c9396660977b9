// bench:tenancy's bootstrap interval for B's p99 ratio (bench/ratio-interval.ts): it brackets
// the pooled ratio, replays exactly from its seed, narrows as rounds are added, and reads a
// real difference between phases as one.
import assert from 'node:assert/strict';
import { createRng } from '../actors/runtime/index.ts';
import { ratioInterval } from '../bench/ratio-interval.ts';
import { percentile } from '../bench/ingest/client.ts';

/** `rounds` rounds of `n` latencies: a lognormal body with a heavy tail, scaled by `scale` */
function rounds(count: number, n: number, scale: number, seed: string): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => Array.from({ length: n }, () => {
    const body = Math.exp(rng.normal() * 0.5) * 3;
    return scale * (rng.next() < 0.02 ? body * (5 + rng.next() * 20) : body);
  }));
}

const pooledRatio = (over: number[][], under: number[][]) => {
  const pool = (x: number[][]) => x.flat().sort((a, b) => a - b);
  return percentile(pool(over), 99) / percentile(pool(under), 99);
};

describe('bench:tenancy ratio interval', () => {
  it('brackets the pooled ratio and replays from its seed', () => {
    const alone = rounds(12, 300, 1, 'alone');
    const noisy = rounds(12, 300, 1, 'noisy');
    const ci = ratioInterval(noisy, alone, 99, 7, 400);
    const ratio = pooledRatio(noisy, alone);
    assert.ok(ci.lo <= ratio && ratio <= ci.hi, `${ratio} in [${ci.lo}, ${ci.hi}]`);
    assert.ok(ci.lo < ci.hi);
    assert.equal(ci.resamples, 400);
    assert.deepEqual(ratioInterval(noisy, alone, 99, 7, 400), ci);
    assert.notDeepEqual(ratioInterval(noisy, alone, 99, 8, 400), ci);
  });

  it('narrows as rounds are added', () => {
    const width = (count: number) => {
      const ci = ratioInterval(rounds(count, 300, 1, `n${count}`), rounds(count, 300, 1, `d${count}`), 99, 1, 300);
      return ci.hi - ci.lo;
    };
    assert.ok(width(32) < width(4), `${width(32)} < ${width(4)}`);
  });

  it('sees a phase that is 50% slower as slower, and one that is not as not', () => {
    const alone = rounds(24, 300, 1, 'a');
    const slower = ratioInterval(rounds(24, 300, 1.5, 'b'), alone, 99, 1, 300);
    assert.ok(slower.lo > 1.2, `lo ${slower.lo}`);
    const same = ratioInterval(rounds(24, 300, 1, 'c'), alone, 99, 1, 300);
    assert.ok(same.lo < 1 && same.hi > 1, `[${same.lo}, ${same.hi}]`);
  });

  it('refuses phases with different round counts', () => {
    assert.throws(() => ratioInterval([[1]], [[1], [2]], 99), RangeError);
    assert.throws(() => ratioInterval([], [], 99), RangeError);
  });
});
