// The demo's seeded workload (sim/: the web shop with db made six times slower) run for
// seeds 1..10 through the real detection path (ServiceDetection with Agile detectors, the
// demo's warm-up and directions) and the correlator, without a node; the RCA core then
// ranks the incident's dependencies from the detectors' events and the raw series around
// the incident (judged against their own past hour, as an RCA host reading the series
// store would). The service where the fault was injected must rank first every time.
import { strict as assert } from 'node:assert';
import { TenantCorrelation } from '../actors/correlation/index.ts';
import { createDetector, restoreDetector } from '../actors/detection/index.ts';
import { anomaliesFromEvents, judgeAroundIncident, rankRootCauses, type SeriesAnomaly } from '../actors/rca/index.ts';
import { ServiceDetection, type MetricDetection } from '../actors/service/index.ts';
import type { AnomalyEvent, Incident, SeriesInput } from '../protocols/index.ts';
import { BACKFILL_STEP, demoRun, HISTORY_MS, HOUR, LIVE_STEP, WATCH_AFTER_FAULT } from './support/rca-demo.ts';


// As `vigil demo` configures its tenant: Agile, rises only for latency and errors.
function detectionOf(metric: string): MetricDetection {
  const direction = metric === 'latency_ms' || metric === 'error_rate' ? 'up' : 'both';
  return { tier: 'agile', sensitivity: { direction }, warmupMs: HISTORY_MS / 2 };
}

interface Outcome { seed: number; injected: string; ranked: string[]; incident: Incident }

function runSeed(seed: number): Outcome {
  const { liveFrom, faultAt, history, workload, fault } = demoRun(seed);
  const factory = { create: createDetector, restore: restoreDetector };
  const detection = new Map(workload.services.map((s) => [s.name, new ServiceDetection('demo', s.name, detectionOf, factory)]));
  const events: AnomalyEvent[] = [];
  const inputs = [...history.series(liveFrom - HISTORY_MS, liveFrom, BACKFILL_STEP), ...workload.series(liveFrom, faultAt + WATCH_AFTER_FAULT, LIVE_STEP)];
  for (const input of inputs) detection.get(input.service)!.detect(input, events);
  events.sort((a, b) => a.timestamp - b.timestamp || a.service.localeCompare(b.service));
  const correlation = new TenantCorrelation('demo', { windowMs: 5 * 60_000, autoResolveMs: 30 * 60_000, minAlertScore: 0.9, criticalScore: 0.99 });
  const incidents = new Map<string, Incident>();
  for (const e of events) for (const eff of correlation.onAnomaly(e)) if (eff.type === 'incident') incidents.set(eff.incident.id, eff.incident);
  // the incident the fault opened or joined: the one holding the first alert after it began
  const open = [...incidents.values()].filter((i) => i.updatedAt >= faultAt).sort((a, b) => a.openedAt - b.openedAt);
  assert.ok(open.length > 0, `seed ${seed}: no incident after the fault`);
  const incident = open.find((i) => i.services.includes(fault.service)) ?? open[0]!;
  const mine = events.filter((e) => e.timestamp >= incident.openedAt && incident.services.includes(e.service));
  const result = rankRootCauses({ topology: workload.topology(), alerts: incident.services, anomalies: evidence(inputs, mine, incident.openedAt) });
  return { seed, injected: fault.service, ranked: result.causes.map((c) => c.service), incident };
}

/** Raw latency and error series judged around the incident; detector events for the rest. */
function evidence(inputs: SeriesInput[], events: AnomalyEvent[], start: number): SeriesAnomaly[] {
  const samples = new Map<string, Array<[number, number]>>();
  for (const i of inputs) samples.set(`${i.service}/${i.metric}`, [...(samples.get(`${i.service}/${i.metric}`) ?? []), ...i.samples]);
  const judged: SeriesAnomaly[] = [];
  for (const [key, s] of samples) {
    const [service, metric] = key.split('/') as [string, string];
    if (metric !== 'latency_ms' && metric !== 'error_rate') continue;
    const a = judgeAroundIncident({ service, metric, direction: 'up', samples: s.filter(([ts]) => ts >= start - 2 * HOUR) }, { start });
    if (a) judged.push(a);
  }
  const seen = new Set(judged.map((a) => `${a.service}/${a.metric}`));
  return [...judged, ...anomaliesFromEvents(events.filter((e) => !seen.has(`${e.service}/${e.metric}`)))];
}

describe('rca: the demo workload, seeds 1..10, detection -> correlation -> RCA', function () {
  this.timeout(300_000);

  it('ranks the service where the fault was injected first for every seed', () => {
    const outcomes = Array.from({ length: 10 }, (_, i) => runSeed(i + 1));
    const wrong = outcomes.filter((o) => o.ranked[0] !== o.injected);
    const report = outcomes.map((o) => `seed ${o.seed}: ${o.ranked.slice(0, 3).join(' > ')} (incident: ${o.incident.services.join(', ')})`).join('\n');
    assert.deepEqual(wrong.map((o) => o.seed), [], `the injected service was not first for some seeds:\n${report}`);
    // every incident spans several services (the slowness spread), so first place was contested
    for (const o of outcomes) assert.ok(o.incident.services.length > 1, report);
  });
});
