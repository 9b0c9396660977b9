// Vigil node processes in cluster mode for the multi-process tests: started on a NATS of the
// test's own, stopped or killed by pid; each keeps its own data folder and ownership log. After
// the run every node's store is read back (store-census.ts, one child process per folder, the
// killed nodes' folders too) to count acknowledged samples against stored ones.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClusterLink, JetStreamIngestLog, KvSnapshotStore, type VigilConfig } from '../../cluster/index.ts';
import { startNodeProcess, testConfig, type TestNode } from './node-process.ts';
import { STEP_MS, type LoadTenant } from './cluster-load.ts';
import type { StoreCensus } from './store-census.ts';

const CENSUS = fileURLToPath(new URL('./store-census.ts', import.meta.url));
export const ADMIN_KEY = 'admin-key-0123456789';
export const SHARDS = 256;

export interface ClusterNode {
  id: string;
  url: string;
  dataDir: string;
  ownershipLog: string;
  process: TestNode;
  /** Date.now() when it was killed or stopped (its ownership ends there at the latest) */
  endedAt?: number;
}

async function stopNode(n: ClusterNode): Promise<void> {
  await n.process.stop();
  n.endedAt ??= Date.now();
}

export function loadTenants(n: number): LoadTenant[] {
  return Array.from({ length: n }, (_, i) => ({ id: `t${String(i).padStart(2, '0')}`, key: `key-t${String(i).padStart(2, '0')}-0123456789` }));
}

export class VigilCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-'));
  readonly nodes: ClusterNode[] = [];

  constructor(
    readonly name: string,
    readonly tenants: LoadTenant[],
    private readonly patch: (c: VigilConfig) => void = () => {},
    /** nodes log at level trace: each batch's append, reads, snapshots and acknowledgements (loss-detail.ts reads them) */
    private readonly options: { trace?: boolean } = {},
  ) {}

  live(): ClusterNode[] {
    return this.nodes.filter((n) => n.endedAt === undefined);
  }

  /** The latest node started under `id` (a restart reuses the id; the earlier ones stay in `nodes`). */
  node(id: string): ClusterNode {
    const n = [...this.nodes].reverse().find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  async start(id: string, natsUrl: string, env: Record<string, string> = {}): Promise<ClusterNode> {
    const ownershipLog = join(this.dir, `${id}.jsonl`);
    const config = testConfig(Object.fromEntries(this.tenants.map((t) => [t.id, t.key])), ADMIN_KEY, (c) => {
      c.node.id = id;
      c.cluster = { ...c.cluster, enabled: true, natsUrl, name: this.name, shards: SHARDS, ownershipLog };
      this.patch(c);
    });
    const proc = await startNodeProcess(config, this.options.trace ? { VIGIL_TEST_LOG: 'trace', ...env } : env);
    const node: ClusterNode = { id, url: proc.url, dataDir: config.node.dataDir, ownershipLog, process: proc };
    this.nodes.push(node);
    return node;
  }

  /** kill -9; returns when it was sent. */
  kill(id: string): number {
    const n = this.node(id);
    n.process.kill();
    n.endedAt = Date.now();
    return n.endedAt;
  }

  async stop(id: string): Promise<void> {
    await stopNode(this.node(id));
  }

  /** Stops every process started and not yet ended, each by its own pid (not by id: a restart reuses it). */
  async stopAll(): Promise<void> {
    await Promise.all(this.live().map(stopNode));
  }

  /**
   * Every started process's store, read back after it ended (stop or kill them first): the
   * latest process of each id under its id, an earlier one (restarted under the same id since)
   * under `id#k`, k its start number for that id from 1, so a killed incarnation's store counts too.
   */
  async census(): Promise<Map<string, StoreCensus>> {
    const out = new Map<string, StoreCensus>();
    const seen = new Map<string, number>();
    for (const n of this.nodes) {
      const k = (seen.get(n.id) ?? 0) + 1;
      seen.set(n.id, k);
      await n.process.stop(); // resolves at once for one already ended (a kill -9 included)
      out.set(n === this.node(n.id) ? n.id : `${n.id}#${k}`, await readCensus(n.dataDir));
    }
    return out;
  }

  /** Shards with two owners at once in the ownership logs (empty: none). */
  doubleOwned(): string[] {
    return doubleOwned(this.nodes.map((n) => n.ownershipLog), new Map(this.nodes.flatMap((n) => (n.endedAt === undefined ? [] : [[n.id, n.endedAt] as const]))));
  }

  /** The nodes' log lines, one line each (message and error), the last `n` of each (trace lines only with `trace`): for a failing test's output. */
  logs(n = 20, trace = false): string {
    return this.nodes.map((node) => {
      const text = node.process.stderr();
      const lines = (trace ? text : withoutTrace(text)).split('\n').filter((l) => l.trim() && !l.startsWith('{"loopLag')).map((l) => {
        try {
          const { msg, time, err, level: _l, pid: _p, hostname: _h, ...fields } = JSON.parse(l) as { msg?: string; time?: number; err?: { message?: string }; level?: number; pid?: number; hostname?: string };
          const more = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
          return `${new Date(time ?? 0).toISOString().slice(11, 23)} ${msg ?? ''} ${err?.message ?? ''}${more ? ` ${more}` : ''}`;
        } catch {
          return l;
        }
      });
      return `--- ${node.id} (${lines.length} lines)\n${lines.slice(-n).join('\n')}`;
    }).join('\n');
  }

  /** Every node's whole log into one file in the cluster's folder; returns its path. */
  saveLogs(): string {
    const file = join(this.dir, 'nodes.log');
    writeFileSync(file, this.logs(Number.MAX_SAFE_INTEGER, true));
    return file;
  }

  ownership(): Ownership[] {
    return readOwnership(this.nodes.map((n) => n.ownershipLog));
  }
}

