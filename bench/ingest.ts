// bench:ingest — posts protobuf MetricBatches to a node for a bounded time and reports
// accepted samples/s and request latency percentiles.
//
//   npm run bench:ingest -- [--url U --api-key K] [--seconds N] [--concurrency C]
//                           [--batch SERIES] [--samples PER_SERIES] [--rate SAMPLES_PER_S]
//                           [--format protobuf|json] [--warmup SECONDS] [--json]
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
// The last stdout line is JSON: samples_per_s, p50_ms, p95_ms, p99_ms and the run's shape.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashKey } from '../api/index.ts';
import { wire } from '../protocols/index.ts';

const BENCH_KEY = 'bench-key';
const BENCH_TENANT = 'bench';
const SERIES_GROUPS = 64;
const STEP_MS = 1000;

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    'api-key': { type: 'string' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '50' },
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

/**
 * Starts `vigil start` (cli/main.ts) in a child process with a temporary config holding
 * one bench tenant; its URL comes from the node's "vigil node ready" log line.
 */
async function spawnNode(): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  const file = join(dir, 'vigil.yaml');
  await writeFile(file, [
    `node: { id: bench, dataDir: ${JSON.stringify(join(dir, 'data'))} }`,
    'http: { host: 127.0.0.1, port: 0 }',
    'tenants:',
    `  - { id: ${BENCH_TENANT}, keyHashes: [${hashKey(BENCH_KEY)}] }`,
    'log: { level: info }', // the ingest path logs nothing per request at info
    '',
  ].join('\n'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('..', import.meta.url)), // where tsx resolves
    env: { ...process.env, VIGIL_DEMO_API_KEY: '', VIGIL_ADMIN_API_KEY: '', VIGIL_CONFIG: '' },
  });
  const lines = createInterface({ input: child.stdout! }); // keeps draining the node's log
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; level?: number };
        if (entry.msg === 'vigil node ready' && entry.url) resolve(entry.url);
        else if ((entry.level ?? 0) >= 40) process.stderr.write(`node: ${line}\n`);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`bench node exited early (${code})`)));
  });
  return { url, child, dir };
}

interface WireSeries {
  service: string;
  metric: string;
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/** Builds request bodies: group g's series advance by `samples` steps per request. */
class BatchMaker {
  private readonly clocks: number[];
  private readonly wave: number[];
  private next = 0;

  constructor(private readonly series: number, private readonly samples: number, start: number, private readonly json: boolean) {
    this.clocks = new Array<number>(SERIES_GROUPS).fill(start);
    // A noisy daily-ish wave, precomputed once: values cost nothing per request.
    this.wave = Array.from({ length: 4096 }, (_, i) => 100 + 20 * Math.sin(i / 50) + ((i * 7919) % 13) - 6);
  }

  body(): Uint8Array {
    const series = this.build();
    if (!this.json) return wire.MetricBatch.encode({ tenant: '', series }).finish();
    const samples = (s: WireSeries) => s.timestamps.map((t, i) => [t, s.values[i]]);
    return Buffer.from(JSON.stringify({ series: series.map((s) => ({ service: s.service, metric: s.metric, labels: s.labels, samples: samples(s) })) }));
  }

  private build(): WireSeries[] {
    const g = this.next++ % SERIES_GROUPS;
    const t0 = this.clocks[g]!;
    this.clocks[g] = t0 + this.samples * STEP_MS;
    const timestamps = new Array<number>(this.samples);
    for (let i = 0; i < this.samples; i++) timestamps[i] = t0 + i * STEP_MS;
    const off = Math.floor(t0 / STEP_MS);
    const values = new Array<number>(this.samples);
    for (let i = 0; i < this.samples; i++) values[i] = this.wave[(off + i) % this.wave.length]!;
    const series = new Array<WireSeries>(this.series);
    for (let s = 0; s < this.series; s++) {
      series[s] = { service: `svc-${g}-${s % 10}`, metric: `m${Math.floor(s / 10)}`, labels: { host: `h${s}` }, timestamps, values };
    }
    return series;
  }
}

interface Tally {
  latencies: number[];
  statuses: Map<number, number>;
  accepted: number;
}

interface Outcome {
  status: number;
  ms: number;
  accepted: number;
}

/** `since`: the performance.now() the latency counts from (the scheduled send time). */
function post(agent: http.Agent, url: URL, key: string, body: Uint8Array, contentType: string, since: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': contentType, 'content-length': body.byteLength, authorization: `Bearer ${key}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - since;
        let accepted = 0;
        if (res.statusCode === 202) accepted = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accepted: number }).accepted;
        resolve({ status: res.statusCode ?? 0, ms, accepted });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function scrapeIngested(base: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(new URL('/metrics', base))).text();
    let sum = 0;
    for (const line of text.split('\n')) if (line.startsWith('vigil_samples_ingested_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  } catch {
    return undefined;
  }
}

