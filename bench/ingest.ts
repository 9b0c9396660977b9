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
import http from 'node:http';
import { parseArgs } from 'node:util';
import { BatchMaker } from './ingest/batches.ts';
import { BENCH_KEY, spawnNode, type ChildNode } from './ingest/child-node.ts';
import { percentile, post, round, scrapeIngested } from './ingest/client.ts';

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

interface Tally {
  latencies: number[];
  statuses: Map<number, number>;
  accepted: number;
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
  if (args.format !== 'protobuf' && args.format !== 'json') {
    process.stderr.write('bench:ingest: --format must be protobuf or json\n');
    process.exit(2);
  }
  const rate = args.rate === undefined ? undefined : positiveInt('rate', args.rate);
  // Usage errors exit above, before a node is started.
  let node: ChildNode | undefined;
  let base = args.url;
  let key = args['api-key'] ?? BENCH_KEY;
  if (!base) {
    node = await spawnNode();
    base = node.url;
    key = BENCH_KEY;
  }
  const url = new URL('/v1/metrics', base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const json = args.format === 'json';
  const contentType = json ? 'application/json' : 'application/x-protobuf';
  // Three days back leaves room for hours of forward-moving data inside the default window.
  const maker = new BatchMaker(seriesPerBatch, samplesPerSeries, Date.now() - 3 * 24 * 3600_000, json);
  const ingestedBefore = await scrapeIngested(base);

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
    await node?.stop();
  }
}

await run();
