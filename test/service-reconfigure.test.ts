// A tenant's detection settings changed while its series run (issue 12: configuration
// applied at run time): the series take them at their next batch. A new tier starts a fresh
// detector with its warm-up; a new sensitivity keeps what the detector learnt; state saved
// under another tier is not run as the new one. Real detectors (the node's factory).
import assert from 'node:assert/strict';
import { ServiceDetection, type MetricDetection } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import type { AnomalyEvent, SeriesInput } from '../protocols/index.ts';

const STEP = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function batch(from: number, n: number, value = (i: number) => 100 + (i % 7)): SeriesInput {
  return { service: 'api', metric: 'cpu', samples: Array.from({ length: n }, (_, k): [number, number] => [T0 + (from + k) * STEP, value(from + k)]) };
}

describe('service detection: settings changed at run time', () => {
  let how: MetricDetection;
  const detectionOf = (): MetricDetection => how;

  it('a new tier starts a fresh detector of that tier, its warm-up from the next batch', () => {
    how = { tier: 'basic', warmupMs: 0 };
    const d = new ServiceDetection('acme', 'api', detectionOf, tierDetectors());
    d.detect(batch(0, 300), []);
    const st = d.series.get([...d.series.keys()][0]!)!;
    assert.equal(st.detector.tier, 'basic');
    how = { tier: 'agile', warmupMs: 10 * STEP };
    d.detect(batch(300, 5), []);
    assert.equal(st.detector.tier, 'agile');
    assert.equal(st.quietUntil, T0 + 300 * STEP + 10 * STEP, 'the warm-up restarts at the batch that found the change');
    const alone = tierDetectors().create('agile');
    for (const [ts, v] of batch(300, 5).samples) alone.update(ts, v);
    assert.deepEqual(st.detector.snapshot(), alone.snapshot(), 'it learnt the new batch only');
  });

  it('a new sensitivity keeps the learnt state and decides with the new bound', () => {
    how = { tier: 'basic' };
    const d = new ServiceDetection('acme', 'api', detectionOf, tierDetectors());
    d.detect(batch(0, 600), []);
    const st = d.series.get([...d.series.keys()][0]!)!;
    const learnt = JSON.stringify({ ...st.detector.snapshot(), sensitivity: null });
    how = { tier: 'basic', sensitivity: { threshold: 0.95, direction: 'up' } };
    d.detect(batch(600, 0), []);
    const snap = st.detector.snapshot() as unknown as { sensitivity: { threshold: number; direction: string } };
    assert.equal(snap.sensitivity.threshold, 0.95);
    assert.equal(snap.sensitivity.direction, 'up');
    assert.equal(st.direction, 'up');
    assert.equal(JSON.stringify({ ...snap, sensitivity: null }), learnt, 'nothing learnt was lost');
    // a dip is no anomaly for an up-only metric now
    const out: AnomalyEvent[] = [];
    d.detect(batch(600, 1, () => -1000), out);
    assert.equal(out.length, 0);
  });

  it('keeps running as it was while the settings stay the same object', () => {
    how = { tier: 'agile' };
    const d = new ServiceDetection('acme', 'api', detectionOf, tierDetectors());
    d.detect(batch(0, 100), []);
    const st = d.series.get([...d.series.keys()][0]!)!;
    const before = st.detector;
    d.detect(batch(100, 100), []);
    assert.equal(st.detector, before, 'no reconfiguration without a change');
  });

  it('state saved under another tier restores as it was, then starts afresh at its first batch', () => {
    how = { tier: 'basic' };
    const a = new ServiceDetection('acme', 'api', detectionOf, tierDetectors());
    a.detect(batch(0, 300), []);
    const saved = a.snapshot();
    how = { tier: 'agile', warmupMs: 0 };
    const b = new ServiceDetection('acme', 'api', detectionOf, tierDetectors(), saved);
    const st = b.series.get([...b.series.keys()][0]!)!;
    assert.equal(st.detector.tier, 'basic', 'restored as saved');
    b.detect(batch(300, 3), []);
    assert.equal(st.detector.tier, 'agile');
  });
});
