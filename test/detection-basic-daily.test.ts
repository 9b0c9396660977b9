// Basic's time-of-day profile (actors/detection/calendar-profile.ts): a daily cycle is learnt,
// so its ramps are not deviations, a break of the cycle is, and a gap keeps the cycle in
// phase (the profile is read from the timestamp, not the sample count).
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { BASIC_PARAMS, BasicDetector } from '../actors/detection/basic.ts';
import { restoreDetector, type Detector } from '../actors/detection/index.ts';
import { BASIC_DEVIATIONS, resolveSensitivity } from '../actors/detection/sensitivity.ts';
import { DAY, LENGTH, ONSET, seasonalSeries } from './detection-synthetic.ts';

function basic(daily = true): BasicDetector {
  return new BasicDetector(resolveSensitivity(undefined, BASIC_DEVIATIONS), daily ? BASIC_PARAMS : { ...BASIC_PARAMS, daily: null });
}

function flags(d: Detector, ts: readonly number[], vs: readonly number[], from = 0, to = ts.length): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) {
    d.update(ts[i] as number, vs[i] as number);
    if (d.anomalous) out.push(i);
  }
  return out;
}

describe('detection: Basic learns the time of day', () => {
  for (const seed of [1, 2, 3]) {
    it(`expects the daily cycle after a few days (seed ${seed})`, () => {
      const { timestamps, values } = seasonalSeries('none', seed);
      const d = basic();
      let err = 0;
      let plain = 0;
      const p = basic(false);
      for (let i = 0; i < LENGTH; i++) {
        d.update(timestamps[i] as number, values[i] as number);
        p.update(timestamps[i] as number, values[i] as number);
        if (i >= 4 * DAY) {
          err += Math.abs((values[i] as number) - d.expected);
          plain += Math.abs((values[i] as number) - p.expected);
        }
      }
      // the level (a memory of ~4 hours) still follows part of the cycle, so the error does
      // not fall to the noise's 0.8, but it is less than half the season-less level's (~4.8)
      assert.ok(err < plain / 2, `with the profile ${err}, without ${plain}`);
    });

    it(`sees a broken daily cycle that a season-less level cannot (seed ${seed})`, () => {
      const { timestamps, values } = seasonalSeries('pattern', seed);
      const top = (d: BasicDetector): { max: number; found: number[] } => {
        let max = 0;
        const found: number[] = [];
        for (let i = 0; i < LENGTH; i++) {
          d.update(timestamps[i] as number, values[i] as number);
          if (i >= ONSET && i < ONSET + DAY / 2) max = Math.max(max, d.rawScore);
          if (d.anomalous && i >= 2 * DAY) found.push(i);
        }
        return { max, found };
      };
      const withProfile = top(basic());
      const without = top(basic(false));
      // the cycle frozen for half a day: the season-less level finds nothing in it (score 0)
      assert.ok(withProfile.max > without.max + 0.2, `in the break: ${withProfile.max} against ${without.max}`);
      assert.deepEqual(withProfile.found.filter((i) => i < ONSET), [], 'nothing before the break once the cycle is known');
    });
  }

  it('keeps the cycle in phase across a gap of half a day', () => {
    const { timestamps, values } = seasonalSeries('none', 4);
    const keep = (i: number): boolean => i < 6 * DAY || i >= 6 * DAY + DAY / 2;
    const ts = timestamps.filter((_, i) => keep(i));
    const vs = values.filter((_, i) => keep(i));
    assert.deepEqual(flags(basic(), ts, vs).filter((i) => i >= 2 * DAY), []);
  });

  it('restores the profile from a snapshot (and a version 2 snapshot learns it afresh)', () => {
    const { timestamps, values } = seasonalSeries('spike', 5);
    const a = basic();
    flags(a, timestamps, values, 0, 5 * DAY);
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<Detector['snapshot']>;
    const b = restoreDetector(snap);
    for (let i = 5 * DAY; i < LENGTH; i++) {
      const x = a.update(timestamps[i] as number, values[i] as number);
      assert.equal(b.update(timestamps[i] as number, values[i] as number), x, `row ${i}`);
    }
    const { daily: _daily, ...old } = snap as typeof snap & { daily?: unknown };
    const c = restoreDetector({ ...old, version: 2 });
    const found = flags(c, timestamps, values, 5 * DAY);
    assert.ok(found.includes(ONSET), `the spike after the restore: ${found.join(',')}`);
  });

  it('ignores the time of day when told to (daily: null): scores as the season-less level', () => {
    const { timestamps, values } = seasonalSeries('none', 6);
    const d = basic(false);
    flags(d, timestamps, values, 0, 100);
    assert.equal((d.snapshot() as { daily?: unknown }).daily, null);
  });
});
