// Ingest log benchmark: appends/s and fsyncs/s with N concurrent writers, the embedded log with
// group commit and without it (one fsync per append), and JetStream (append = PubAck); then the
// time a restart takes to recover and replay the log, and the size and save/load time of a shard
// snapshot of many warm Agile series. A JSON line last.
//   npx tsx bench/ingest-log.ts [--seconds 2] [--writers 1,16,64] [--bytes 16384] [--no-jetstream] [--series 10000] [--replay-mb 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { DiskIngestLog, JetStreamIngestLog, type IngestLog } from '../cluster/ingest-log/index.ts';
import { SnapshotStore, SNAPSHOT_VERSION, type SnapshotEntry } from '../cluster/snapshots/index.ts';
import { createDetector } from '../actors/detection/index.ts';
import { createRng } from '../actors/runtime/index.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const SECONDS = Number(opt('seconds', '2'));
const WRITERS = opt('writers', '1,16,64').split(',').map(Number);
const BYTES = Number(opt('bytes', '16384'));
const JETSTREAM = !args.includes('--no-jetstream');
const SERIES = Number(opt('series', '10000'));
const REPLAY_MB = Number(opt('replay-mb', '50'));
const SHARDS = 64;

interface Run { writers: number; appends_per_s: number; fsyncs_per_s: number | null; appends_per_fsync: number | null; mb_per_s: number; p50_ms: number; p99_ms: number }

