// The drift channel (actors/detection/drift.ts), on when a series' sensitivity asks for it
// (`drift: true`; Agile, and Robust on Agile's kernel): a slow leak on a daily cycle, which
// Agile never flags otherwise, is flagged within a day; clean days and a level shift already
// reported give no drift alarm; the channel survives a snapshot; it is off by default, and
// Basic, whose level follows part of the daily cycle, does not score it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createDetector, innerDetector, restoreDetector, type Detector } from '../actors/detection/index.ts';
import type { AgileDetector } from '../actors/detection/agile.ts';
import type { RobustDetector } from '../actors/detection/index.ts';
import { DAY, mulberry32, STEP_MS, type Series } from './detection-synthetic.ts';

const T0 = 1_400_000_000_000;
/** the channel is trusted after a week of its own history, which starts a day after Agile
 * finds its season (day 3) */
const LEAK_AT = 14 * DAY;
const LENGTH = 21 * DAY;

/** 100 + 10 sin(day) + N(0, 1); from day 14 `slope` per 5-minute sample (0.02: +5.8 a day)
 * or a step of `shift`. */
function leaking(seed: number, slope: number, shift = 0): Series {
  const random = mulberry32(seed);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < LENGTH; i++) {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const after = i >= LEAK_AT;
    timestamps.push(T0 + i * STEP_MS);
    values.push(100 + 10 * Math.sin((2 * Math.PI * i) / DAY) + gauss + (after ? slope * (i - LEAK_AT) + shift : 0));
  }
  return { timestamps, values };
}

interface Alarms {
  /** samples after LEAK_AT to the first alarm (-1: none), and every alarm's index */
  first: number;
  all: number[];
  fromDrift: number[];
}

function alarms(d: Detector, s: Series): Alarms {
  const out: Alarms = { first: -1, all: [], fromDrift: [] };
  s.timestamps.forEach((t, i) => {
    d.update(t, s.values[i] as number);
    if (!d.anomalous) return;
    out.all.push(i);
    if ((innerDetector(d) as AgileDetector | RobustDetector).fromDrift) out.fromDrift.push(i);
    if (out.first < 0 && i >= LEAK_AT) out.first = i - LEAK_AT;
  });
  return out;
}

describe('detection: a slow drift, when a series asks for it', () => {
  for (const seed of [1, 2, 3]) {
    it(`agile flags a leak of 5.8 a day within half a day, which it barely sees without (seed ${seed})`, () => {
      const s = leaking(seed, 0.02);
      const on = alarms(createDetector('agile', { drift: true }), s);
      const off = alarms(createDetector('agile'), s);
      assert.ok(on.first >= 0 && on.first < DAY / 2, `with drift: first alarm ${on.first / 12} h after the leak began`);
      assert.ok(on.fromDrift.length > 0, 'the drift channel decided');
      assert.deepEqual(on.all.filter((i) => i < LEAK_AT), [], 'no alarm before the leak');
      // without it the level follows the leak a third of a spread behind: at most one alarm
      // in the seven days it rises by 40; with it, one a day while it goes on
      const during = (r: Alarms): number => r.all.filter((i) => i >= LEAK_AT).length;
      assert.ok(during(off) <= 1, `without drift: ${during(off)} alarms during the leak`);
      assert.ok(during(on) >= 5, `with drift: ${during(on)} alarms during the leak`);
    });
  }

  it('gives no drift alarm on clean days, nor a second alarm for a shift already reported', () => {
    for (const seed of [4, 5, 6]) {
      for (const tier of ['agile', 'robust'] as const) {
        const clean = alarms(createDetector(tier, { drift: true }), leaking(seed, 0));
        assert.deepEqual(clean.fromDrift, [], `${tier} seed ${seed}: drift alarms on a clean series`);
        const shifted = alarms(createDetector(tier, { drift: true }), leaking(seed, 0, 15));
        assert.ok(shifted.first >= 0 && shifted.first < 12, `${tier} seed ${seed}: the shift flagged at once (${shifted.first})`);
        assert.deepEqual(shifted.fromDrift, [], `${tier} seed ${seed}: the day's move of a reported shift is not news again`);
      }
    }
  });

  it('restores the channel mid-leak to the same scores, and is off by default', () => {
    const s = leaking(7, 0.02);
    const a = createDetector('agile', { drift: true });
    const cut = LEAK_AT + 40;
    s.timestamps.slice(0, cut).forEach((t, i) => a.update(t, s.values[i] as number));
    const b = restoreDetector(JSON.parse(JSON.stringify(a.snapshot())));
    for (let i = cut; i < LENGTH; i++) assert.equal(b.update(s.timestamps[i] as number, s.values[i] as number), a.update(s.timestamps[i] as number, s.values[i] as number), `row ${i}`);
    assert.equal((createDetector('agile').snapshot() as unknown as { drift: unknown }).drift, null, 'no drift state unless asked');
    assert.throws(() => createDetector('agile', { drift: 'yes' as unknown as boolean }), /sensitivity\.drift must be true or false/);
    // Basic does not score drift: the same scores with or without
    const basic = [createDetector('basic', { drift: true }), createDetector('basic')];
    s.timestamps.forEach((t, i) => {
      const [x, y] = basic.map((d) => d.update(t, s.values[i] as number));
      assert.equal(x, y, `basic row ${i}`);
    });
  });
});
