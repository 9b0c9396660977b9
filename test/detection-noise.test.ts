// A series that goes quiet (its noise falls far below its own history: a stuck sensor, an
// exporter repeating its last value) is an anomaly on every tier even though no sample
// leaves the model's bounds; daily quiet hours the series always has, gaps, and a side
// other than 'both' raise nothing.
import assert from 'node:assert/strict';
import { createDetector, createRobustDetector, innerDetector, restoreDetector, type Detector, type Sensitivity } from '../actors/detection/index.ts';
import type { Tier } from '../protocols/types.ts';
import { mulberry32 } from './detection-synthetic.ts';

const STEP = 300_000;
const T0 = 1_400_000_000_000;
const DAY = 288;
const LENGTH = 7 * DAY;
/** the series goes flat here (day 5, mid-morning) */
const ONSET = 5 * DAY + 100;
const TIERS: Tier[] = ['basic', 'agile', 'robust'];
const SEEDS = [1, 2, 3];

function make(tier: Tier, sensitivity?: Sensitivity): Detector {
  return tier === 'robust' ? createRobustDetector(sensitivity, { runtime: {} }) : createDetector(tier, sensitivity);
}

function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** 100 + N(0, noise(i)) every 5 minutes; from `flatFrom` on, the last value repeats. */
function series(seed: number, flatFrom = Infinity, noise: (i: number) => number = () => 1): number[] {
  const random = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < LENGTH; i++) out.push(i >= flatFrom ? (out[i - 1] as number) : 100 + noise(i) * gauss(random));
  return out;
}

/** Every tier exposes whether its last score came from the noise channel. */
function fromNoise(d: Detector): boolean {
  return (innerDetector(d) as Detector & { fromNoise: boolean }).fromNoise;
}

/** Samples from `from` on that were anomalous because the series went quiet. (Clean
 * Gaussian noise sets a new all-time extreme now and then, which range novelty flags: that
 * is another channel's, and not what these tests are about.) */
function quietSpells(d: Detector, values: number[], from: number, skip: (i: number) => boolean = () => false): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (skip(i)) continue;
    d.update(T0 + i * STEP, values[i] as number);
    if (i >= from && d.anomalous && fromNoise(d)) out.push(i);
  }
  return out;
}

describe('detection: a series that goes quiet', () => {
  for (const tier of TIERS) {
    it(`${tier}: a flat line after noisy days is anomalous within 2 hours (the noise channel's: the flat value is an ordinary one)`, () => {
      for (const seed of SEEDS) {
        const values = series(seed, ONSET);
        const d = make(tier);
        const found = quietSpells(d, values, 2 * DAY);
        assert.ok(found.length > 0, `seed ${seed}: the flat line was not flagged`);
        const first = found[0] as number;
        assert.ok(first >= ONSET && first <= ONSET + 24, `seed ${seed}: first anomaly at ${first}, onset ${ONSET}`);
        // the flat value is an ordinary one: the model's expectation is within a couple of noise sds
        assert.ok(Math.abs((values[first] as number) - d.expected) < 4, `seed ${seed}: flat value ${values[first]} vs expected ${d.expected}`);
      }
    });

    it(`${tier}: daily quiet hours the series always has are not anomalous`, () => {
      for (const seed of SEEDS) {
        // noise 2 by day, 0.1 for four hours every night
        const values = series(seed, Infinity, (i) => (i % DAY < 48 ? 0.1 : 2));
        assert.deepEqual(quietSpells(make(tier), values, 2 * DAY), [], `seed ${seed}`);
      }
    });

    it(`${tier}: a gap of half a day is not a quiet spell`, () => {
      for (const seed of SEEDS) {
        const values = series(seed);
        assert.deepEqual(quietSpells(make(tier), values, 2 * DAY, (i) => i >= ONSET && i < ONSET + DAY / 2), [], `seed ${seed}`);
      }
    });

    it(`${tier}: with direction 'up' a flat line is not scored (a quiet spell has no side)`, () => {
      const values = series(1, ONSET);
      const d = make(tier, { direction: 'up' });
      const flagged: number[] = [];
      for (let i = 0; i < values.length; i++) {
        d.update(T0 + i * STEP, values[i] as number);
        if (i >= ONSET && d.anomalous) flagged.push(i);
      }
      assert.deepEqual(flagged, []);
    });
  }

  it('a snapshot taken while the series is flat continues with identical scores', () => {
    for (const tier of ['basic', 'agile'] as const) {
      const values = series(2, ONSET);
      const a = make(tier);
      for (let i = 0; i < ONSET + 6; i++) a.update(T0 + i * STEP, values[i] as number);
      const b = restoreDetector(JSON.parse(JSON.stringify(a.snapshot())));
      for (let i = ONSET + 6; i < LENGTH; i++) {
        const t = T0 + i * STEP;
        assert.equal(b.update(t, values[i] as number), a.update(t, values[i] as number), `${tier} sample ${i}`);
        assert.equal(b.anomalous, a.anomalous);
      }
    }
  });
});