async function drive(log: IngestLog, writers: number, fsyncs: () => number): Promise<Run> {
  const payload = randomBytes(BYTES);
  const latencies: number[] = [];
  const f0 = fsyncs();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; performance.now() < end; i++) {
      const s = performance.now();
      await log.append((w + i) % SHARDS, payload, `w${w}-${i}`);
      latencies.push(performance.now() - s);
      n++;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const f = fsyncs() - f0;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
  return {
    writers, appends_per_s: Math.round(n / secs), fsyncs_per_s: f >= 0 ? Math.round(f / secs) : null,
    appends_per_fsync: f > 0 ? round(n / f) : null, mb_per_s: round((n * BYTES) / secs / 1e6), p50_ms: q(0.5), p99_ms: q(0.99),
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function show(label: string, r: Run): void {
  const fs = r.fsyncs_per_s === null ? '' : `, ${r.fsyncs_per_s} fsyncs/s (${r.appends_per_fsync} appends each)`;
  console.log(`${label.padEnd(18)} ${String(r.writers).padStart(3)} writers: ${r.appends_per_s} appends/s${fs}, ${r.mb_per_s} MB/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`);
}

async function disk(groupCommit: boolean): Promise<Run[]> {
  const out: Run[] = [];
  for (const writers of WRITERS) {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-log-'));
    const log = await DiskIngestLog.open(dir, { groupCommit });
    const r = await drive(log, writers, () => log.stats().fsyncs);
    await log.close();
    rmSync(dir, { recursive: true, force: true });
    show(groupCommit ? 'disk, group commit' : 'disk, fsync each', r);
    out.push(r);
  }
  return out;
}

async function jetstream(): Promise<Run[] | string> {
  let nc;
  try {
    nc = await connect({ servers: '127.0.0.1:4222' });
  } catch {
    return 'skipped: no NATS at 127.0.0.1:4222';
  }
  const run = randomBytes(4).toString('hex');
  const stream = `VIGIL_BENCH_LOG_${run}`;
  const out: Run[] = [];
  try {
    const log = await JetStreamIngestLog.open({ connection: nc, stream, subjectPrefix: `b${run}.metrics`, shards: SHARDS });
    for (const writers of WRITERS) {
      const r = await drive(log, writers, () => -1);
      r.fsyncs_per_s = null;
      show('jetstream', r);
      out.push(r);
    }
    await log.close();
  } finally {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
  return out;
}

/** A restart: open (recovery reads every retained segment), then every shard replays from 0 at once. */
async function replay(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-replay-'));
  const perShard = Math.max(1, Math.round((REPLAY_MB * 1e6) / BYTES / SHARDS));
  let log = await DiskIngestLog.open(dir);
  const payload = randomBytes(BYTES);
  await Promise.all(Array.from({ length: SHARDS }, async (_, s) => {
    for (let i = 0; i < perShard; i++) await log.append(s, payload, `r${s}-${i}`);
  }));
  await log.close();
  const t0 = performance.now();
  log = await DiskIngestLog.open(dir);
  const t1 = performance.now();
  let bytes = 0;
  await Promise.all(Array.from({ length: SHARDS }, async (_, s) => {
    let n = 0;
    for await (const r of log.read(s, 0)) {
      bytes += r.bytes.byteLength;
      if (++n === perShard) break;
    }
  }));
  const t2 = performance.now();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  const r = { mb: round(bytes / 1e6), open_ms: round(t1 - t0), replay_ms: round(t2 - t1), replay_mb_per_s: round(bytes / 1e6 / ((t2 - t1) / 1000)) };
  console.log(`restart: open (recovery) of ${r.mb} MB in ${r.open_ms} ms, then ${SHARDS} shards replayed at once in ${r.replay_ms} ms (${r.replay_mb_per_s} MB/s)`);
  return r;
}

async function snapshot(): Promise<Record<string, number>> {
  // one Agile series warmed on 3 days of minutely data; its state cloned for every series
  const det = createDetector('agile');
  const rng = createRng('bench-snapshot');
  for (let i = 0; i < 3 * 1440; i++) det.update(i * 60_000, 100 + 30 * Math.sin((2 * Math.PI * i) / 1440) + 3 * rng.normal());
  const state = det.snapshot();
  const entries: SnapshotEntry[] = Array.from({ length: SERIES }, (_, i) => ({
    tenant: `t${i % 10}`, service: `svc${i % 100}`, seriesKey: `latency_ms{host="h${i}"}`, metric: 'latency_ms', labels: { host: `h${i}` },
    since: 0, quietUntil: 86_400_000, detector: state,
  }));
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-snap-'));
  const store = new SnapshotStore(dir);
  const t0 = performance.now();
  const saved = await store.save({ version: SNAPSHOT_VERSION, shard: 0, logPosition: 1, takenAt: 0, node: 'bench', fencingToken: 0, entries });
  const t1 = performance.now();
  const loaded = await store.latest(0);
  const t2 = performance.now();
  const { size } = await import('node:fs').then((fs) => fs.statSync(saved.file));
  rmSync(dir, { recursive: true, force: true });
  const r = {
    series: SERIES, bytes: size, bytes_per_series: Math.round(size / SERIES), json_bytes_per_series: Buffer.byteLength(JSON.stringify(entries[0])),
    save_ms: round(t1 - t0), load_ms: round(t2 - t1),
  };
  if (loaded?.snapshot.entries.length !== SERIES) throw new Error('snapshot did not read back whole');
  console.log(`snapshot of ${SERIES} warm Agile series: ${(size / 1e6).toFixed(2)} MB (${r.bytes_per_series} B/series; JSON ${r.json_bytes_per_series}), save ${r.save_ms} ms, load ${r.load_ms} ms`);
  return r;
}

console.log(`ingest log bench: ${BYTES}-byte batches over ${SHARDS} shards, ${SECONDS} s per run, temp folder ${tmpdir()}`);
const grouped = await disk(true);
const single = await disk(false);
const js = JETSTREAM ? await jetstream() : 'skipped (--no-jetstream)';
if (typeof js === 'string') console.log(`jetstream: ${js}`);
const restart = await replay();
const snap = await snapshot();
console.log(JSON.stringify({ bench: 'ingest-log', batch_bytes: BYTES, seconds: SECONDS, group_commit: grouped, fsync_each: single, jetstream: js, restart, snapshot: snap }));
