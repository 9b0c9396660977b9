// bench:ingest — posts protobuf MetricBatches (or JSON, or Prometheus remote-write
// requests) to a node for a bounded time and reports accepted samples/s and request
// latency percentiles.
//
//   npm run bench:ingest -- [--url U --api-key K] [--seconds N] [--concurrency C]
//                           [--batch SERIES] [--samples PER_SERIES] [--rate SAMPLES_PER_S]
//                           [--format protobuf|json|remote-write] [--series N]
//                           [--warmup SECONDS] [--profile] [--json]
//
// --format remote-write sends what Prometheus sends to POST /api/v1/write: --series
// (default 10,000) series split over --concurrency shards (default 4), one request in
// flight per shard, --batch one-sample TimeSeries per request (default 5,000), snappy
// compressed; a 503/429 is retried with the same body, as Prometheus does. --profile
// runs the child node under --cpu-prof and prints where its time went.
//
// Without --url it starts a node in a child process (`vigil start`), so the load
// generator never shares the node's event loop. Each request carries BATCH series
// × SAMPLES samples; series are spread over groups with their own clocks so timestamps
// only move forward and stay inside the node's accepted window. A 503 (node overloaded)
// counts as refused and the connection backs off briefly, as a real client would.
// Without --rate every connection sends as fast as the node answers (the node's ceiling;
// latency is then mostly queueing). With --rate the requests follow a fixed schedule and
// latency is measured from each request's scheduled time, so a stalled node shows up in
// the percentiles instead of silently lowering the offered load.
// Accepted is not stored: with a child node the bench stops it (SIGTERM: writers flushed),
// opens its chdb folder and counts the samples there (stored_samples, next to
// accepted_all_samples; stop_s is how long the stop took, flush included;
// stored_samples_per_s_floor divides them by the time from the first request to the stop's end).
// The last stdout line is JSON: samples_per_s, p50_ms, p95_ms, p99_ms, stored_samples and
// the run's shape.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchMaker } from './ingest/batches.ts';
import { BENCH_KEY, BENCH_TENANT, spawnNode, type ChildNode } from './ingest/child-node.ts';
import { mainThreadProfile, summarizeProfile, type ProfileSummary } from './ingest/profile.ts';
import { RemoteWriteMaker } from './ingest/remote-write.ts';
import { percentile, post, round, scrapeIngested } from './ingest/client.ts';
import { countStored, type StoredCount } from './ingest/stored.ts';
import { cpuTimes } from './ingest/proc-cpu.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    'api-key': { type: 'string' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string' },
    batch: { type: 'string' },
    series: { type: 'string', default: '10000' },
    profile: { type: 'boolean', default: false },
    samples: { type: 'string', default: '100' },
    rate: { type: 'string' },
    format: { type: 'string', default: 'protobuf' },
    warmup: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

