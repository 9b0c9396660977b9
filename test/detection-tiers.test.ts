// Basic and Agile on synthetic faults: each is flagged soon after its onset, clean seasonal
// noise stays quiet, and the decision follows the sensitivity. (Robust has its own tests.)
import assert from 'node:assert/strict';
import { createDetector, DEFAULT_THRESHOLD } from '../actors/detection/index.ts';
import type { Detector } from '../actors/detection/index.ts';
import { DAY, LENGTH, ONSET, seasonalSeries, type Fault } from './detection-synthetic.ts';

const TIERS = ['basic', 'agile'] as const;
const SEEDS = [1, 2, 3];
/** the first two days are warm-up (Agile is still finding its period) */
const WARM = 2 * DAY;

interface Trace {
  scores: number[];
  anomalous: boolean[];
}

function run(detector: Detector, fault: Fault, seed: number): Trace {
  const { timestamps, values } = seasonalSeries(fault, seed);
  const scores: number[] = [];
  const anomalous: boolean[] = [];
  for (let i = 0; i < LENGTH; i++) {
    scores.push(detector.update(timestamps[i] as number, values[i] as number));
    anomalous.push(detector.anomalous);
  }
  return { scores, anomalous };
}

/** First anomalous sample at or after ONSET, relative to it (-1: none within a day). */
function delay(t: Trace): number {
  for (let i = ONSET; i < ONSET + DAY; i++) if (t.anomalous[i]) return i - ONSET;
  return -1;
}

describe('detection tiers on synthetic series', () => {
  for (const tier of TIERS) {
    describe(tier, () => {
      it('stays quiet on clean seasonal noise', () => {
        let high = 0;
        let samples = 0;
        for (const seed of SEEDS) {
          const t = run(createDetector(tier), 'none', seed);
          const alarms = t.anomalous.slice(WARM).filter(Boolean).length;
          assert.equal(alarms, 0, `seed ${seed}: ${alarms} alarms`);
          high += t.scores.slice(WARM).filter((s) => s >= DEFAULT_THRESHOLD).length;
          samples += LENGTH - WARM;
        }
        // calibration: scores at the default threshold are rare events on clean data
        assert.ok(high / samples < 1e-3, `${high} of ${samples} scores reached the threshold`);
      });

      // Basic models no season, so its spread holds the cycle: slower on variance and on a
      // broken cycle (it notices once the stalled value drifts from its level)
      const faults: Array<[Fault, number]> = [
        ['spike', 0],
        ['shift', 3],
        ['variance', tier === 'agile' ? 12 : 72],
        ['pattern', tier === 'agile' ? 72 : DAY - 1],
      ];
      for (const [fault, within] of faults) {
        it(`flags a ${fault === 'pattern' ? 'broken seasonal pattern' : fault} within ${within} samples`, () => {
          for (const seed of SEEDS) {
            const t = run(createDetector(tier), fault, seed);
            const d = delay(t);
            assert.ok(d >= 0 && d <= within, `seed ${seed}: first alarm at +${d}`);
            assert.equal(t.anomalous.slice(WARM, ONSET).filter(Boolean).length, 0, `seed ${seed}: alarm before the fault`);
          }
        });
      }

      it('a level shift is one episode: a high score at the shift, not a train of them', () => {
        for (const seed of SEEDS) {
          const t = run(createDetector(tier), 'shift', seed);
          const high = t.scores.slice(ONSET, ONSET + DAY).filter((x) => x >= DEFAULT_THRESHOLD).length;
          assert.ok((t.scores[ONSET] as number) >= DEFAULT_THRESHOLD, `seed ${seed}: the shift itself`);
          // at most one more: when the shifted cycle first peaks above the all-time high
          assert.ok(high <= 2, `seed ${seed}: ${high} high scores in the day after the shift`);
        }
      });

      if (tier === 'agile') {
        it('adapts to a level shift within 20 samples', () => {
          for (const seed of SEEDS) {
            const { timestamps, values } = seasonalSeries('shift', seed);
            const d = createDetector(tier);
            for (let i = 0; i <= ONSET + 20; i++) d.update(timestamps[i] as number, values[i] as number);
            const error = (values[ONSET + 20] as number) - d.expected;
            assert.ok(Math.abs(error) < 4, `seed ${seed}: still ${error.toFixed(2)} off after the shift of 15`);
          }
        });
      }

      it('scores are in [0, 1] and the decision follows the direction', () => {
        const up = run(createDetector(tier, { direction: 'up' }), 'spike', 1);
        const down = run(createDetector(tier, { direction: 'down' }), 'spike', 1);
        assert.ok(up.scores.every((s) => s >= 0 && s <= 1));
        assert.ok(delay(up) === 0, 'an upward spike is flagged when looking up');
        assert.equal(delay(down), -1, 'an upward spike is ignored when looking down');
      });

      it('a higher deviation bound suppresses the decision but not the score', () => {
        const strict = run(createDetector(tier, { deviations: 1000 }), 'spike', 1);
        assert.equal(delay(strict), -1);
        assert.ok((strict.scores[ONSET] as number) >= 0.7);
      });
    });
  }

  it('rejects an unknown tier and a bad sensitivity', () => {
    assert.throws(() => createDetector('fast' as 'basic'), RangeError);
    assert.throws(() => createDetector('basic', { threshold: 2 }), RangeError);
    assert.throws(() => createDetector('agile', { deviations: -1 }), RangeError);
  });
});
