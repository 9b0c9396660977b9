// npm run bench:correlation [-- --json] [--seed N] [--rate N] [--copies N]
// The alert storm of issue 11 (sim/alert-storm.ts: one fault spreading through 100 services,
// 10,000 alerts, with small unrelated faults beside it):
// 1. Quality, on the pure core in data time: incidents holding the storm's alerts, BCubed
//    precision and recall against the truth, at L0 (topology) and L2 (time only); and
//    whether delivering every alert `--copies` times (default 3) changes anything.
// 2. Latency, through a correlator actor on the real clock: every alert told at `--rate`
//    alerts/s (default 1,000), one alert per message (the worst case: Prometheus batches),
//    timed from the tell to the actor's answer once it has handled it (mailbox wait
//    included); and the core's own time per alert, unpaced.
// Last line: one JSON object with every figure.
import pino from 'pino';
import { alertmanagerInput, correlatorBehavior, TenantCorrelation, TopologyIndex, type AlertInput, type CorrelatorMsg } from '../actors/correlation/index.ts';
import { createActorSystem, SystemClock } from '../actors/runtime/index.ts';
import type { EventSink } from '../actors/sink.ts';
import type { Level } from '../supervisors/index.ts';
import { alertStorm, groupingScore, type Storm } from '../sim/alert-storm.ts';
import { positiveInt } from './args.ts';
import { percentile } from './ingest/client.ts';

const json = process.argv.includes('--json');
const seed = positiveInt('--seed', 1);
const rate = positiveInt('--rate', 1_000);
const copies = positiveInt('--copies', 3);
const SETTINGS = { windowMs: 5 * 60_000, autoResolveMs: 30 * 60_000, minAlertScore: 0.9, criticalScore: 0.99 };
const SERVICE_LABELS = ['service'];

/** the q-quantile (0..1) of `xs` by nearest rank (ingest/client.ts's percentile) */
const quantile = (xs: number[], q: number): number => percentile([...xs].sort((a, b) => a - b), q * 100);

function inputOf(storm: Storm, i: number, now: number): AlertInput {
  const a = storm.alerts[i]!;
  return alertmanagerInput({ labels: a.labels, startsAt: a.startsAt, endsAt: a.endsAt }, SERVICE_LABELS, now);
}

interface Grouping {
  stormIncidents: number;
  incidents: number;
  precision: number;
  recall: number;
  found: Array<string | undefined>;
  /** core time per alert, ms */
  perAlert: number[];
}

/** The pure core in data time: every alert `times` times, 20 s apart, a tick every second. */
function group(storm: Storm, times: number, level: Level): Grouping {
  const c = new TenantCorrelation('bench', SETTINGS, [], { topology: new TopologyIndex(storm.topology), level: () => level });
  const deliveries = storm.alerts.flatMap((a, i) => Array.from({ length: times }, (_, k) => ({ at: a.startsAt + k * 20_000, i })));
  deliveries.sort((x, y) => x.at - y.at || x.i - y.i);
  const perAlert: number[] = [];
  let next = deliveries[0]!.at;
  for (const d of deliveries) {
    while (next <= d.at) c.tick((next += 1_000));
    const input = inputOf(storm, d.i, d.at);
    const t0 = performance.now();
    c.onAlerts([input], d.at);
    perAlert.push(performance.now() - t0);
  }
  c.tick(next + 2_000);
  const views = new Map(c.alertViews(next).map((v) => [v.fingerprint, v.incidentId]));
  const found = storm.alerts.map((_, i) => views.get(inputOf(storm, i, 0).fingerprint));
  const truth = storm.alerts.map((a) => a.fault);
  const { precision, recall } = groupingScore(truth, found);
  const stormIncidents = new Set(found.filter((_, i) => truth[i] === 'storm')).size;
  return { stormIncidents, incidents: new Set(found.filter((f) => f !== undefined)).size, precision, recall, found, perAlert };
}

