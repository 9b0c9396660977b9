// npm run bench:rca [-- --dir DIR] [--services N] [--incidents N]
// 1. Quality: `vigil rca-eval` over PetShop low_traffic (../shared/data/petshop by default),
//    at each degradation level: top-1/top-3 recall overall, per split, per target metric.
// 2. Speed: ranking time per incident (L0, the costliest level) on a synthetic topology of
//    5,000 services in layers (each calls 1..7 services of deeper layers, ~20,000 calls):
//    a fault in one service spreads to its callers hop by hop, with noise anomalies
//    elsewhere; the alerts are the affected services that nothing affected calls.
// 3. The same incidents through the RCA actor's core (TenantRca: which raw series to read,
//    at most 200; judging them against their past hour; ranking): the CPU an actor spends
//    per ranking, I/O aside (the samples are made before the clock starts).
// Last line: one JSON object with every figure.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rankRootCauses, squash, TenantRca, type ReadSeries, type SeriesAnomaly } from '../actors/rca/index.ts';
import { SeededRng } from '../actors/runtime/index.ts';
import type { AnomalyEvent, Incident, Topology } from '../protocols/index.ts';
import { evaluatePetshop, type PetshopSummary } from '../cli/commands/rca-eval.ts';
import { flagValue as arg, positiveInt } from './args.ts';
import { percentile, round } from './ingest/client.ts';

const here = dirname(fileURLToPath(import.meta.url));

const dir = arg('--dir') ?? resolve(here, '../../shared/data/petshop/low_traffic');
const services = positiveInt('--services', 5000);
const incidents = positiveInt('--incidents', 200);

// --- 1. PetShop ---
const petshop: Record<string, Omit<PetshopSummary, 'lines'>> = {};
if (existsSync(dir)) {
  for (const level of ['L0', 'L1', 'L2'] as const) {
    const { lines: _lines, ...s } = evaluatePetshop(dir, level);
    petshop[level] = s;
    const r = (x: { top1: number; top3: number }): string => `${x.top1.toFixed(3)}/${x.top3.toFixed(3)}`;
    const m = (x: { by_metric: Record<string, { top1: number; top3: number }> }): string => Object.entries(x.by_metric).map(([k, v]) => `${k} ${r(v)}`).join(', ');
    console.log(`PetShop ${level}: ${s.issues} issues, top-1/top-3 ${r(s)} (${m(s)})`);
    for (const [sp, x] of Object.entries(s.by_split)) console.log(`  ${sp.padEnd(5)} ${String(x.issues).padStart(2)} issues: ${r(x)} (${m(x)})`);
  }
} else {
  console.log(`PetShop: ${dir} not found, skipped`);
}

// --- 2. Synthetic topology ---
const rng = new SeededRng('bench-rca');
const LAYERS = 10;
const perLayer = Math.ceil(services / LAYERS);
const layerOf = (i: number): number => Math.floor(i / perLayer);
const deps: number[][] = Array.from({ length: services }, () => []);
for (let i = 0; i < services; i++) {
  const l = layerOf(i);
  if (l === LAYERS - 1) continue;
  const n = 1 + rng.int(7);
  for (let k = 0; k < n; k++) {
    const lower = l + 1 + rng.int(LAYERS - 1 - l);
    const j = Math.min(services - 1, lower * perLayer + rng.int(perLayer));
    if (!deps[i]!.includes(j)) deps[i]!.push(j);
  }
}
const callers: number[][] = Array.from({ length: services }, () => []);
deps.forEach((ds, i) => ds.forEach((j) => callers[j]!.push(i)));
const name = (i: number): string => `svc-${i}`;
const topology: Topology = { services: deps.map((ds, i) => ({ name: name(i), dependsOn: ds.map(name) })) };
const edges = deps.reduce((s, d) => s + d.length, 0);

const T0 = 1_750_000_000_000;
const STEP = 60_000;
function anomaly(service: number, z: number, excess: number, onset: number): SeriesAnomaly {
  const samples: Array<[number, number]> = [];
  for (let t = T0; t <= T0 + 10 * STEP; t += STEP) samples.push([t, t >= onset ? excess : 0]);
  return { service: name(service), metric: 'latency_ms', score: squash(z), deviation: z, direction: 'up', onset, peakAt: onset, excess: samples };
}

