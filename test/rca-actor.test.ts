// The RCA actor and its pure core: debounce (a storm is ranked a few times, not per alert),
// which raw series a ranking reads, ranking from raw series and events, the level it runs
// at (L0 causal, L1 correlation, L2 rules, none at L3/L4), tenant isolation, and the
// TenantActor telling it the correlator's incidents and the services' anomalies.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { RcaSchedule, TenantRca, rcaBehavior, type RcaMsg, type RcaSource, type SeriesRead } from '../actors/rca/index.ts';
import { createActorSystem, SeededRng, VirtualClock, type ActorSystem } from '../actors/runtime/index.ts';
import { RCA, tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import type { EventSink } from '../actors/sink.ts';
import type { AnomalyEvent, Incident, IncidentRca, Topology } from '../protocols/index.ts';
import type { Level } from '../supervisors/index.ts';
import { SPIKE, thresholdDetectors } from './support/api-detector.ts';

const silent = pino({ level: 'silent' });
const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 12);

// frontend -> catalog -> db, frontend -> checkout -> payments
const TOPOLOGY: Topology = {
  services: [
    { name: 'frontend', dependsOn: ['catalog', 'checkout'] },
    { name: 'catalog', dependsOn: ['db'] },
    { name: 'checkout', dependsOn: ['payments'] },
    { name: 'payments', dependsOn: [] },
    { name: 'db', dependsOn: [] },
  ],
};

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1', tenant: 'acme', status: 'open', title: 't', services: ['frontend'], alertIds: ['al_1'],
    openedAt: T0, updatedAt: T0, peakScore: 0.99, ...over,
  };
}

function anomaly(service: string, at: number, value: number, expected: number, over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  return {
    id: `an_${service}_${at}`, tenant: 'acme', service, metric: 'latency_ms', labels: {}, timestamp: at,
    value, expected, score: 0.99, tier: 'agile', direction: 'up', ...over,
  };
}

/** 10 s samples from T0 - 2 h: flat around `base` with a little noise, `base * factor` from `from`. */
function latency(base: number, from: number, factor: number, seed: number): Array<[number, number]> {
  const rng = new SeededRng(seed);
  const out: Array<[number, number]> = [];
  for (let t = T0 - 120 * MIN; t <= T0 + 10 * MIN; t += 10_000) out.push([t, base * (t >= from ? factor : 1) * (1 + 0.02 * rng.normal())]);
  return out;
}

/** db slow from T0 - 30 s; catalog and frontend follow, 20 s apart (their latency includes db's). */
const SERIES: Record<string, Array<[number, number]>> = {
  db: latency(5, T0 - 30_000, 6, 1),
  catalog: latency(20, T0 - 10_000, 2.2, 2),
  frontend: latency(50, T0 + 10_000, 1.5, 3),
  checkout: latency(30, Infinity, 1, 4),
  payments: latency(15, Infinity, 1, 5),
};

function source(reads: SeriesRead[] = [], topology = TOPOLOGY): RcaSource {
  return {
    topology: async () => topology,
    series: async (_tenant, r) => {
      reads.push(r);
      return (SERIES[r.service] ?? []).filter(([t]) => t >= r.from && t <= r.to);
    },
  };
}

function collecting(): { sink: EventSink; results: IncidentRca[] } {
  const results: IncidentRca[] = [];
  const sink: EventSink = {
    samples: async () => undefined, anomaly: () => undefined, alert: () => undefined, incident: () => undefined,
    rca: (r) => void results.push(r),
  };
  return { sink, results };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function advance(sys: ActorSystem, clock: VirtualClock, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 500) {
    clock.advance(Math.min(500, left));
    await sys.settled();
    await turn();
  }
}

describe('rca: schedule (debounce)', () => {
  it('is due a quiet period after the last change, and at most maxWait after the first', () => {
    const s = new RcaSchedule({ quietMs: 2_000, maxWaitMs: 10_000 });
    s.touch('a', 0);
    assert.equal(s.next(), 2_000);
    s.touch('a', 1_500);
    assert.equal(s.next(), 3_500);
    for (let t = 3_000; t <= 12_000; t += 1_000) s.touch('a', t); // a storm that never pauses
    assert.equal(s.next(), 10_000);
    assert.deepEqual(s.takeDue(9_999), []);
    assert.deepEqual(s.takeDue(10_000), ['a']);
    assert.equal(s.next(), undefined);
  });

  it('hands out what is due earliest first, and only that', () => {
    const s = new RcaSchedule({ quietMs: 1_000, maxWaitMs: 5_000 });
    s.touch('late', 500);
    s.touch('early', 0);
    s.touch('later', 3_000);
    assert.deepEqual(s.takeDue(1_600), ['early', 'late']);
    assert.equal(s.size, 1);
  });
});

