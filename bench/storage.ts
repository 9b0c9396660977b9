// Storage benchmark: samples through the batch writers into chdb, then query latencies, then
// incident summaries read through storage/cache with Zipf-distributed ids. Last line: JSON.
//   npm run bench:storage -- [--json] [--series 1000] [--hours 6] [--queries 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SystemClock, createRng } from '../actors/runtime/index.ts';
import type { Incident } from '../protocols/index.ts';
import { TwoLevelCache, cacheKeys } from '../storage/cache/index.ts';
import { TsdbStore, type SampleRun } from '../storage/tsdb/index.ts';
import { BatchWriter, samplesTable } from '../storage/writer/index.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const JSON_ONLY = argv.includes('--json');
const SERIES = flag('series', 1_000);
const HOURS = flag('hours', 6);
const QUERIES = flag('queries', 200);
const STEP_MS = 10_000;
const SLICE_SAMPLES = 60; // ten minutes of one series per run
const SERVICES = 20;
const METRICS = 5;
const INCIDENTS = 2_000;
const CACHE_READS = 20_000;
const ZIPF_S = 1.1;
const L1_ENTRIES = 200;
const HOUR = 3_600_000;
const TENANT = 'bench';

const say = (line: string): void => {
  if (!JSON_ONLY) console.log(line);
};

function p99(ms: number[]): number {
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

function seriesKey(i: number): Pick<SampleRun, 'service' | 'metric' | 'labels'> {
  return { service: `svc${i % SERVICES}`, metric: `m${Math.floor(i / SERVICES) % METRICS}`, labels: { pod: `p${Math.floor(i / (SERVICES * METRICS))}` } };
}

/** Zipf ranks by inverse CDF over a precomputed table. */
function zipf(n: number, s: number, next: () => number): () => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = acc += 1 / Math.pow(k, s);
  return () => {
    const u = next() * acc;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-storage-'));
  const clock = new SystemClock();
  const rng = createRng(7);
  const store = await TsdbStore.open({ chdbPath: join(dir, 'chdb'), database: 'bench' });
  const end = Math.floor(Date.now() / HOUR) * HOUR;
  const start = end - HOURS * HOUR;
  try {
    // ---- insert through the batch writer ----
    const slices: SampleRun[][] = [];
    for (let t = start; t < end; t += SLICE_SAMPLES * STEP_MS) {
      const runs: SampleRun[] = [];
      for (let s = 0; s < SERIES; s++) {
        const samples: Array<[number, number]> = [];
        for (let j = 0; j < SLICE_SAMPLES; j++) samples.push([t + j * STEP_MS, 100 + 10 * Math.sin((t + j * STEP_MS) / HOUR + s) + rng.normal()]);
        runs.push({ tenant: TENANT, ...seriesKey(s), samples });
      }
      slices.push(runs);
    }
    const total = slices.length * SERIES * SLICE_SAMPLES;
    const writer = new BatchWriter(samplesTable(store), {
      clock, rng, spillDir: join(dir, 'spill'), maxBatchRows: 250_000, maxMemoryRows: 2_000_000, flushIntervalMs: 200,
    });
    const t0 = performance.now();
    const acks: Array<Promise<void>> = [];
    for (const runs of slices) for (let i = 0; i < runs.length; i += 100) acks.push(writer.write(runs.slice(i, i + 100)));
    await Promise.all(acks);
    const insertMs = performance.now() - t0;
    await writer.close();
    const insertRate = total / (insertMs / 1000);
    say(`insert: ${total.toLocaleString()} samples (${SERIES} series × ${HOURS} h at 10 s) through the batch writer in ${(insertMs / 1000).toFixed(2)} s = ${Math.round(insertRate).toLocaleString()} samples/s`);

    // ---- queries ----
    const seriesMs: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const k = seriesKey(rng.int(SERIES));
      const from = start + rng.int(Math.max(1, HOURS - 1)) * HOUR;
      const q0 = performance.now();
      const a = await store.series(TENANT, { ...k, from, to: from + HOUR - 1 });
      seriesMs.push(performance.now() - q0);
      if (a.points.length !== 360) throw new Error(`series query returned ${a.points.length} points, expected 360`);
    }
    say(`series query (1 h of one series, raw): p50 ${seriesMs.sort((a, b) => a - b)[seriesMs.length >> 1]!.toFixed(2)} ms, p99 ${p99(seriesMs).toFixed(2)} ms`);
    const rollupMs: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const k = seriesKey(rng.int(SERIES));
      const q0 = performance.now();
      const a = await store.series(TENANT, { service: k.service, metric: k.metric, from: end - 24 * HOUR, to: end - 1, step: 5 * 60_000 });
      rollupMs.push(performance.now() - q0);
      if (a.resolution !== '1m' || a.points.length === 0) throw new Error(`rollup query answered ${a.resolution} with ${a.points.length} points`);
    }
    say(`rollup query (24 h of a service's metric over its series, 5 min step from the 1 m rollup): p50 ${rollupMs.sort((a, b) => a - b)[rollupMs.length >> 1]!.toFixed(2)} ms, p99 ${p99(rollupMs).toFixed(2)} ms`);

    // ---- cache: incident summaries, Zipf reads through L1 (+ L2 Redis when it answers) ----
    const incidents: Incident[] = [];
    for (let i = 0; i < INCIDENTS; i++) {
      incidents.push({ id: `inc_${i}`, tenant: TENANT, status: 'open', title: `incident ${i}`, services: [`svc${i % SERVICES}`], alertIds: [], openedAt: start + i, updatedAt: start + i, peakScore: 0.5 });
    }
    await store.writeIncidents(incidents.map((incident) => ({ incident, version: store.nextIncidentVersion() })));
    const cache = new TwoLevelCache({
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: `vigil-bench-${process.pid}:`,
      log: pino({ level: 'silent' }), clock, l1MaxEntries: L1_ENTRIES,
    });
    const rank = zipf(INCIDENTS, ZIPF_S, () => rng.next());
    for (let i = 0; i < CACHE_READS; i++) {
      const id = `inc_${rank()}`;
      await cache.get(cacheKeys.incident(TENANT, id), () => store.incident(TENANT, id));
    }
    const counts = cache.stats().byKind.incident;
    const hits = counts.l1Hits + counts.l2Hits;
    const hitRatio = hits / CACHE_READS;
    say(`cache: ${CACHE_READS.toLocaleString()} Zipf(s=${ZIPF_S}) reads over ${INCIDENTS.toLocaleString()} incidents, L1 ${L1_ENTRIES} entries, L2 ${cache.stats().l2Up ? 'Redis' : 'down'}: L1 hits ${counts.l1Hits}, L2 hits ${counts.l2Hits}, loads ${counts.loads}, hit ratio ${hitRatio.toFixed(3)}`);
    await cache.close();

    console.log(JSON.stringify({
      insert_samples_per_s: Math.round(insertRate),
      series_query_p99_ms: Number(p99(seriesMs).toFixed(2)),
      rollup_query_p99_ms: Number(p99(rollupMs).toFixed(2)),
      cache_hit_ratio: Number(hitRatio.toFixed(4)),
      samples: total, series: SERIES, hours: HOURS, queries: QUERIES,
    }));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
