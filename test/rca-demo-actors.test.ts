// The demo's seeded workload (sim/: the web shop, db made six times slower) for seeds 1..10,
// through the actor path a node runs: the tenant supervisor, TenantActor, ServiceActors with
// the node's tier detectors (Agile, the demo's warm-up and directions), the correlator and
// the tenant's RCA actor, on a virtual clock that moves with the data. The RCA actor reads
// the raw series the ServiceActors stored (an in-memory store here) and the topology, as on
// a node. The service where the fault was injected must rank first in the incident's last
// ranking, every seed. (test/rca-demo.test.ts ranks the same workload with the pure core.)
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createActorSystem, SeededRng, VirtualClock, type ActorSystem } from '../actors/runtime/index.ts';
import type { RcaSource } from '../actors/rca/index.ts';
import type { EventSink } from '../actors/sink.ts';
import { IngestReceipt, tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import { defaultConfig, tierDetectors } from '../cluster/index.ts';
import type { Incident, IncidentRca, SeriesInput } from '../protocols/index.ts';
import { demoScenario } from '../sim/index.ts';
import { BACKFILL_STEP, demoRun, HISTORY_MS, HOUR, LIVE_STEP, WATCH_AFTER_FAULT } from './support/rca-demo.ts';

const TENANT = 'demo';

/** What the node's sink and series store would hold: samples by series, incidents, rankings. */
class Recorder {
  readonly samples = new Map<string, Array<[number, number]>>();
  readonly incidents = new Map<string, Incident>();
  readonly rankings: IncidentRca[] = [];

  readonly sink: EventSink = {
    samples: async (_tenant, service, series) => {
      for (const s of series) {
        const key = `${service}\u0000${s.metric}`;
        const list = this.samples.get(key) ?? [];
        for (const x of s.samples) list.push(x);
        this.samples.set(key, list);
      }
    },
    anomaly: () => undefined,
    alert: () => undefined,
    incident: (inc) => void this.incidents.set(inc.id, inc),
    rca: (r) => void this.rankings.push(r),
  };

  source(topology: ReturnType<ReturnType<typeof demoScenario>['workload']['topology']>): RcaSource {
    return {
      topology: async () => topology,
      series: async (_tenant, r) => (this.samples.get(`${r.service}\u0000${r.metric}`) ?? []).filter(([t]) => t >= r.from && t <= r.to),
    };
  }
}

interface Outcome { seed: number; injected: string; incident: Incident; ranking?: IncidentRca; rankings: number }

async function runSeed(seed: number): Promise<Outcome> {
  const { liveFrom, faultAt, history, workload, fault } = demoRun(seed);
  const clock = new VirtualClock(liveFrom - HISTORY_MS);
  const sys: ActorSystem = createActorSystem({ name: `demo-${seed}`, clock, rng: new SeededRng(seed), log: pino({ level: 'silent' }) });
  const rec = new Recorder();
  const config = defaultConfig();
  try {
    const tenants = sys.spawn<TenantsMsg>('tenants', tenantsBehavior({
      // as `vigil demo` configures its tenant: Agile, rises only for latency and errors, a day of warm-up
      tenantSettings: (id) => (id === TENANT ? {
        id, tier: 'agile', metricTiers: new Map(), warmupMs: HISTORY_MS / 2,
        metricSensitivity: new Map([['latency_ms', { direction: 'up' as const }], ['error_rate', { direction: 'up' as const }]]),
      } : undefined),
      supervision: { strategy: 'one_for_one' },
      correlation: {
        windowMs: config.correlation.windowMs, autoResolveMs: config.correlation.autoResolveMs,
        minAlertScore: config.detection.minAlertScore, criticalScore: 0.99,
      },
      detectors: tierDetectors({ clock }),
      incidents: { unresolved: () => [] },
      sink: rec.sink,
      serviceIdleMs: 2 * HISTORY_MS,
      rca: { source: rec.source(workload.topology()) },
    }));
    const send = async (series: SeriesInput[], at: number): Promise<void> => {
      let n = 0;
      for (const s of series) n += s.samples.length;
      // as the node's shard host: the receipt is what hands the samples to the sink
      tenants.tell({ type: 'to-tenant', tenant: TENANT, msg: { type: 'ingest', series, receipt: new IngestReceipt(n, () => undefined) } });
      clock.advanceTo(at);
      await sys.settled();
    };
    // the backfill, an hour a batch (in time order: the workload's noise is a stream)
    for (let t = liveFrom - HISTORY_MS; t < liveFrom; t += HOUR) await send(history.series(t, t + HOUR, BACKFILL_STEP), t + HOUR);
    // live, a step at a time, the clock with the data; then quiet long enough for the last ranking
    for (let t = liveFrom; t < faultAt + WATCH_AFTER_FAULT; t += LIVE_STEP) await send(workload.series(t, t + LIVE_STEP, LIVE_STEP), t + LIVE_STEP);
    for (let k = 0; k < 30; k++) {
      clock.advance(1_000);
      await sys.settled();
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await sys.stop();
  }
  const open = [...rec.incidents.values()].filter((i) => i.updatedAt >= faultAt).sort((a, b) => a.openedAt - b.openedAt);
  assert.ok(open.length > 0, `seed ${seed}: no incident after the fault`);
  const incident = open.find((i) => i.services.includes(fault.service)) ?? open[0]!;
  const mine = rec.rankings.filter((r) => r.incidentId === incident.id);
  return { seed, injected: fault.service, incident, ...(mine.length > 0 ? { ranking: mine.at(-1)! } : {}), rankings: mine.length };
}

describe('rca: the demo workload, seeds 1..10, through the actors (tenant, services, correlator, RCA actor)', function () {
  this.timeout(600_000);

  it('ranks the service where the fault was injected first in the incident\'s last ranking, every seed', async () => {
    const outcomes: Outcome[] = [];
    for (let seed = 1; seed <= 10; seed++) outcomes.push(await runSeed(seed));
    const report = outcomes.map((o) => `seed ${o.seed}: ${o.ranking?.causes.slice(0, 3).map((c) => `${c.service} ${c.score.toFixed(3)}`).join(' > ') ?? 'no ranking'}`
      + ` (${o.rankings} rankings; incident: ${o.incident.services.join(', ')}; evidence ${JSON.stringify(o.ranking?.evidence)})`).join('\n');
    assert.deepEqual(outcomes.filter((o) => o.ranking?.causes[0]?.service !== o.injected).map((o) => o.seed), [], `the injected service was not first:\n${report}`);
    for (const o of outcomes) {
      assert.ok(o.incident.services.length > 1, `the slowness spread, so first place was contested:\n${report}`);
      assert.deepEqual(o.ranking!.alerts, o.incident.services, `the last ranking explains the incident as it ended:\n${report}`);
      assert.ok(o.ranking!.evidence.rawSeries > 0, `judged from the stored series:\n${report}`);
      // alerts here join one detection step (5 s) apart, longer than the quiet period: a ranking per join at most
      assert.ok(o.rankings <= o.incident.alertIds.length, `no more rankings than alerts:\n${report}`);
    }
  });
});