describe('rca: TenantRca (pure)', () => {
  it('schedules a new incident, and again only when alerts or services join', () => {
    const core = new TenantRca('acme');
    assert.equal(core.onIncident(incident(), 0), true);
    assert.equal(core.takeDue(10_000).length, 1);
    assert.equal(core.onIncident(incident({ status: 'acknowledged', updatedAt: T0 + 5 }), 1), false, 'an ack is no new evidence');
    assert.equal(core.onIncident(incident({ alertIds: ['al_1', 'al_2'], services: ['frontend', 'catalog'] }), 2), true);
    assert.equal(core.onIncident(incident({ status: 'resolved' }), 3), false);
    assert.deepEqual(core.takeDue(100_000), [], 'a resolved incident is not ranked');
    assert.equal(core.openCount(), 0);
  });

  it('ignores another tenant\'s incidents and events', () => {
    const core = new TenantRca('acme');
    assert.equal(core.onIncident(incident({ tenant: 'globex' }), 0), false);
    core.onAnomalies([anomaly('db', T0, 30, 5, { tenant: 'globex' })]);
    core.onIncident(incident(), 0);
    assert.deepEqual(core.plan(incident(), TOPOLOGY), [], 'no metric was reported in acme: nothing to read');
  });

  it('reads the reported metrics on every candidate, alerting services first, then those with events, at most maxSeriesReads', () => {
    const core = new TenantRca('acme', { maxSeriesReads: 4 });
    core.onAnomalies([anomaly('db', T0 - 20_000, 30, 5), anomaly('db', T0, 2, 5, { metric: 'availability', direction: 'down' })]);
    const reads = core.plan(incident(), TOPOLOGY);
    assert.deepEqual(reads.map((r) => `${r.service}/${r.metric}/${r.direction}`), [
      'frontend/availability/down', 'frontend/latency_ms/up', 'db/availability/down', 'db/latency_ms/up',
    ]);
    assert.ok(reads.every((r) => r.from < T0 - 60 * MIN && r.to > T0));
  });

  it('ranks the service where the trouble began first, from raw series judged against their past', async () => {
    const core = new TenantRca('acme');
    core.onAnomalies([anomaly('frontend', T0 + 10_000, 75, 50), anomaly('catalog', T0 - 10_000, 44, 20)]);
    const inc = incident({ services: ['frontend', 'catalog'], alertIds: ['al_1', 'al_2'], updatedAt: T0 + 10_000 });
    const reads = core.plan(inc, TOPOLOGY);
    const read = await Promise.all(reads.map(async (r) => ({ read: r, samples: await source().series!('acme', r) })));
    const r = core.explain(inc, TOPOLOGY, 'L0', read, 123);
    assert.equal(r.causes[0]!.service, 'db');
    assert.equal(r.method, 'causal');
    assert.equal(r.candidates, 5);
    assert.equal(r.computedAt, 123);
    assert.equal(r.evidence.rawSeries, 5);
    const db = r.causes[0]!.evidence[0]!;
    assert.equal(db.metric, 'latency_ms');
    assert.ok(db.onset! >= T0 - 30_000 && db.onset! < T0, `onset ${db.onset! - T0} ms from T0`);
    // the same at L2 (earliest anomalous upstream) and L1 (correlation)
    assert.equal(core.explain(inc, TOPOLOGY, 'L2', read, 0).causes[0]!.service, 'db');
    assert.equal(core.explain(inc, TOPOLOGY, 'L1', read, 0).method, 'correlation');
  });

  it('ranks from the detectors\' events when no series can be read', () => {
    const core = new TenantRca('acme');
    core.onAnomalies([anomaly('db', T0 - 20_000, 30, 5), anomaly('catalog', T0, 44, 20), anomaly('frontend', T0 + 10_000, 75, 50)]);
    const inc = incident({ services: ['frontend', 'catalog'], updatedAt: T0 + 10_000 });
    const r = core.explain(inc, TOPOLOGY, 'L0', [], 0);
    assert.equal(r.causes[0]!.service, 'db');
    assert.deepEqual(r.evidence, { rawSeries: 0, eventSeries: 3 });
  });
});

