// npm run bench:detect [-- --tier basic|agile|robust] [--series N] [--json] [--million] [--no-model]
// Throughput of each tier on one core, the way production feeds it: N series (10,000 by
// default) interleaved, one sample of each in turn, values taken from the real NAB series.
// Reports steady-state points/s (after each series is past its warm-up) and the bytes of
// state per series (JS heap plus typed-array stores, measured after GC). Each tier runs in
// its own process so the JIT sees one tier only.
// --million: one million Basic series in a heap capped at 2 GB (proves the memory goal).
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createDetector, enableRobustModel, innerDetector, type Detector, type RobustDetector, type TrainingQueue } from '../actors/detection/index.ts';
import { TIERS, type Tier } from '../protocols/types.ts';
import { loadNabCorpus } from './nab/index.ts';
import { flagValue as arg } from './args.ts';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap plus typed-array backing stores (which V8 keeps outside the heap). */
function heapAfterGc(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Source {
  values: Float64Array[];
  steps: number[];
}

async function loadSource(): Promise<Source> {
  const corpus = await loadNabCorpus(resolve(arg('--data') ?? resolve(here, '../../shared/data/nab')));
  return {
    values: corpus.files.map((f) => Float64Array.from(f.values)),
    steps: corpus.files.map((f) => Math.max(1000, ((f.timestamps.at(-1) as number) - (f.timestamps[0] as number)) / (f.timestamps.length - 1))),
  };
}

/** Feeds `steps` rounds of one sample to every series; returns the points fed. */
function feed(detectors: Detector[], source: Source, from: number, steps: number): number {
  const n = detectors.length;
  const files = source.values.length;
  let sink = 0;
  for (let t = from; t < from + steps; t++) {
    for (let s = 0; s < n; s++) {
      const f = s % files;
      const values = source.values[f] as Float64Array;
      const k = (t + s * 37) % values.length;
      sink += (detectors[s] as Detector).update(1.4e12 + t * (source.steps[f] as number), values[k] as number);
    }
  }
  if (Number.isNaN(sink)) throw new Error('a detector returned NaN');
  return steps * n;
}

interface TierFigures {
  points_per_s: number;
  state_bytes: number;
  snapshot_bytes: number;
  warmup_points_per_s: number;
}

/** The Robust tier is measured as a node runs it: tfjs loaded, training queued and drained
 * between rounds on the same core (its time counts in the rates). --no-model: statistics only. */
async function robustModel(): Promise<TrainingQueue | undefined> {
  if (process.argv.includes('--no-model')) {
    console.log('robust: model off (--no-model), statistical scoring only (L1)');
    return undefined;
  }
  const ml = await enableRobustModel({ schedule: 'queued' });
  console.log(ml ? `robust: tfjs backend ${ml.backend}, queued batched training drained between rounds` : 'robust: tfjs unavailable, statistical only (L1)');
  return ml?.queue;
}

function drainAll(queue: TrainingQueue | undefined): void {
  while (queue !== undefined && queue.pending > 0) queue.drain();
}

async function measureTier(tier: Tier, series: number): Promise<TierFigures> {
  const source = await loadSource();
  const queue = tier === 'robust' ? await robustModel() : undefined;
  const before = heapAfterGc();
  const detectors = Array.from({ length: series }, () => createDetector(tier));
  // warm-up: past every tier's start-up phase (Agile and Robust choose their period after 3
  // days of 5-minute data, 3 weeks of 30-minute data: at most 1008 samples; Robust's first
  // model trainings, all 10,000 of them, fall in it at sample 512)
  const warmSteps = Number(arg('--warmup') ?? 1100);
  const warmCapMs = queue !== undefined ? 600_000 : 60_000;
  let t0 = performance.now();
  let step = 0;
  for (; step < warmSteps && performance.now() - t0 < warmCapMs; step += 10) {
    feed(detectors, source, step, 10);
    drainAll(queue);
  }
  const warmRate = (step * series) / ((performance.now() - t0) / 1000);
  const stateBytes = (heapAfterGc() - before) / series;
  t0 = performance.now();
  let points = 0;
  const budgetMs = Number(arg('--seconds') ?? 5) * 1000;
  while (performance.now() - t0 < budgetMs) {
    points += feed(detectors, source, step, 20);
    drainAll(queue);
    step += 20;
  }
  const rate = points / ((performance.now() - t0) / 1000);
  if (queue !== undefined) {
    const onModel = detectors.filter((d) => (innerDetector(d) as RobustDetector).degradation === 'L0').length;
    console.log(`robust: ${onModel.toLocaleString('en')} of ${series.toLocaleString('en')} series scoring on their model (L0) during the measurement`);
  }
  const snapshotBytes = Buffer.byteLength(JSON.stringify((detectors[0] as Detector).snapshot()));
  return { points_per_s: Math.round(rate), state_bytes: Math.round(stateBytes), snapshot_bytes: snapshotBytes, warmup_points_per_s: Math.round(warmRate) };
}

/** One million Basic series, each fed five hours of 5-minute samples, in this process's heap. */
async function million(): Promise<void> {
  const source = await loadSource();
  const before = heapAfterGc();
  const n = 1_000_000;
  const detectors: Detector[] = new Array(n);
  for (let i = 0; i < n; i++) detectors[i] = createDetector('basic');
  const t0 = performance.now();
  const points = feed(detectors, source, 0, 60);
  const seconds = (performance.now() - t0) / 1000;
  const heap = heapAfterGc();
  const limit = (await import('node:v8')).getHeapStatistics().heap_size_limit;
  console.log(
    `million basic series: heap ${(heap / 2 ** 20).toFixed(0)} MiB in use (${((heap - before) / n).toFixed(0)} B/series) under a ${(limit / 2 ** 20).toFixed(0)} MiB limit; ${points.toLocaleString('en')} points in ${seconds.toFixed(1)} s`,
  );
  console.log(JSON.stringify({ series: n, heap_bytes: heap, bytes_per_series: Math.round((heap - before) / n), heap_limit_bytes: limit }));
}

const json = process.argv.includes('--json');
if (process.argv.includes('--million')) {
  if (!process.argv.includes('--child')) {
    // re-run under a 2 GB heap cap: the goal is that the million fit in it
    execFileSync(process.execPath, [...process.execArgv, '--max-old-space-size=2048', self, ...process.argv.slice(2), '--child'], { stdio: 'inherit' });
  } else await million();
} else {
  const only = arg('--tier');
  if (only !== undefined && !TIERS.includes(only as Tier)) {
    console.error(`bench:detect: --tier must be one of ${TIERS.join(', ')}`);
    process.exit(2);
  }
  const series = Number(arg('--series') ?? 10_000);
  const results: Partial<Record<Tier, TierFigures>> = {};
  if (only !== undefined) results[only as Tier] = await measureTier(only as Tier, series);
  else {
    const pass = process.argv.slice(2).filter((a) => a !== '--json');
    for (const tier of TIERS) {
      const out = execFileSync(process.execPath, [...process.execArgv, self, ...pass, '--tier', tier, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const lines = out.trim().split('\n');
      // the child's notes (e.g. which tfjs backend loaded) before its table and JSON line
      for (const line of lines.slice(0, -1)) if (line.startsWith(`${tier}:`)) console.log(line);
      results[tier] = JSON.parse(lines.at(-1) as string)[tier] as TierFigures;
    }
  }
  console.log(`${'tier'.padEnd(8)}${'points/s'.padStart(14)}${'warm-up pts/s'.padStart(16)}${'state B/series'.padStart(16)}${'snapshot B'.padStart(12)}   (${series.toLocaleString('en')} series interleaved, one core)`);
  for (const [tier, r] of Object.entries(results)) {
    console.log(`${tier.padEnd(8)}${r.points_per_s.toLocaleString('en').padStart(14)}${r.warmup_points_per_s.toLocaleString('en').padStart(16)}${r.state_bytes.toLocaleString('en').padStart(16)}${r.snapshot_bytes.toLocaleString('en').padStart(12)}`);
  }
  if (json) console.log(JSON.stringify(results));
}
