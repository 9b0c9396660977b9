// ServiceDetection, the pure core of a ServiceActor: per-series detectors, the tier and
// sensitivity per metric, the warm-up, and snapshots that carry all of it.
import { strict as assert } from 'node:assert';
import { SeededRng } from '../actors/runtime/index.ts';
import { ServiceDetection, type MetricDetection } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import type { AnomalyEvent, SeriesInput } from '../protocols/index.ts';

const STEP = 10_000;

function series(metric: string, n: number, spikes: number[], from = 0, seed = 5): SeriesInput {
  const rng = new SeededRng(seed);
  return { service: 'db', metric, samples: Array.from({ length: n }, (_, i): [number, number] => [from + i * STEP, (spikes.includes(i) ? 400 : 50) + rng.normal()]) };
}

describe('ServiceDetection', () => {
  it('reports nothing during a series\' warm-up, and does after it', () => {
    const how: MetricDetection = { tier: 'basic', warmupMs: 1000 * STEP };
    const sd = new ServiceDetection('acme', 'db', () => how, tierDetectors());
    const out: AnomalyEvent[] = [];
    sd.detect(series('cpu', 2000, [600, 1600]), out);
    assert.ok(!out.some((a) => a.timestamp === 600 * STEP), 'the spike inside the warm-up is not reported');
    assert.ok(out.some((a) => a.timestamp === 1600 * STEP), 'the spike after it is');

    const none = new ServiceDetection('acme', 'db', () => ({ tier: 'basic' }), tierDetectors());
    const all: AnomalyEvent[] = [];
    none.detect(series('cpu', 2000, [600, 1600]), all);
    assert.ok(all.some((a) => a.timestamp === 600 * STEP), 'without a warm-up the first spike is reported');
  });

  it('keeps the warm-up and the detectors across a snapshot', () => {
    const how: MetricDetection = { tier: 'agile', warmupMs: 3000 * STEP };
    const a = new ServiceDetection('acme', 'db', () => how, tierDetectors());
    a.detect(series('cpu', 1500, []), []);
    const b = new ServiceDetection('acme', 'db', () => how, tierDetectors(), JSON.parse(JSON.stringify(a.snapshot())));
    const outA: AnomalyEvent[] = [];
    const outB: AnomalyEvent[] = [];
    const next = series('cpu', 2000, [800, 1800], 1500 * STEP, 9);
    a.detect(next, outA);
    b.detect(next, outB);
    assert.deepEqual(outB, outA);
    assert.ok(!outA.some((e) => e.timestamp === (1500 + 800) * STEP), 'still warming up at 2300 samples');
    assert.ok(outA.some((e) => e.timestamp === (1500 + 1800) * STEP));
  });
});

describe('ServiceDetection: scores on events', () => {
  it('carries the undamped score, so a fault right after a harmless alarm still alerts', () => {
    const sd = new ServiceDetection('acme', 'db', () => ({ tier: 'basic' }), tierDetectors());
    const out: AnomalyEvent[] = [];
    sd.detect(series('cpu', 1500, [1400, 1450]), out);
    const first = out.find((a) => a.timestamp === 1400 * STEP);
    const second = out.find((a) => a.timestamp === 1450 * STEP);
    assert.ok(first && second, 'both spikes are anomalies');
    assert.ok(second.score >= 0.9, `second spike scores ${second.score} on its event`);
    // The detector's own (NAB-style) score damps the second: the event must not.
    const det = tierDetectors().create('basic');
    let damped = NaN;
    for (const [ts, v] of series('cpu', 1500, [1400, 1450]).samples) {
      const s = det.update(ts, v);
      if (ts === 1450 * STEP) damped = s;
    }
    assert.ok(damped < 0.9, `update() damps the second spike (${damped})`);
  });
});
