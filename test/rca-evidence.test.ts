// Where the ranking's evidence comes from: raw windows judged against a baseline (robust z,
// abnormal and new), and the detectors' anomaly events.
import { strict as assert } from 'node:assert';
import { anomaliesFromEvents, baselineOf, judgeAroundIncident, judgeProportion, judgeWindow, DEFAULT_MIN_BASELINE } from '../actors/rca/index.ts';
import type { AnomalyEvent } from '../protocols/index.ts';

const T0 = 1_700_000_000_000;
const STEP = 300_000;
const noisy = (i: number): number => 100 + ((i * 7919) % 11) - 5; // 95..105, deterministic

describe('rca: evidence from windows and events', () => {
  const base = baselineOf(Array.from({ length: 500 }, (_, i) => noisy(i)))!;

  it('judges a window by robust z: onset, peak, excess and score', () => {
    assert.ok(Math.abs(base.median - 100) <= 1);
    const samples: Array<[number, number]> = [100, 101, 160, 180, 99].map((v, i) => [T0 + i * STEP, v]);
    const a = judgeWindow({ service: 'api', metric: 'latency', direction: 'up', samples }, base)!;
    assert.equal(a.onset, T0 + 2 * STEP);
    assert.equal(a.peakAt, T0 + 3 * STEP);
    assert.ok(a.deviation > 5 && a.score > 0.5);
    assert.deepEqual(a.excess!.map(([, e]) => Math.round(e - (100 - base.median))), [0, 1, 60, 80, -1]);
  });

  it('does not blame a series that was already off at the window\'s start', () => {
    const chronic: Array<[number, number]> = [160, 161, 162, 160, 161].map((v, i) => [T0 + i * STEP, v]);
    const a = judgeWindow({ service: 'db', metric: 'latency', direction: 'up', samples: chronic }, base)!;
    assert.ok(a.deviation < 1, `deviation ${a.deviation}`);
    assert.equal(a.onset, undefined);
    assert.ok(a.score < 0.1);
  });

  it('reads the harmful side: a drop for availability, a rise is no evidence', () => {
    const avail = baselineOf(Array.from({ length: 200 }, () => 100))!;
    const drop = judgeWindow({ service: 'api', metric: 'availability', direction: 'down', samples: [[T0, 100], [T0 + STEP, 90]] }, avail)!;
    assert.ok(drop.score > 0.5 && drop.onset === T0 + STEP);
    const rise = judgeWindow({ service: 'api', metric: 'latency', direction: 'up', samples: [[T0, 100], [T0 + STEP, 40]] }, base)!;
    assert.equal(rise.deviation, 0);
  });

  it('needs enough baseline, and judges around an incident from the series\' own past', () => {
    assert.equal(baselineOf([1, 2, 3]), undefined);
    assert.ok(baselineOf(Array.from({ length: DEFAULT_MIN_BASELINE }, (_, i) => i)));
    const samples: Array<[number, number]> = [];
    for (let t = T0 - 2 * 3_600_000; t < T0 + 600_000; t += 10_000) samples.push([t, t >= T0 ? 300 : noisy(t / 10_000)]);
    const a = judgeAroundIncident({ service: 'db', metric: 'latency', direction: 'up', samples }, { start: T0 })!;
    assert.equal(a.onset, T0);
    assert.ok(a.deviation > 20, `deviation ${a.deviation}`);
    assert.equal(judgeAroundIncident({ service: 'db', metric: 'latency', direction: 'up', samples: samples.slice(-10) }, { start: T0 }), undefined);
  });

  it('judges a percentage of requests by its count: few requests are weak evidence, many are strong', () => {
    const full = { median: 100, scale: 1, count: 500 }; // availability at 100% all along
    const judge = (points: Array<[number, number]>, counts: Array<[number, number]>) => judgeProportion(
      { service: 's', metric: 'availability', direction: 'down', samples: points }, new Map(counts), full)!;
    // 4 failures of 37 requests (89.2%) against 22 of 882 (97.5%): the smaller drop is the stronger evidence
    const few = judge([[T0, 100], [T0 + STEP, 89.19]], [[T0, 30], [T0 + STEP, 37]]);
    const many = judge([[T0, 100], [T0 + STEP, 97.51]], [[T0, 774], [T0 + STEP, 882]]);
    assert.ok(few.deviation > 3.5 && few.deviation < 5, `few: ${few.deviation}`);
    assert.ok(many.deviation > 9 && many.deviation < 10, `many: ${many.deviation}`);
    assert.equal(many.onset, T0 + STEP);
    assert.equal(few.onset, undefined, 'below the bound of 5');
    assert.equal(Math.round(many.excess![1]![1] * 100) / 100, 2.49, 'the excess stays in percentage points');
    // one request that failed is all a single request can say: 2 * asin(1) = pi
    assert.ok(Math.abs(judge([[T0, 100], [T0 + STEP, 0]], [[T0 + STEP, 1]]).deviation - Math.PI) < 1e-9);
    // no count, no evidence
    assert.equal(judge([[T0, 100], [T0 + STEP, 50]], []).deviation, 0);
  });

  it('turns detector events into one evidence per series: first onset, strongest relative excess', () => {
    const ev = (service: string, ts: number, value: number, expected: number, score: number): AnomalyEvent => ({
      id: `${service}-${ts}`, tenant: 't', service, metric: 'latency_ms', labels: {}, timestamp: ts, value, expected, score, tier: 'agile', direction: 'up',
    });
    const out = anomaliesFromEvents([ev('db', T0 + 10_000, 30, 5, 0.95), ev('db', T0, 20, 5, 0.4), ev('api', T0 + 20_000, 40, 20, 1)]);
    const db = out.find((a) => a.service === 'db')!;
    assert.equal(db.onset, T0 + 10_000); // the first event at or above the anomaly bound
    assert.equal(db.peakAt, T0 + 10_000);
    assert.equal(db.deviation, 5); // (30 - 5) / 5
    assert.equal(db.score, 0.95);
    assert.deepEqual(db.excess, [[T0, 15], [T0 + 10_000, 25]]);
    assert.equal(out.find((a) => a.service === 'api')!.deviation, 1);
  });
});
