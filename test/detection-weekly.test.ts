// Agile's weekly layer (actors/detection/weekly.ts): a series whose weekends differ from its
// weekdays has the week found after its first three weeks of a daily season, its expected
// values follow the week, and a drop on a weekday afternoon that the average day hides is
// flagged; a series without a week never adopts one, and the layer survives a snapshot.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { AGILE_PARAMS, AgileDetector } from '../actors/detection/agile.ts';
import { innerDetector, restoreDetector } from '../actors/detection/index.ts';
import { AGILE_DEVIATIONS, resolveSensitivity } from '../actors/detection/sensitivity.ts';
import { mulberry32, type Series } from './detection-synthetic.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** a Tuesday, 16:53 UTC */
const T0 = 1_400_000_000_000;
const WEEKS = 7;
/** the fault's day: a Wednesday of the seventh week; traffic ×(1 − depth) from 10:00 to 16:00 */
const FAULT_DAY = T0 + 6 * WEEK + DAY - ((T0 + 6 * WEEK + DAY) % DAY);
const FAULT = [FAULT_DAY + 10 * HOUR, FAULT_DAY + 16 * HOUR] as const;

interface Traffic {
  seed: number;
  /** weekends lower than weekdays (else every day alike) */
  weekly?: boolean;
  /** traffic lost in the fault's hours (0: none) */
  depth?: number;
  step?: number;
  /** growth per day (a trend, not a week) */
  growth?: number;
  /** [from, to) in ms from T0 with no samples */
  gap?: readonly [number, number];
  /** the first sample's time (the week is adopted 24 days later) */
  start?: number;
}

/** Web traffic: 300 at night, a daytime bump of 700 on weekdays and 250 at weekends (so the
 * two meet at night), 2% noise. */
function traffic({ seed, weekly = true, depth = 0, step = 300_000, growth = 0, gap, start = T0 }: Traffic): Series {
  const random = mulberry32(seed);
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let t = start; t < T0 + WEEKS * WEEK; t += step) {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    if (gap && t - T0 >= gap[0] && t - T0 < gap[1]) continue;
    const weekday = new Date(t).getUTCDay();
    const weekend = weekly && (weekday === 0 || weekday === 6);
    const bump = Math.max(0, Math.sin((2 * Math.PI * ((t % DAY) / HOUR - 6)) / 24));
    let v = (300 + (weekend ? 250 : 700) * bump) * (1 + (growth * (t - T0)) / DAY);
    if (t >= FAULT[0] && t < FAULT[1]) v *= 1 - depth;
    timestamps.push(t);
    values.push(v * (1 + 0.02 * gauss));
  }
  return { timestamps, values };
}

function agile(weekly = true): AgileDetector {
  return new AgileDetector(resolveSensitivity(undefined, AGILE_DEVIATIONS), weekly ? AGILE_PARAMS : { ...AGILE_PARAMS, weekly: null });
}

interface Run {
  /** data time (days from T0) the week was adopted, or -1 */
  adoptedDay: number;
  /** mean |value − expected| over the last two weeks */
  error: number;
  /** alarms in the last two weeks outside the fault's hours (and the two after), and inside them */
  falseAlarms: number;
  found: number;
  maxInFault: number;
}

function run(d: AgileDetector, s: Series): Run {
  const r: Run = { adoptedDay: -1, error: 0, falseAlarms: 0, found: 0, maxInFault: 0 };
  let n = 0;
  s.timestamps.forEach((t, i) => {
    const v = s.values[i] as number;
    d.update(t, v);
    if (r.adoptedDay < 0 && d.weeklyAdopted) r.adoptedDay = (t - T0) / DAY;
    if (t < T0 + 5 * WEEK) return;
    const inFault = t >= FAULT[0] && t < FAULT[1];
    // the traffic's return after the fault is the episode's end, neither found nor false
    const recovery = t >= FAULT[1] && t < FAULT[1] + 2 * HOUR;
    r.error += Math.abs(v - d.expected);
    n++;
    if (inFault) r.maxInFault = Math.max(r.maxInFault, d.rawScore);
    if (!d.anomalous || recovery) return;
    if (inFault) r.found++;
    else r.falseAlarms++;
  });
  r.error /= n;
  return r;
}

