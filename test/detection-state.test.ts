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

  it('restores the versions before time-aware scoring (Basic 1, Agile 2, Robust 3): they continue as plain series', () => {
    const { timestamps, values } = seasonalSeries('spike', 8);
    const cut = 1500;
    for (const tier of ['basic', 'agile', 'robust'] as const) {
      const a = createDetector(tier);
      feed(a, timestamps, values, 0, cut);
      const now = viaJson(a.snapshot()) as DetectorSnapshot & { surprise?: number[]; level?: number[]; kernel?: DetectorSnapshot & { surprise: number[] }; refractoryUntil?: number };
      // the older layouts: no counter, a counted refractory (8 numbers of surprise), Basic's
      // level without its shift run, Robust without refractoryUntil
      const { counter: _counter, ...old } = now;
      const older: DetectorSnapshot = tier === 'basic'
        ? { ...old, version: 1, surprise: (now.surprise as number[]).slice(0, 8), level: (now.level as number[]).slice(0, 3) }
        : tier === 'agile'
          ? { ...old, version: 2, surprise: (now.surprise as number[]).slice(0, 8) }
          : { ...old, version: 3, kernel: { ...(now.kernel as DetectorSnapshot & { surprise: number[] }), version: 2, surprise: (now.kernel as { surprise: number[] }).surprise.slice(0, 8) }, refractoryUntil: undefined };
      const b = restoreDetector(older);
      assert.equal(b.tier, tier);
      const scores = feed(b, timestamps, values, cut, LENGTH);
      assert.ok(scores.every((x) => x >= 0 && x <= 1), `${tier}: scores in [0, 1]`);
      // the spike of the series is still found after the restore
      assert.ok(Math.max(...scores) >= 0.7, `${tier}: the spike scored ${Math.max(...scores)}`);
      assert.ok('counter' in b.snapshot(), `${tier}: the new snapshot carries its counter state`);
    }
  });

  it('a counter in rate mode snapshots and restores to identical scores', () => {
    const ts: number[] = [];
    const vs: number[] = [];
    let total = 0;
    for (let i = 0; i < 2000; i++) {
      if (i === 1200) total = 0; // a reset
      total += 1000 + (i % 7) * 10 + (i === 1500 ? 9000 : 0);
      ts.push(1_400_000_000_000 + i * 60_000);
      vs.push(total);
    }
    const a = createDetector('agile');
    feed(a, ts, vs, 0, 800);
    const snap = viaJson(a.snapshot()) as DetectorSnapshot & { counter: { mode: string } };
    assert.equal(snap.counter.mode, 'rate');
    const b = restoreDetector(snap);
    for (let i = 800; i < ts.length; i++) {
      assert.equal(b.update(ts[i] as number, vs[i] as number), a.update(ts[i] as number, vs[i] as number), `row ${i}`);
      assert.equal(b.anomalous, a.anomalous, `row ${i}`);
      assert.equal(b.expected, a.expected, `row ${i}`);
    }
  });

  it('refuses a snapshot of another version', () => {
    const s = createDetector('basic').snapshot();
    assert.throws(() => restoreDetector({ ...s, version: 99 }), RangeError);
    assert.throws(() => restoreDetector({ ...s, tier: 'nope' as 'basic' }), RangeError);
  });
});
