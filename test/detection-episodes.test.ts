// What a user sees of an anomaly, on every tier: a sustained level shift is one episode that
// ends once the model has learnt the new level (and its score falls); a larger anomaly
// scores higher than a smaller one; gaps in time raise nothing by themselves and the
// refractory span is data time; a counter is read by its rate, so its reset is no anomaly.
import assert from 'node:assert/strict';
import { createDetector, createRobustDetector, DEFAULT_THRESHOLD, decadesOfScore, innerDetector, scoreFromDecades, type Detector } from '../actors/detection/index.ts';
import type { Tier } from '../protocols/types.ts';
import { mulberry32 } from './detection-synthetic.ts';

const STEP = 300_000;
const HOUR = 3_600_000;
const T0 = 1_400_000_000_000;
/** a week of 5-minute samples; faults start on day 5 */
const LENGTH = 7 * 288;
const ONSET = 5 * 288 + 17;
const SEEDS = [1, 2, 3];

/** Robust on its statistical path (no trainer), whatever another test configured. */
function make(tier: Tier): Detector {
  return tier === 'robust' ? createRobustDetector({}, { runtime: {} }) : createDetector(tier);
}

function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** 100 + N(0, 1) every 5 minutes, plus whatever `fault` adds at sample i. */
function noisy(seed: number, fault: (i: number) => number = () => 0): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: LENGTH }, (_, i) => 100 + gauss(random) + fault(i));
}

interface Trace {
  scores: number[];
  raw: number[];
  anomalous: boolean[];
  expected: number[];
}

function run(d: Detector, values: number[], stamp: (i: number) => number = (i) => T0 + i * STEP, skip: (i: number) => boolean = () => false): Trace {
  const t: Trace = { scores: [], raw: [], anomalous: [], expected: [] };
  for (let i = 0; i < values.length; i++) {
    if (skip(i)) {
      t.scores.push(NaN);
      t.raw.push(NaN);
      t.anomalous.push(false);
      t.expected.push(NaN);
      continue;
    }
    t.scores.push(d.update(stamp(i), values[i] as number));
    t.raw.push(d.rawScore);
    t.anomalous.push(d.anomalous);
    t.expected.push(d.expected);
  }
  return t;
}

/** Runs of consecutive anomalous samples in [from, to): [first, last] each. */
function episodes(flags: boolean[], from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = from; i < to; i++) {
    if (!flags[i]) continue;
    const start = i;
    while (i + 1 < to && flags[i + 1]) i++;
    out.push([start, i]);
  }
  return out;
}

