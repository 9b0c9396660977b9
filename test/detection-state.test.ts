// Snapshots restore to the same behaviour, and odd input (NaN, gaps, repeated and backward
// timestamps) is handled as documented in actors/detection/README.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createDetector, innerDetector, restoreDetector, type Detector, type DetectorSnapshot } from '../actors/detection/index.ts';
import { parseTimestamp, parseValue } from '../bench/csv/index.ts';
import { DAY, LENGTH, seasonalSeries } from './detection-synthetic.ts';

const TIERS = ['basic', 'agile'] as const;
/** NAB's nyc_taxi (MIT, the copy in test/data/nab) */
const NYC = 'test/data/nab/data/realKnownCause/nyc_taxi.csv';

function realSeries(): { timestamps: number[]; values: number[] } {
  const rows = readFileSync(new URL(`../${NYC}`, import.meta.url), 'utf8').trim().split('\n').slice(1);
  return { timestamps: rows.map((r) => parseTimestamp(r.split(',')[0] as string)), values: rows.map((r) => parseValue(r.split(',')[1] as string)) };
}

function feed(d: Detector, ts: number[], vs: number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(d.update(ts[i] as number, vs[i] as number));
  return out;
}

/** Round-trips through JSON, as a snapshot does on its way to storage. */
function viaJson(s: DetectorSnapshot): DetectorSnapshot {
  return JSON.parse(JSON.stringify(s)) as DetectorSnapshot;
}

describe('detection state and odd input', () => {
  for (const tier of TIERS) {
    describe(tier, () => {
      // cut points: during warm-up (Agile still buffering), right after the period choice, late
      for (const cut of [100, 2 * DAY + 5, 3000]) {
        it(`snapshot at ${cut} -> restore continues with identical scores and decisions (real data)`, () => {
          const { timestamps, values } = realSeries();
          const a = createDetector(tier, { direction: 'both', threshold: 0.6 });
          feed(a, timestamps, values, 0, cut);
          const b = restoreDetector(viaJson(a.snapshot()));
          assert.equal(b.tier, tier);
          for (let i = cut; i < timestamps.length; i++) {
            const sa = a.update(timestamps[i] as number, values[i] as number);
            const sb = b.update(timestamps[i] as number, values[i] as number);
            assert.equal(sb, sa, `row ${i}`);
            assert.equal(b.anomalous, a.anomalous, `row ${i}`);
            assert.equal(b.expected, a.expected, `row ${i}`);
          }
        });
      }

      it('a NaN or infinite value scores 0 and leaves the state as it was', () => {
        const { timestamps, values } = seasonalSeries('spike', 4);
        const clean = feed(createDetector(tier), timestamps, values, 0, LENGTH);
        const d = createDetector(tier);
        const scores: number[] = [];
        for (let i = 0; i < LENGTH; i++) {
          if (i % 97 === 50) {
            assert.equal(d.update(timestamps[i] as number, i % 2 ? NaN : Infinity), 0);
            assert.equal(d.anomalous, false);
          }
          scores.push(d.update(timestamps[i] as number, values[i] as number));
        }
        assert.deepEqual(scores, clean);
      });

      if (tier === 'agile') {
        it('unreadable first timestamps do not stop it finding the daily period', () => {
          const { timestamps, values } = seasonalSeries('none', 7);
          const d = innerDetector(createDetector(tier)) as Detector & { period: number };
          for (let i = 0; i < 4 * DAY; i++) d.update(i < 3 ? NaN : (timestamps[i] as number), values[i] as number);
          assert.equal(d.period, DAY);
        });
      }

      if (tier === 'agile') {
        // (Basic has no notion of time: a gap that skips part of a cycle is a jump to it)
        it('a gap keeps the seasonal phase: the samples after it are not surprising', () => {
          const { timestamps, values } = seasonalSeries('none', 5);
          const gapFrom = 5 * DAY + 30;
          const gapTo = gapFrom + 60; // five hours missing, the cycle moved by a fifth
          const d = createDetector(tier);
          let maxAfter = 0;
          for (let i = 0; i < gapTo + 36; i++) {
            if (i >= gapFrom && i < gapTo) continue;
            const s = d.update(timestamps[i] as number, values[i] as number);
            if (i >= gapTo) maxAfter = Math.max(maxAfter, s);
          }
          assert.ok(maxAfter < 0.3, `the gap raised the score to ${maxAfter}`);
        });
      }

      it('repeated, backward and missing timestamps are scored in arrival order without error', () => {
        const { timestamps, values } = seasonalSeries('none', 6);
        const d = createDetector(tier);
        for (let i = 0; i < LENGTH; i++) {
          let t = timestamps[i] as number;
          if (i % 500 === 7) t = timestamps[i - 1] as number; // repeated
          if (i % 500 === 9) t = (timestamps[i] as number) - 3_600_000; // an hour back (DST)
          if (i % 500 === 11) t = NaN; // unreadable
          const s = d.update(t, values[i] as number);
          assert.ok(s >= 0 && s <= 1, `row ${i}: score ${s}`);
          assert.ok(Number.isFinite(d.expected), `row ${i}: expected ${d.expected}`);
        }
      });
    });
  }

  it('refuses a snapshot of another version', () => {
    const s = createDetector('basic').snapshot();
    assert.throws(() => restoreDetector({ ...s, version: 99 }), RangeError);
    assert.throws(() => restoreDetector({ ...s, tier: 'nope' as 'basic' }), RangeError);
  });
});