const times: number[] = [];
const actorTimes: number[] = [];
let hits = 0;
let actorHits = 0;
const core = new TenantRca('bench');
const RAW_STEP = 10_000;
const noise = new SeededRng('bench-rca-raw'); // its own stream: the incidents stay those of the first part
for (let k = 0; k < incidents; k++) {
  // a root in the lower half, its callers up to 4 hops, each hop a minute later and adding its own work
  const root = Math.floor(services / 2) + rng.int(services - Math.floor(services / 2));
  const hit = new Map<number, { hop: number; excess: number }>([[root, { hop: 0, excess: 50 + rng.next() * 100 }]]);
  let frontier = [root];
  for (let hop = 1; hop <= 4 && frontier.length > 0; hop++) {
    const next: number[] = [];
    for (const f of frontier) for (const c of callers[f]!) if (!hit.has(c) && rng.next() < 0.7) { hit.set(c, { hop, excess: hit.get(f)!.excess * (0.8 + rng.next() * 0.4) }); next.push(c); }
    frontier = next;
  }
  const anomalies: SeriesAnomaly[] = [];
  for (const [s, h] of hit) anomalies.push(anomaly(s, 8 + 20 * rng.next(), h.excess, T0 + (2 + h.hop) * STEP));
  for (let n = 0; n < services / 100; n++) anomalies.push(anomaly(rng.int(services), 6 + 10 * rng.next(), 5 + 20 * rng.next(), T0 + rng.int(8) * STEP));
  const alerts = [...hit.keys()].filter((s) => !callers[s]!.some((c) => hit.has(c))).map(name);
  const t = performance.now();
  const r = rankRootCauses({ topology, alerts, anomalies });
  times.push(performance.now() - t);
  if (r.causes[0]?.service === name(root)) hits++;

  // the same incident as the actor sees it: detector events, then raw series read for the plan
  const at = T0 + (k + 1) * 7 * 3_600_000; // incidents hours apart, each with its own past
  const events: AnomalyEvent[] = [...hit].map(([s, h]) => ({
    id: `an-${k}-${s}`, tenant: 'bench', service: name(s), metric: 'latency_ms', labels: {}, timestamp: at + h.hop * STEP,
    value: 10 + h.excess, expected: 10, score: 0.99, tier: 'agile', direction: 'up',
  }));
  core.onAnomalies(events);
  const inc: Incident = {
    id: `inc-${k}`, tenant: 'bench', status: 'open', title: 'bench', services: alerts, alertIds: alerts.map((a) => `al-${a}`),
    openedAt: at, updatedAt: Math.max(...events.map((e) => e.timestamp)), peakScore: 0.99,
  };
  const reads = core.plan(inc, topology);
  const read: ReadSeries[] = reads.map((rd) => {
    const h = hit.get(Number(rd.service.slice(4)));
    const samples: Array<[number, number]> = [];
    for (let ts = Math.ceil(rd.from / RAW_STEP) * RAW_STEP; ts <= rd.to; ts += RAW_STEP) {
      samples.push([ts, 10 + noise.normal() * 0.5 + (h && ts >= at + h.hop * STEP ? h.excess : 0)]);
    }
    return { read: rd, samples };
  });
  const ta = performance.now();
  core.plan(inc, topology);
  const ranked = core.explain(inc, topology, 'L0', read, 0);
  actorTimes.push(performance.now() - ta);
  if (ranked.causes[0]?.service === name(root)) actorHits++;
}
const quantiles = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => round(percentile(v, p * 100));
  return { p50_ms: q(0.5), p95_ms: q(0.95), p99_ms: q(0.99), max_ms: q(1) };
};
const share = (n: number): number => Math.round((n / incidents) * 1000) / 1000;
const synthetic = { services, edges, incidents, ...quantiles(times), top1: share(hits) };
const actor = { ...quantiles(actorTimes), top1: share(actorHits) };
console.log(`synthetic: ${services} services, ${edges} calls, ${incidents} incidents: RCA (L0) p50 ${synthetic.p50_ms} ms, p95 ${synthetic.p95_ms} ms, p99 ${synthetic.p99_ms} ms (target p99 <= 1000 ms); root first in ${synthetic.top1}`);
console.log(`  through the RCA actor's core (plan, judge <= 200 raw series, rank): p50 ${actor.p50_ms} ms, p95 ${actor.p95_ms} ms, p99 ${actor.p99_ms} ms; root first in ${actor.top1}`);
console.log(JSON.stringify({ petshop, synthetic: { ...synthetic, actor } }));