describe('rca: the actor', function () {
  this.timeout(20_000);
  let sys: ActorSystem;
  let clock: VirtualClock;

  beforeEach(() => {
    clock = new VirtualClock(T0);
    sys = createActorSystem({ name: 'rca-test', clock, rng: new SeededRng(1), log: silent });
  });
  afterEach(() => sys.stop());

  it('ranks a storm of incident changes a few times, not once per change, and says how it ranked', async () => {
    const { sink, results } = collecting();
    const reads: SeriesRead[] = [];
    const ref = sys.spawn<RcaMsg>('rca', rcaBehavior({ tenant: 'acme', source: source(reads), sink, settings: { quietMs: 2_000, maxWaitMs: 10_000 } }));
    ref.tell({ type: 'anomalies', events: [anomaly('db', T0 - 20_000, 30, 5), anomaly('catalog', T0, 44, 20)] });
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) { // 60 alerts, one every 250 ms: 15 s of storm
      ids.push(`al_${i}`);
      ref.tell({ type: 'incident', incident: incident({ alertIds: [...ids], services: i < 30 ? ['frontend'] : ['frontend', 'catalog'], updatedAt: T0 + i * 250 }) });
      await advance(sys, clock, 250);
    }
    await advance(sys, clock, 5_000);
    assert.ok(results.length >= 1 && results.length <= 3, `ranked ${results.length} times for 60 changes`);
    const last = results.at(-1)!;
    assert.deepEqual(last.alerts, ['frontend', 'catalog'], 'the last ranking explains the last state');
    assert.equal(last.causes[0]!.service, 'db');
    assert.equal(last.level, 'L0');
    assert.ok(reads.length > 0 && reads.every((r) => ['frontend', 'catalog', 'checkout', 'payments', 'db'].includes(r.service)));
  });

  it('runs at the node\'s level: L1 correlation, L2 rules, nothing at L3 and L4 until the level allows', async () => {
    let level: Level = 1;
    const { sink, results } = collecting();
    const ref = sys.spawn<RcaMsg>('rca', rcaBehavior({ tenant: 'acme', source: source(), sink, level: () => level }));
    const step = async (alerts: number): Promise<void> => {
      ref.tell({ type: 'incident', incident: incident({ alertIds: Array.from({ length: alerts }, (_, i) => `al_${i}`) }) });
      await advance(sys, clock, 15_000);
    };
    await step(1);
    assert.deepEqual(results.map((r) => `${r.level}/${r.method}`), ['L1/correlation']);
    level = 2;
    await step(2);
    assert.deepEqual(results.map((r) => r.level), ['L1', 'L2']);
    level = 3;
    await step(3);
    level = 4;
    await step(4);
    assert.equal(results.length, 2, 'no RCA at L3 or L4');
    level = 0;
    await advance(sys, clock, 5_000);
    assert.deepEqual(results.map((r) => r.level), ['L1', 'L2', 'L0'], 'ranked once the level allows');
  });

  it('ranks from events when the series cannot be read, and from the alerts alone without a topology', async () => {
    const { sink, results } = collecting();
    const failing: RcaSource = { topology: async () => { throw new Error('graph down'); }, series: async () => { throw new Error('store down'); } };
    const ref = sys.spawn<RcaMsg>('rca', rcaBehavior({ tenant: 'acme', source: failing, sink }));
    ref.tell({ type: 'anomalies', events: [anomaly('frontend', T0, 75, 50), anomaly('catalog', T0 - 5_000, 60, 20)] });
    ref.tell({ type: 'incident', incident: incident({ services: ['frontend', 'catalog'] }) });
    await advance(sys, clock, 15_000);
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.causes.map((c) => c.service).sort(), ['catalog', 'frontend']);
    assert.equal(results[0]!.evidence.eventSeries, 2);
  });

  it('is told the correlator\'s incidents and the services\' anomalies by its TenantActor', async () => {
    const { sink, results } = collecting();
    const tenants = sys.spawn<TenantsMsg>('tenants', tenantsBehavior({
      tenantSettings: (id) => (id === 'acme' ? { id, tier: 'basic', metricTiers: new Map() } : undefined),
      supervision: { strategy: 'one_for_one' },
      correlation: { windowMs: 5 * MIN, autoResolveMs: 30 * MIN, minAlertScore: 0.5, criticalScore: 0.99 },
      detectors: thresholdDetectors,
      incidents: { unresolved: () => [] },
      sink,
      serviceIdleMs: 60 * MIN,
      rca: { source: source() },
    }));
    tenants.tell({ type: 'to-tenant', tenant: 'acme', msg: { type: 'ingest', series: [{ service: 'db', metric: 'latency_ms', samples: [[T0, SPIKE]] }] } });
    await advance(sys, clock, 15_000);
    assert.ok(sys.find(`/root/tenants/acme/${RCA}`), 'the tenant hosts an RCA actor');
    assert.equal(results.length, 1, 'the incident the anomaly opened was ranked');
    assert.deepEqual(results[0]!.alerts, ['db']);
    assert.equal(results[0]!.causes[0]!.service, 'db');
  });
});