/** A node's log without its trace lines (pino's level 10). */
export function withoutTrace(text: string): string {
  return text.split('\n').filter((l) => !l.startsWith('{"level":10,')).join('\n');
}

/**
 * Resolves once every shard's newest snapshot covers everything in its log (all processed and
 * stored). Right after a partition heals, JetStream answers "temporarily unavailable" while its
 * groups elect leaders again: a failed look is taken again until the timeout, and the last
 * failure is what the timeout reports.
 */
export async function caughtUp(natsUrl: string, name: string, timeoutMs = 120_000): Promise<void> {
  const nc: NatsConnection = await connect({ servers: natsUrl.split(',') });
  try {
    const until = Date.now() + timeoutMs;
    let log: JetStreamIngestLog | undefined;
    let snapshots: KvSnapshotStore | undefined;
    let behind: number[] = [];
    let unanswered: unknown;
    while (Date.now() < until) {
      try {
        log ??= await JetStreamIngestLog.open({ connection: nc, stream: `${name.toUpperCase().replace(/-/g, '_')}_INGEST`, subjectPrefix: `${name}.metrics`, shards: SHARDS });
        snapshots ??= await KvSnapshotStore.open(nc, name);
        behind = [];
        for (let s = 0; s < SHARDS; s++) {
          const last = await log.lastPosition(s);
          if (last === 0) continue; // acknowledged (purged) up to its end
          const snap = await snapshots.latest(s);
          if ((snap?.snapshot.logPosition ?? 0) < last) behind.push(s);
        }
        unanswered = undefined;
        if (behind.length === 0) return;
      } catch (err) {
        unanswered = err;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    if (unanswered !== undefined || log === undefined || snapshots === undefined) {
      throw new Error(`JetStream did not answer within ${timeoutMs} ms: ${String(unanswered)}`, { cause: unanswered });
    }
    const owners = await (await ClusterLink.bind(nc, name)).owners().catch(() => new Map<number, { node: string }>());
    const detail = await Promise.all(behind.slice(0, 10).map(async (s) => {
      const snap = (await snapshots.latest(s))?.snapshot;
      return `${s}: log at ${await log.lastPosition(s)}, snapshot at ${snap?.logPosition ?? 'none'} by ${snap?.node ?? '-'}, owner ${owners.get(s)?.node ?? 'none'}`;
    }));
    throw new Error(`shards still behind after ${timeoutMs} ms: ${detail.join('; ')}`);
  } finally {
    await nc.close();
  }
}

async function readCensus(dataDir: string): Promise<StoreCensus> {
  const child = spawn(process.execPath, ['--import', 'tsx', CENSUS, dataDir, String(STEP_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`store census of ${dataDir} failed (${code}): ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as StoreCensus;
}

export interface LossReport {
  acked: number;
  /** distinct samples stored over every node */
  stored: number;
  /** acknowledged samples found in no node's store */
  lost: number;
  lostBySeries: Record<string, number>;
  /** per series with a loss: the missing timestamps, as [first, last] ranges */
  gaps: Record<string, Array<[number, number]>>;
  /** series whose samples a node's store holds more than once (rows or rollup counts) */
  doubled: string[];
}

/** Acknowledged (a prefix of each series, from the load) against what the stores hold. */
export function lossReport(acked: Map<string, number>, startTs: number, stores: Iterable<StoreCensus>): LossReport {
  const list = [...stores];
  const report: LossReport = { acked: 0, stored: 0, lost: 0, lostBySeries: {}, gaps: {}, doubled: [] };
  const keys = new Set<string>([...acked.keys(), ...list.flatMap((c) => Object.keys(c.series))]);
  for (const key of keys) {
    const n = acked.get(key) ?? 0;
    report.acked += n;
    const runs = mergeRuns(list.flatMap((c) => c.series[key]?.runs ?? []));
    report.stored += runs.reduce((a, [f, t]) => a + (t - f) / STEP_MS + 1, 0);
    if (n > 0) {
      const last = startTs + (n - 1) * STEP_MS;
      let covered = 0;
      for (const [f, t] of runs) {
        const lo = Math.max(f, startTs);
        const hi = Math.min(t, last);
        if (hi >= lo) covered += (hi - lo) / STEP_MS + 1;
      }
      if (covered < n) {
        report.lost += n - covered;
        report.lostBySeries[key] = n - covered;
        report.gaps[key] = missing(runs, startTs, last);
      }
    }
    for (const c of list) {
      const s = c.series[key];
      if (s && (s.rows > s.distinct || s.rollupCount > s.distinct)) report.doubled.push(`${key}: rows ${s.rows}, distinct ${s.distinct}, rollup ${s.rollupCount}`);
    }
  }
  return report;
}

/** The ranges of [from, to] (STEP_MS apart) that no run covers. */
function missing(runs: Array<[number, number]>, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = from;
  for (const [f, t] of runs) {
    if (t < next) continue;
    if (f > to) break;
    if (f > next) out.push([next, Math.min(f - STEP_MS, to)]);
    next = t + STEP_MS;
  }
  if (next <= to) out.push([next, to]);
  return out;
}

function mergeRuns(runs: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...runs].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [f, t] of sorted) {
    const last = out.at(-1);
    if (last && f <= last[1] + STEP_MS) last[1] = Math.max(last[1], t);
    else out.push([f, t]);
  }
  return out;
}

/** What a client could see twice: an anomaly or alert stored twice in one node's store, or one alert in two incidents (over every store). */
export function seenTwice(stores: ReadonlyMap<string, StoreCensus>): string[] {
  const out: string[] = [];
  const incidentOfAlert = new Map<string, string>();
  for (const [node, c] of stores) {
    for (const a of c.anomalies) if (a.rows > 1) out.push(`${node}: anomaly ${a.id} stored ${a.rows} times`);
    for (const a of c.alerts) if (a.rows > 1) out.push(`${node}: alert ${a.id} stored ${a.rows} times`);
    for (const i of c.incidents) {
      for (const a of i.alertIds) {
        const other = incidentOfAlert.get(a);
        if (other !== undefined && other !== i.id) out.push(`alert ${a} is in incidents ${other} and ${i.id}`);
        incidentOfAlert.set(a, i.id);
      }
    }
  }
  return out;
}

export interface Ownership { at: number; until: number; node: string; event: 'acquired' | 'released' | 'lost'; shard: number; token: number }

export function readOwnership(logs: string[]): Ownership[] {
  return logs.filter(existsSync)
    .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ownership))
    .sort((a, b) => a.at - b.at);
}

/** Intervals of ownership per shard from every node's log; a killed node's open ones end at its kill. */
export function doubleOwned(logs: string[], endedAt: Map<string, number>): string[] {
  const spans = new Map<number, Array<{ node: string; from: number; to: number }>>();
  const open = new Map<string, number>();
  for (const e of readOwnership(logs)) {
    const k = `${e.node}/${e.shard}`;
    if (e.event === 'acquired') open.set(k, e.at);
    else if (open.has(k)) {
      spans.set(e.shard, [...(spans.get(e.shard) ?? []), { node: e.node, from: open.get(k)!, to: e.until }]);
      open.delete(k);
    }
  }
  for (const [k, from] of open) {
    const [node, shard] = k.split('/') as [string, string];
    spans.set(Number(shard), [...(spans.get(Number(shard)) ?? []), { node, from, to: endedAt.get(node) ?? Infinity }]);
  }
  const bad: string[] = [];
  for (const [shard, list] of spans) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) if (list[i]!.from < list[i - 1]!.to) bad.push(`shard ${shard}: ${list[i - 1]!.node} until ${list[i - 1]!.to}, ${list[i]!.node} from ${list[i]!.from}`);
  }
  return bad;
}
