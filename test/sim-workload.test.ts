// The simulated workload: seeded and replayable, with faults that travel upstream along
// the dependencies one hop at a time and leave unrelated services alone.
import { strict as assert } from 'node:assert';
import { SeededRng } from '../actors/runtime/index.ts';
import {
  SHOP_SERVICES, ServiceModel, Workload, demoScenario, faultLevel, upstreamOf, type Fault, type ServiceSpec,
} from '../sim/index.ts';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const STEP = 10_000;

describe('sim: workload generation', () => {
  it('replays exactly from the same seed and differs with another', () => {
    const a = new Workload({ services: SHOP_SERVICES, rng: new SeededRng(7) }).series(T0, T0 + 600_000, STEP);
    const b = new Workload({ services: SHOP_SERVICES, rng: new SeededRng(7) }).series(T0, T0 + 600_000, STEP);
    const c = new Workload({ services: SHOP_SERVICES, rng: new SeededRng(8) }).series(T0, T0 + 600_000, STEP);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(a.length, SHOP_SERVICES.length * 3);
    assert.ok(a.every((s) => s.samples.length === 60));
  });

  it('gives the same value at a time whatever range or step it is generated in', () => {
    const w = new Workload({ services: SHOP_SERVICES, rng: new SeededRng(1) });
    const coarse = w.series(T0, T0 + 3600_000, 60_000);
    const fine = w.series(T0 + 1800_000, T0 + 1900_000, 5_000);
    const at = (series: typeof coarse, t: number): number | undefined =>
      series.find((s) => s.service === 'db' && s.metric === 'latency_ms')!.samples.find((p) => p[0] === t)?.[1];
    assert.equal(at(coarse, T0 + 1800_000), at(fine, T0 + 1800_000));
    assert.equal(w.value('db', 'latency_ms', T0 + 1800_000), at(fine, T0 + 1800_000));
  });

  it('produces plausible values: noise around the model, error rates in [0, 1], daily swing', () => {
    const w = new Workload({ services: SHOP_SERVICES, rng: new SeededRng(3) });
    const lat = w.series(T0, T0 + 3600_000, STEP).find((s) => s.service === 'frontend' && s.metric === 'latency_ms')!;
    const mean = lat.samples.reduce((n, p) => n + p[1], 0) / lat.samples.length;
    const model = w.model.latencyMs('frontend', T0 + 1800_000);
    assert.ok(Math.abs(mean - model) / model < 0.03, `mean ${mean} near the model's ${model}`);
    const sd = Math.sqrt(lat.samples.reduce((n, p) => n + (p[1] - mean) ** 2, 0) / lat.samples.length);
    assert.ok(sd > 0.01 * mean && sd < 0.1 * mean, `noise ${sd} is a few percent of ${mean}`);
    for (const s of w.series(T0, T0 + 600_000, STEP).filter((x) => x.metric === 'error_rate')) {
      assert.ok(s.samples.every((p) => p[1] >= 0 && p[1] <= 1));
    }
    // traffic peaks in the afternoon (UTC) and is lowest at night
    const day = Date.UTC(2026, 0, 15);
    assert.ok(w.model.rps('frontend', day + 14 * 3600_000) > w.model.rps('frontend', day + 2 * 3600_000) * 1.1);
  });
});