async function run(): Promise<void> {
  const seconds = positiveInt('seconds', args.seconds);
  const concurrency = positiveInt('concurrency', args.concurrency);
  const seriesPerBatch = positiveInt('batch', args.batch);
  const samplesPerSeries = positiveInt('samples', args.samples);
  const warmup = Number(args.warmup);
  if (!(warmup >= 0)) {
    process.stderr.write('bench:ingest: --warmup must be a number of seconds >= 0\n');
    process.exit(2);
  }
  let node: ChildProcess | undefined;
  let dir: string | undefined;
  let base = args.url;
  let key = args['api-key'] ?? BENCH_KEY;
  if (!base) {
    const spawned = await spawnNode();
    ({ child: node, dir, url: base } = spawned);
    key = BENCH_KEY;
  }
  const url = new URL('/v1/metrics', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  // Three days back leaves room for hours of forward-moving data inside the default window.
  if (args.format !== 'protobuf' && args.format !== 'json') {
    process.stderr.write('bench:ingest: --format must be protobuf or json\n');
    process.exit(2);
  }
  const json = args.format === 'json';
  const contentType = json ? 'application/json' : 'application/x-protobuf';
  const maker = new BatchMaker(seriesPerBatch, samplesPerSeries, Date.now() - 3 * 24 * 3600_000, json);
  const ingestedBefore = await scrapeIngested(base);

  const rate = args.rate === undefined ? undefined : positiveInt('rate', args.rate);
  const intervalMs = rate === undefined ? 0 : ((seriesPerBatch * samplesPerSeries) / rate) * 1000;
  let acceptedAll = 0; // warm-up included, for the drain check

  /** Sends for `secs`; records into `tally`. Returns the elapsed seconds. */
  async function drive(secs: number, tally: Tally): Promise<number> {
    const started = performance.now();
    const deadline = started + secs * 1000;
    let slot = 0;
    async function worker(): Promise<void> {
      while (performance.now() < deadline) {
        let since = performance.now();
        if (rate !== undefined) {
          since = started + slot++ * intervalMs;
          if (since >= deadline) return;
          if (since > performance.now()) await new Promise((r) => setTimeout(r, since - performance.now()));
        }
        const out = await post(agent, url, key, maker.body(), contentType, since);
        tally.statuses.set(out.status, (tally.statuses.get(out.status) ?? 0) + 1);
        if (out.status === 202) {
          tally.accepted += out.accepted;
          acceptedAll += out.accepted;
          tally.latencies.push(out.ms);
        } else if (out.status === 503 || out.status === 429) {
          await new Promise((r) => setTimeout(r, 5));
        } else if (out.status === 401) {
          throw new Error('bench:ingest: the node refused the API key (401)');
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (performance.now() - started) / 1000;
  }

  const tally: Tally = { latencies: [], statuses: new Map(), accepted: 0 };
  try {
    // Warm-up: JIT, first ServiceActors spawned, sockets open; not counted.
    if (warmup > 0) await drive(warmup, { latencies: [], statuses: new Map(), accepted: 0 });
    const elapsed = await drive(seconds, tally);
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
    const result = {
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
      series_per_batch: seriesPerBatch,
      samples_per_series: samplesPerSeries,
      // samples the node's actors took in since the start, warm-up included (= accepted_all when none is lost)
      taken_in_samples: ingested !== undefined && ingestedBefore !== undefined ? ingested - ingestedBefore : null,
      accepted_all_samples: acceptedAll,
      drain_s: round(drainS),
      target: args.url ? base : 'child node',
    };
    if (!args.json) {
      process.stdout.write(
        `accepted ${result.samples_per_s.toLocaleString('en')} samples/s over ${result.seconds}s ` +
        `(${result.requests} requests, concurrency ${concurrency}, ${seriesPerBatch}×${samplesPerSeries} per batch)\n` +
        `latency ms: p50 ${result.p50_ms}  p95 ${result.p95_ms}  p99 ${result.p99_ms}  max ${result.max_ms}\n` +
        `statuses ${JSON.stringify(result.statuses)}; actors took in ${result.taken_in_samples} of ${acceptedAll} accepted samples ` +
        `(warm-up included; drain ${result.drain_s}s after the run)\n`,
      );
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    agent.destroy();
    if (node && node.exitCode === null) {
      node.kill('SIGTERM');
      await once(node, 'exit');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

await run();