/** Through the actor, on the real clock, told at `rate` per second: latency of each alert, ms. */
async function throughActor(storm: Storm): Promise<{ latencies: number[]; seconds: number; incidents: number }> {
  const system = createActorSystem({ name: 'bench', clock: new SystemClock(), log: pino({ level: 'silent' }) });
  const incidents = new Set<string>();
  const sink: EventSink = {
    samples: async () => undefined,
    anomaly: () => undefined,
    alert: () => undefined,
    incident: (inc) => incidents.add(inc.id),
    notify: () => undefined,
  };
  const ref = system.spawn<CorrelatorMsg>('correlator', correlatorBehavior({
    tenant: 'bench', settings: SETTINGS, incidents: { unresolved: () => [] }, sink, topology: async () => storm.topology,
  }));
  await ref.ask<true>((reply) => ({ type: 'sync', reply }));
  await new Promise((r) => setTimeout(r, 50)); // the topology arrives
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const t0 = performance.now();
  for (let i = 0; i < storm.alerts.length; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    const input = inputOf(storm, i, Date.now());
    pending.push(new Promise<void>((done) => ref.tell({
      type: 'alerts', alerts: [input], reply: () => { latencies.push(performance.now() - sent); done(); },
    })));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  await system.stop();
  return { latencies, seconds, incidents: incidents.size };
}

const storm = alertStorm({ seed, start: Date.now() });
const stormAlerts = storm.alerts.filter((a) => a.fault === 'storm').length;
const services = new Set(storm.alerts.filter((a) => a.fault === 'storm').map((a) => a.labels.service)).size;
const say = (line: string): void => { if (!json) console.log(line); else console.error(line); };
say(`storm (seed ${seed}): ${stormAlerts} alerts of one fault over ${services} services (root ${storm.root}), ${storm.alerts.length - stormAlerts} alerts of ${new Set(storm.alerts.map((a) => a.fault)).size - 1} unrelated faults; ${storm.topology.services.length} services in the topology`);

const l0 = group(storm, 1, 0);
say(`L0 (topology): ${l0.stormIncidents} incident(s) hold the storm; ${l0.incidents} incidents in all; BCubed precision ${l0.precision.toFixed(4)}, recall ${l0.recall.toFixed(4)}`);
const again = group(storm, copies, 0);
const same = again.found.every((f, i) => f === l0.found[i]);
say(`L0, every alert delivered ${copies}×: ${same ? 'the same incidents, the same alerts in each' : 'DIFFERENT grouping'} (${again.stormIncidents} storm incident(s), precision ${again.precision.toFixed(4)}, recall ${again.recall.toFixed(4)})`);
const l2 = group(storm, 1, 2);
say(`L2 (time only): ${l2.stormIncidents} incident(s) hold the storm; ${l2.incidents} in all; precision ${l2.precision.toFixed(4)}, recall ${l2.recall.toFixed(4)}`);
const core = { p50: quantile(l0.perAlert, 0.5), p99: quantile(l0.perAlert, 0.99), max: Math.max(...l0.perAlert) };
say(`core time per alert (unpaced, L0): p50 ${core.p50.toFixed(3)} ms, p99 ${core.p99.toFixed(3)} ms, max ${core.max.toFixed(2)} ms`);

const actor = await throughActor(storm);
const lat = { p50: quantile(actor.latencies, 0.5), p95: quantile(actor.latencies, 0.95), p99: quantile(actor.latencies, 0.99), max: Math.max(...actor.latencies) };
const achieved = storm.alerts.length / actor.seconds;
say(`through the correlator actor at ${rate} alerts/s (achieved ${achieved.toFixed(0)}/s over ${actor.seconds.toFixed(1)} s): latency p50 ${lat.p50.toFixed(2)} ms, p95 ${lat.p95.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, max ${lat.max.toFixed(1)} ms (target p99 <= 50 ms): ${lat.p99 <= 50 ? 'met' : 'NOT met'}`);

console.log(JSON.stringify({
  seed, alerts: storm.alerts.length, storm_alerts: stormAlerts, storm_services: services,
  storm_incidents: l0.stormIncidents, incidents: l0.incidents, precision: +l0.precision.toFixed(4), recall: +l0.recall.toFixed(4),
  copies, copies_change_nothing: same,
  l2: { storm_incidents: l2.stormIncidents, precision: +l2.precision.toFixed(4), recall: +l2.recall.toFixed(4) },
  rate, achieved_rate: Math.round(achieved),
  latency_ms: { p50: +lat.p50.toFixed(3), p95: +lat.p95.toFixed(3), p99: +lat.p99.toFixed(3), max: +lat.max.toFixed(2) },
  core_ms_per_alert: { p50: +core.p50.toFixed(4), p99: +core.p99.toFixed(4), max: +core.max.toFixed(3) },
  target_p99_ms: 50, met: lat.p99 <= 50 && l0.stormIncidents <= 5 && same,
}));