describe('sim: faults propagate along dependencies', () => {
  const lag = 10_000;
  const fault: Fault = { service: 'db', kind: 'latency', startMs: T0, durationMs: 300_000, magnitude: 5 };
  const healthy = new ServiceModel(SHOP_SERVICES, []);
  const faulty = new ServiceModel(SHOP_SERVICES, [fault]);
  const ratio = (service: string, t: number): number => faulty.latencyMs(service, t) / healthy.latencyMs(service, t);

  it('slows the faulty service at once and its callers one hop later each', () => {
    assert.equal(ratio('db', T0 - 1), 1);
    assert.ok(ratio('db', T0) > 5.9, 'db: own latency × 6');
    // inventory and catalog call db: one hop
    assert.equal(ratio('inventory', T0 + lag - 1), 1);
    assert.ok(ratio('inventory', T0 + lag) > 1.5);
    assert.ok(ratio('catalog', T0 + lag) > 1.5);
    // checkout calls inventory, frontend calls catalog: two hops
    assert.equal(ratio('checkout', T0 + 2 * lag - 1), 1);
    assert.ok(ratio('checkout', T0 + 2 * lag) > 1.2);
    assert.ok(ratio('frontend', T0 + 2 * lag) > 1.2);
  });

  it('leaves services that do not depend on the fault alone, and ends with the fault', () => {
    assert.deepEqual(upstreamOf(SHOP_SERVICES, 'db').sort(), ['catalog', 'checkout', 'frontend', 'inventory']);
    for (let t = T0 - lag; t < T0 + 600_000; t += 5_000) assert.equal(ratio('payments', t), 1);
    assert.equal(ratio('db', T0 + 300_000), 1, 'over after durationMs');
    assert.equal(ratio('frontend', T0 + 300_000 + 3 * lag), 1, 'and upstream once the longest path (frontend → checkout → inventory → db) has drained');
  });

  it('passes part of a dependency\'s extra errors upstream', () => {
    const errs = new ServiceModel(SHOP_SERVICES, [{ service: 'payments', kind: 'errors', startMs: T0, durationMs: 60_000, magnitude: 0.2 }]);
    assert.ok(Math.abs(errs.errorRate('payments', T0) - (0.004 + 0.2)) < 1e-9);
    assert.ok(Math.abs(errs.errorRate('checkout', T0 + lag) - (0.003 + 0.1)) < 1e-9, 'half passes through one call');
    assert.equal(errs.errorRate('catalog', T0 + lag), 0.001);
  });

  it('ramps a fault in when asked to', () => {
    const f: Fault = { ...fault, rampMs: 60_000 };
    assert.equal(faultLevel(f, T0 - 1), 0);
    assert.equal(faultLevel(f, T0 + 30_000), 0.5);
    assert.equal(faultLevel(f, T0 + 90_000), 1);
  });

  it('shows the demo fault in the sampled values, upstream after the lag', () => {
    const { workload } = demoScenario({ rng: new SeededRng(1), faultAt: T0 });
    const before = workload.value('frontend', 'latency_ms', T0 - 5_000);
    const early = workload.value('frontend', 'latency_ms', T0 + 5_000);
    const late = workload.value('frontend', 'latency_ms', T0 + 25_000);
    assert.ok(Math.abs(early - before) / before < 0.2, 'not yet at the frontend');
    assert.ok(late > before * 1.3, `frontend slower two hops later (${before} → ${late})`);
  });

  it('gives the same values before the fault whenever the fault is set (the demo backfills without it)', () => {
    const none = demoScenario({ rng: new SeededRng(5), faultAt: Infinity }).workload;
    const later = demoScenario({ rng: new SeededRng(5), faultAt: T0 }).workload;
    assert.deepEqual(none.series(T0 - 3600_000, T0, STEP), later.series(T0 - 3600_000, T0, STEP));
    assert.notDeepEqual(none.series(T0, T0 + 60_000, STEP), later.series(T0, T0 + 60_000, STEP));
  });

  it('refuses a topology with a cycle or an unknown dependency', () => {
    const cyc: ServiceSpec[] = [
      { name: 'a', dependsOn: [{ service: 'b', calls: 1 }], ownLatencyMs: 1, errorRate: 0, rps: 1 },
      { name: 'b', dependsOn: [{ service: 'a', calls: 1 }], ownLatencyMs: 1, errorRate: 0, rps: 1 },
    ];
    assert.throws(() => new ServiceModel(cyc, []), /dependency cycle: a → b → a/);
    assert.throws(() => new ServiceModel([{ ...cyc[0]!, dependsOn: [{ service: 'zz', calls: 1 }] }], []), /unknown service zz/);
  });
});