describe('detection episodes and scores', () => {
  it('the score scale: linear to 0.9 (1e-9), then 1 - 0.9/decades, never 1 for a finite surprise', () => {
    assert.equal(scoreFromDecades(7), 0.7);
    assert.equal(scoreFromDecades(9), 0.9);
    assert.ok(Math.abs(scoreFromDecades(18) - 0.95) < 1e-12);
    assert.ok(Math.abs(scoreFromDecades(90) - 0.99) < 1e-12);
    assert.ok(scoreFromDecades(1e6) < 1);
    let last = -1;
    for (let l = 0; l < 200; l += 0.5) {
      const s = scoreFromDecades(l);
      assert.ok(s > last || l === 0, `not increasing at ${l}`);
      assert.ok(Math.abs(decadesOfScore(s) - l) < 1e-9, `inverse at ${l}`);
      last = s;
    }
  });

  for (const tier of ['basic', 'agile', 'robust'] as const) {
    describe(tier, () => {
      it('a sustained level shift is one episode that ends within two hours, and the score falls after it', () => {
        for (const seed of SEEDS) {
          const values = noisy(seed, (i) => (i >= ONSET ? 20 : 0));
          const t = run(make(tier), values);
          // the twelve hours after the shift (within the episode's refractory span): one episode
          const after = episodes(t.anomalous, ONSET, ONSET + 144);
          assert.equal(after.length, 1, `seed ${seed}: episodes ${JSON.stringify(after)}`);
          const [first, last] = after[0] as [number, number];
          assert.ok(first - ONSET <= 1, `seed ${seed}: first alarm at +${first - ONSET}`);
          assert.ok(last - ONSET < 24, `seed ${seed}: the episode lasts ${last - ONSET + 1} samples`);
          // the expected value has caught up, and the score has fallen below the threshold
          const settled = last + 12;
          assert.ok(Math.abs((values[settled] as number) - (t.expected[settled] as number)) < 4, `seed ${seed}: expected ${t.expected[settled]} vs ${values[settled]}`);
          const highLater = t.raw.slice(settled, ONSET + 144).filter((s) => s >= DEFAULT_THRESHOLD).length;
          assert.equal(highLater, 0, `seed ${seed}: ${highLater} raw scores >= threshold after the episode`);
        }
      });

      it('a larger spike scores higher than a smaller one (no ceiling at 1)', () => {
        for (const seed of SEEDS) {
          const small = run(make(tier), noisy(seed, (i) => (i === ONSET ? 6 : 0)));
          const large = run(make(tier), noisy(seed, (i) => (i === ONSET ? 12 : 0)));
          const s = small.raw[ONSET] as number;
          const l = large.raw[ONSET] as number;
          assert.ok(s >= DEFAULT_THRESHOLD, `seed ${seed}: the small spike scored ${s}`);
          assert.ok(l > s + 0.01, `seed ${seed}: large ${l} vs small ${s}`);
          assert.ok(l < 1, `seed ${seed}: large ${l}`);
          // within one series, two spikes two days apart: the larger scores higher either way round
          const grows = run(make(tier), noisy(seed, (i) => (i === ONSET - 576 ? 6 : i === ONSET ? 12 : 0)));
          assert.ok((grows.raw[ONSET] as number) > (grows.raw[ONSET - 576] as number) + 0.01, `seed ${seed}: ${grows.raw[ONSET - 576]} then ${grows.raw[ONSET]}`);
          const shrinks = run(make(tier), noisy(seed, (i) => (i === ONSET - 576 ? 12 : i === ONSET ? 6 : 0)));
          assert.ok((shrinks.raw[ONSET - 576] as number) > (shrinks.raw[ONSET] as number) + 0.01, `seed ${seed}: ${shrinks.raw[ONSET - 576]} then ${shrinks.raw[ONSET]}`);
        }
      });

      it('a gap in time raises nothing by itself', () => {
        for (const seed of SEEDS) {
          for (const hours of [1, 6, 48]) {
            // data missing for a while on day 5, then the same process goes on
            const values = noisy(seed);
            const gap = hours * 12;
            const t = run(make(tier), values, undefined, (i) => i >= ONSET && i < ONSET + gap);
            const high = t.raw.slice(ONSET + gap, ONSET + gap + 24).filter((s) => s >= DEFAULT_THRESHOLD).length;
            assert.equal(high, 0, `seed ${seed}, ${hours} h gap: ${high} high scores in the two hours after it`);
            assert.deepEqual(episodes(t.anomalous, ONSET + gap, ONSET + gap + 24), [], `seed ${seed}, ${hours} h gap`);
          }
        }
      });

      it('the refractory span is data time: a gap longer than it leaves the next alarm undamped', () => {
        const spikes = (i: number): number => (i === ONSET || i === ONSET + 24 ? 16 : 0);
        // two hours apart: the second spike is damped (one alarm per episode)
        const near = run(make(tier), noisy(1, spikes));
        assert.ok((near.scores[ONSET + 24] as number) < (near.raw[ONSET + 24] as number), 'the second spike two hours later is damped');
        // the same samples with a day of missing data between them: undamped
        const far = run(make(tier), noisy(1, spikes), (i) => T0 + i * STEP + (i >= ONSET + 1 ? 24 * HOUR : 0));
        assert.equal(far.scores[ONSET + 24], far.raw[ONSET + 24], 'a day later the spike scores in full');
        assert.ok((far.scores[ONSET + 24] as number) >= DEFAULT_THRESHOLD);
      });

      it('a monotone counter is judged by its rate: a reset is no anomaly, a burst of traffic is', () => {
        for (const seed of SEEDS) {
          const random = mulberry32(seed);
          const burst = (i: number): boolean => i >= ONSET + 100 && i < ONSET + 106;
          let total = 5e6;
          const values: number[] = [];
          for (let i = 0; i < LENGTH; i++) {
            if (i === ONSET) total = 0; // the process restarted
            // about 50 requests/s, 5% noise; a burst of six samples at five times the rate
            total += Math.round(300 * 50 * (1 + 0.05 * gauss(random)) * (burst(i) ? 5 : 1));
            values.push(total);
          }
          const t = run(make(tier), values);
          assert.equal(t.anomalous[ONSET], false, `seed ${seed}: the reset`);
          assert.equal(t.scores[ONSET], 0, `seed ${seed}: the reset scores 0`);
          // nothing in the eight hours after the reset; the burst is one episode from its start
          assert.deepEqual(episodes(t.anomalous, ONSET, ONSET + 96), [], `seed ${seed}: after the reset`);
          const found = episodes(t.anomalous, ONSET + 96, ONSET + 144);
          assert.equal(found.length, 1, `seed ${seed}: episodes ${JSON.stringify(found)}`);
          assert.ok((found[0] as [number, number])[0] === ONSET + 100, `seed ${seed}: the burst at ${JSON.stringify(found[0])}`);
          // the same series read as values (the tier without its counter handling) takes the
          // reset for an anomaly: what the rate avoids
          const plain = run(innerDetector(make(tier)), values);
          assert.equal(plain.anomalous[ONSET], true, `seed ${seed}: the reset read as a value`);
          // the expectation is in the counter's own terms (near the value, not near a rate)
          const i = ONSET + 50;
          assert.ok(Math.abs((t.expected[i] as number) - (values[i] as number)) < 0.01 * (values[i] as number), `seed ${seed}: expected ${t.expected[i]} vs ${values[i]}`);
        }
      });
    });
  }
});