describe('detection: Agile finds and follows a weekly pattern', () => {
  for (const seed of [1, 2, 3]) {
    it(`adopts the week three weeks after the daily season and halves its error (seed ${seed})`, () => {
      const s = traffic({ seed });
      const withWeek = run(agile(), s);
      const without = run(agile(false), s);
      // the daily season is chosen after 3 days, the week tested on the 3 weeks after that
      assert.ok(withWeek.adoptedDay > 23.5 && withWeek.adoptedDay < 24.5, `adopted on day ${withWeek.adoptedDay}`);
      assert.equal(without.adoptedDay, -1);
      assert.ok(withWeek.error < without.error / 1.8, `mean error ${withWeek.error} with the week, ${without.error} without`);
      assert.equal(withWeek.falseAlarms, 0, 'no alarm in two clean weeks');
    });

    it(`flags a weekday drop that the average day hides (seed ${seed})`, () => {
      const s = traffic({ seed, depth: 0.15 });
      const withWeek = run(agile(), s);
      const without = run(agile(false), s);
      assert.ok(withWeek.found > 0 && withWeek.maxInFault > 0.9, `with the week: ${withWeek.found} alarms, best score ${withWeek.maxInFault}`);
      // the average day's errors widen the spread: the same drop stays under the bar
      assert.equal(without.found, 0, `without the week: ${without.found} alarms, best score ${without.maxInFault}; with: ${withWeek.found}, ${withWeek.maxInFault}`);
      assert.equal(withWeek.falseAlarms, 0);
    });
  }

  it('gives a metric that asks for drift no drift alarm on its weekends, before or after the week is found', () => {
    for (const seed of [1, 2, 3]) {
      const s = traffic({ seed });
      const d = new AgileDetector(resolveSensitivity({ drift: true }, AGILE_DEVIATIONS), AGILE_PARAMS);
      const drifts: string[] = [];
      s.timestamps.forEach((t, i) => {
        d.update(t, s.values[i] as number);
        if (d.anomalous && d.fromDrift) drifts.push(new Date(t).toISOString());
      });
      assert.deepEqual(drifts, [], `seed ${seed}`);
    }
  });

  it('adopts no week where every day is alike, or where the days only grow', () => {
    for (const seed of [1, 2, 3]) {
      for (const s of [traffic({ seed, weekly: false }), traffic({ seed, weekly: false, growth: 0.01 })]) {
        const d = agile();
        const r = run(d, s);
        assert.equal(r.adoptedDay, -1, `seed ${seed}: adopted on day ${r.adoptedDay}`);
        // and it scores as the model without the layer does
        const plain = run(agile(false), s);
        assert.equal(r.error, plain.error);
      }
    }
  });

  it('adopts the week on a Saturday afternoon without an alarm (the level hands the weekend over to the profile)', () => {
    for (const seed of [7, 8, 9]) {
      // starting on a Wednesday afternoon, the week is adopted on a Saturday afternoon
      const s = traffic({ seed, start: T0 + DAY });
      const d = agile();
      const alarms: number[] = [];
      let adopted = NaN;
      s.timestamps.forEach((t, i) => {
        d.update(t, s.values[i] as number);
        if (Number.isNaN(adopted) && d.weeklyAdopted) adopted = t;
        if (d.anomalous) alarms.push(t);
      });
      assert.equal(new Date(adopted).getUTCDay(), 6, `seed ${seed}: adopted on ${new Date(adopted).toISOString()}`);
      const near = alarms.filter((t) => t >= adopted && t < adopted + DAY);
      assert.deepEqual(near.map((t) => new Date(t).toISOString()), [], `seed ${seed}: alarms in the day after adoption`);
    }
  });

  it('finds the week of 1-minute data (the coarse grid) and across a day without samples', () => {
    const fine = run(agile(), traffic({ seed: 4, step: 60_000 }));
    assert.ok(fine.adoptedDay > 0 && fine.adoptedDay < 25, `1-minute data: adopted on day ${fine.adoptedDay}`);
    // a whole day missing in the second week: the window still holds 20 of its 21 days
    const gapped = run(agile(), traffic({ seed: 5, gap: [9 * DAY, 10 * DAY] }));
    assert.ok(gapped.adoptedDay > 23.5 && gapped.adoptedDay < 24.5, `with a gap: adopted on day ${gapped.adoptedDay}`);
    assert.equal(gapped.falseAlarms, 0);
  });

  it('restores mid-window and once adopted to the same scores, and a version-3 snapshot starts the layer', () => {
    const s = traffic({ seed: 6, depth: 0.15 });
    const viaJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
    for (const cut of [12 * DAY, 30 * DAY]) {
      const a = agile();
      const b0 = agile();
      let b: ReturnType<typeof restoreDetector> | undefined;
      s.timestamps.forEach((t, i) => {
        const v = s.values[i] as number;
        const sa = a.update(t, v);
        if (t - T0 < cut) {
          b0.update(t, v);
          return;
        }
        b ??= restoreDetector(viaJson(b0.snapshot()));
        assert.equal(b.update(t, v), sa, `cut at day ${cut / DAY}: sample ${i}`);
      });
      assert.ok(a.weeklyAdopted);
    }
    // a snapshot from before the layer: the daily season restores and starts buffering
    const a = agile();
    s.timestamps.filter((t) => t < T0 + 5 * DAY).forEach((t, i) => a.update(t, s.values[i] as number));
    const old = viaJson(a.snapshot()) as ReturnType<AgileDetector['snapshot']> & { weekly?: unknown };
    assert.ok('weekly' in old, 'a daily season carries its weekly layer');
    delete old.weekly;
    const restored = innerDetector(restoreDetector({ ...old, version: 3 })) as AgileDetector;
    s.timestamps.forEach((t, i) => {
      if (t >= T0 + 5 * DAY) restored.update(t, s.values[i] as number);
    });
    assert.ok(restored.weeklyAdopted, 'the restored series found the week on the three weeks after its restore');
  });
});