function positiveInt(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:ingest: --${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
}

interface Tally {
  latencies: number[];
  statuses: Map<number, number>;
  accepted: number;
}

async function run(): Promise<void> {
  const seconds = positiveInt('seconds', args.seconds);
  const remoteWrite = args.format === 'remote-write';
  const concurrency = positiveInt('concurrency', args.concurrency ?? (remoteWrite ? '4' : '8'));
  // remote write: samples (one-sample TimeSeries) per request; else series per batch
  const seriesPerBatch = positiveInt('batch', args.batch ?? (remoteWrite ? '5000' : '50'));
  const seriesTotal = positiveInt('series', args.series);
  const samplesPerSeries = positiveInt('samples', args.samples);
  const warmup = Number(args.warmup);
  if (!(warmup >= 0)) {
    process.stderr.write('bench:ingest: --warmup must be a number of seconds >= 0\n');
    process.exit(2);
  }
  if (args.format !== 'protobuf' && args.format !== 'json' && !remoteWrite) {
    process.stderr.write('bench:ingest: --format must be protobuf, json or remote-write\n');
    process.exit(2);
  }
  const rate = args.rate === undefined ? undefined : positiveInt('rate', args.rate);
  // Usage errors exit above, before a node is started.
  let node: ChildNode | undefined;
  let base = args.url;
  let key = args['api-key'] ?? BENCH_KEY;
  const profileDir = args.profile && !base ? await mkdtemp(join(tmpdir(), 'vigil-bench-prof-')) : undefined;
  if (!base) {
    node = await spawnNode({ cpuProfileDir: profileDir });
    base = node.url;
    key = BENCH_KEY;
  }
  const url = new URL(remoteWrite ? '/api/v1/write' : '/v1/metrics', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const json = args.format === 'json';
  const headers: Record<string, string> = remoteWrite
    ? { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' }
    : { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  // Three days back leaves room for hours of forward-moving data inside the default window.
  const start = Date.now() - 3 * 24 * 3600_000;
  const batches = new BatchMaker(seriesPerBatch, samplesPerSeries, start, json);
  const shards = remoteWrite ? new RemoteWriteMaker({ series: seriesTotal, samplesPerRequest: seriesPerBatch, shards: concurrency, start }) : undefined;
  const nextBody = (worker: number): Uint8Array => shards ? shards.body(worker) : batches.body();
  const samplesPerRequest = remoteWrite ? seriesPerBatch : seriesPerBatch * samplesPerSeries;
  const ingestedBefore = await scrapeIngested(base);

  const intervalMs = rate === undefined ? 0 : (samplesPerRequest / rate) * 1000;
  let acceptedAll = 0; // warm-up included, for the drain check

  /** Sends for `secs`; records into `tally`. Returns the elapsed seconds. */
  async function drive(secs: number, tally: Tally): Promise<number> {
    const started = performance.now();
    const deadline = started + secs * 1000;
    let slot = 0;
    async function worker(w: number): Promise<void> {
      let retry: Uint8Array | undefined; // remote write resends a refused body, as Prometheus
      while (performance.now() < deadline) {
        let since = performance.now();
        if (rate !== undefined) {
          since = started + slot++ * intervalMs;
          if (since >= deadline) return;
          if (since > performance.now()) await new Promise((r) => setTimeout(r, since - performance.now()));
        }
        const body = retry ?? nextBody(w);
        retry = undefined;
        const out = await post(agent, url, key, body, headers, since);
        tally.statuses.set(out.status, (tally.statuses.get(out.status) ?? 0) + 1);
        if (out.status === 202 || out.status === 204) {
          tally.accepted += out.accepted;
          acceptedAll += out.accepted;
          tally.latencies.push(out.ms);
        } else if (out.status === 503 || out.status === 429) {
          if (remoteWrite) retry = body;
          await new Promise((r) => setTimeout(r, 5));
        } else if (out.status === 401) {
          throw new Error('bench:ingest: the node refused the API key (401)');
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    return (performance.now() - started) / 1000;
  }

  const tally: Tally = { latencies: [], statuses: new Map(), accepted: 0 };
  let result: Record<string, unknown>;
  let stored: { stored_samples: number | null; stored_series: number | null; stop_s: number } | undefined;
  try {
    // Warm-up: JIT, first ServiceActors spawned, sockets open; not counted.
    const warmupS = warmup > 0 ? await drive(warmup, { latencies: [], statuses: new Map(), accepted: 0 }) : 0;
    const cpuBefore = node ? await cpuTimes(node.pid) : undefined;
    const elapsed = await drive(seconds, tally);
    const cpuAfter = node ? await cpuTimes(node.pid) : undefined;
    const { latencies, statuses, accepted } = tally;
    // How far the node's actors got: samples taken in during the run and after it (drain).
    const drainStart = performance.now();
    let ingested = await scrapeIngested(base);
    while (ingestedBefore !== undefined && ingested !== undefined && ingested - ingestedBefore < acceptedAll && performance.now() - drainStart < 30_000) {
      await new Promise((r) => setTimeout(r, 100));
      ingested = await scrapeIngested(base);
    }
    const drainS = (performance.now() - drainStart) / 1000;
    latencies.sort((a, b) => a - b);
    const figures = {
      samples_per_s: Math.round(accepted / elapsed),
      p50_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      p99_ms: round(percentile(latencies, 99)),
      max_ms: round(latencies[latencies.length - 1] ?? 0),
      accepted_samples: accepted,
      requests: [...statuses.values()].reduce((a, b) => a + b, 0),
      statuses: Object.fromEntries(statuses),
      seconds: round(elapsed),
      warmup_s: warmup,
      concurrency,
      offered_rate: rate ?? null,
      format: args.format,
      ...(remoteWrite
        ? { series: seriesTotal, samples_per_request: seriesPerBatch }
        : { series_per_batch: seriesPerBatch, samples_per_series: samplesPerSeries }),
      // samples the node's actors took in since the start, warm-up included (= accepted_all when none is lost)
      taken_in_samples: ingested !== undefined && ingestedBefore !== undefined ? ingested - ingestedBefore : null,
      accepted_all_samples: acceptedAll,
      drain_s: round(drainS),
      // the node's own CPU during the measured seconds (a loaded machine moves wall rates more than these)
      node_cpu_s: cpuBefore && cpuAfter ? round(cpuAfter.process - cpuBefore.process) : null,
      node_main_thread_cpu_s: cpuBefore && cpuAfter ? round(cpuAfter.main - cpuBefore.main) : null,
      samples_per_main_cpu_s: cpuBefore && cpuAfter && cpuAfter.main > cpuBefore.main ? Math.round(accepted / (cpuAfter.main - cpuBefore.main)) : null,
      load_avg_1m: round(loadavg()[0]!),
      target: args.url ? base : 'child node',
    };
    agent.destroy();
    // Accepted is not stored: stop the node (its writers flush), then count what its chdb holds.
    if (node) stored = await storedBy(node);
    // a floor on the rate samples reached the store: all of them were stored by the end of the stop
    const sentS = warmupS + elapsed + drainS + (stored?.stop_s ?? 0);
    const storedRate = stored?.stored_samples != null ? { stored_samples_per_s_floor: Math.round(stored.stored_samples / sentS) } : {};
    result = { ...figures, ...stored, ...storedRate };
    if (!args.json) {
      const shape = remoteWrite ? `${seriesTotal} series, ${seriesPerBatch} samples per request` : `${seriesPerBatch}×${samplesPerSeries} per batch`;
      process.stdout.write(
        `accepted ${figures.samples_per_s.toLocaleString('en')} samples/s over ${figures.seconds}s ` +
        `(${figures.requests} requests, concurrency ${concurrency}, ${shape})\n` +
        `latency ms: p50 ${figures.p50_ms}  p95 ${figures.p95_ms}  p99 ${figures.p99_ms}  max ${figures.max_ms}\n` +
        `node CPU in the run: ${figures.node_cpu_s}s (main thread ${figures.node_main_thread_cpu_s}s: ` +
        `${figures.samples_per_main_cpu_s?.toLocaleString('en')} samples per main-thread CPU second); load average ${figures.load_avg_1m}\n` +
        `statuses ${JSON.stringify(figures.statuses)}; actors took in ${figures.taken_in_samples} of ${acceptedAll} accepted samples ` +
        `(warm-up included; drain ${figures.drain_s}s after the run)\n` +
        (stored ? `stored in chdb after a clean stop (${stored.stop_s}s): ${stored.stored_samples} samples of ${stored.stored_series} series ` +
          `(at least ${String(result.stored_samples_per_s_floor)} samples/s from the first request to the end of the stop)\n` : ''),
      );
    }
  } finally {
    agent.destroy();
    await node?.remove();
  }
  if (profileDir) {
    // the node wrote its profile on exit
    const file = await mainThreadProfile(profileDir);
    const summary: ProfileSummary | undefined = file ? await summarizeProfile(file) : undefined;
    if (summary && !args.json) {
      process.stdout.write(`node CPU profile (${summary.busy_ms} ms busy, whole run incl. start and drain), self time by part:\n`);
      for (const [part, pct] of Object.entries(summary.parts)) process.stdout.write(`  ${String(pct).padStart(5)}%  ${part}\n`);
      process.stdout.write('self time by stage of the ingest path (innermost stage on the stack):\n');
      for (const [stage, pct] of Object.entries(summary.stages)) process.stdout.write(`  ${String(pct).padStart(5)}%  ${stage}\n`);
      process.stdout.write('costliest functions (self time):\n');
      for (const f of summary.top) process.stdout.write(`  ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}\n`);
    }
    result.profile = summary ? { busy_ms: summary.busy_ms, parts: summary.parts, stages: summary.stages, top: summary.top.slice(0, 5) } : null;
    if (process.env.VIGIL_BENCH_KEEP_PROFILE && file) process.stderr.write(`bench:ingest: profile kept at ${file}\n`);
    else await rm(profileDir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Stops the child node (SIGTERM: it flushes its writers) and counts the samples its chdb holds. */
async function storedBy(node: ChildNode): Promise<{ stored_samples: number | null; stored_series: number | null; stop_s: number }> {
  const stopS = await node.stop();
  let count: StoredCount | undefined;
  try {
    count = await countStored(node.dataDir, BENCH_TENANT);
  } catch (err) {
    process.stderr.write(`bench:ingest: could not count the stored samples: ${(err as Error).message}\n`);
  }
  return { stored_samples: count?.samples ?? null, stored_series: count?.series ?? null, stop_s: round(stopS) };
}

await run();
