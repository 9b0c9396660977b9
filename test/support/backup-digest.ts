// Reads a data dir back through the real stores' faces and prints it as one JSON line: every
// series' raw samples (exact), its 1 m and 1 h rollups, scores, anomalies, alerts, incidents
// with their timelines, rows per table, topology, audit entries (and the chain's verdict),
// snapshots and the ingest log's records. A child process (chdb: one folder per process).
//   tsx test/support/backup-digest.ts DATA_DIR
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FileRunbooks } from '../../actors/automation/index.ts';
import { DiskIngestLog } from '../../cluster/ingest-log/index.ts';
import { SnapshotStore } from '../../cluster/snapshots/index.ts';
import { AUDIT_FILE, FileAuditLog } from '../../storage/audit/index.ts';
import type { AuditEntry } from '../../storage/audit/index.ts';
import { openGraphStore } from '../../storage/graph/index.ts';
import { TsdbStore } from '../../storage/tsdb/index.ts';
import { AUTOMATION_DIR } from '../../node/automation.ts';
import { FileSilenceStore } from '../../node/silences.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: backup-digest.ts DATA_DIR');
const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex');
const FAR = { from: 0, to: 8_000_000_000_000 };

const tsdb = await TsdbStore.open({ chdbPath: join(dataDir, 'tsdb') });
const keys = await tsdb.sql.rows<{ tenant: string; service: string; metric: string; labels: string }>(
  `SELECT DISTINCT tenant, service, metric, labels FROM ${tsdb.sql.db}.samples ORDER BY tenant, service, metric, labels`);
const series: Record<string, unknown> = {};
const tenants = new Set<string>();
for (const k of keys) {
  tenants.add(k.tenant);
  const labels = Object.fromEntries([...k.labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  const q = { service: k.service, metric: k.metric, labels, ...FAR };
  const raw = await tsdb.series(k.tenant, q);
  const m1 = await tsdb.series(k.tenant, { ...q, step: 60_000 });
  const h1 = await tsdb.series(k.tenant, { ...q, step: 3_600_000 });
  const scores = await tsdb.scores(k.tenant, q);
  series[`${k.tenant}/${k.service}/${k.metric}/${k.labels}`] = {
    samples: raw.points.length, samplesSha: sha(raw.points), first: raw.points[0], last: raw.points.at(-1),
    rollup1m: { resolution: m1.resolution, buckets: m1.buckets?.length, sha: sha(m1.buckets ?? m1.points) },
    rollup1h: { resolution: h1.resolution, sha: sha(h1.buckets ?? h1.points) },
    scores,
  };
}
const rows: Record<string, number> = {};
for (const t of ['samples', 'scores', 'samples_1m', 'samples_1h', 'rollup_marks', 'anomalies', 'alerts', 'incident_events', 'incident_rca']) {
  rows[t] = Number((await tsdb.sql.rows<{ n: string }>(`SELECT count() AS n FROM ${tsdb.sql.db}.${t}`))[0]!.n);
}
// The late rows' views must be there, or rows older than the passes' marks would not reach the rollups.
const views = (await tsdb.sql.rows<{ name: string }>(
  `SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name`, { db: tsdb.sql.db })).map((r) => r.name);
const events: Record<string, unknown> = {};
for (const t of ['acme', 'globex']) {
  const incidents = (await tsdb.incidents(t, { limit: 1000 })).items;
  events[t] = {
    anomalies: (await tsdb.anomalies(t, { limit: 1000 })).items,
    alerts: (await tsdb.alerts(t, { limit: 1000 })).items,
    incidents,
    timelines: await Promise.all(incidents.map((i) => tsdb.incidentTimeline(t, i.id))),
    rca: await Promise.all(incidents.map((i) => tsdb.incidentRca(t, i.id))),
  };
}
await tsdb.close();

const graph = await openGraphStore({ dataDir });
const topology: Record<string, unknown> = {};
for (const t of ['acme', 'globex']) topology[t] = { topology: await graph.topology(t), dbNeighbours: await graph.neighbours(t, 'db') };
await graph.close();

const audit = await FileAuditLog.open({ path: join(dataDir, 'audit', AUDIT_FILE) });
const entries: AuditEntry[] = [];
for (let cursor: string | undefined, first = true; first || cursor; first = false) {
  const page = await audit.list(cursor ? { cursor, limit: 1000 } : { limit: 1000 });
  entries.push(...page.items);
  cursor = page.next;
}
const auditDigest = { entries: entries.reverse(), verify: await audit.verify() };
await audit.close();

const loaded = await new SnapshotStore(join(dataDir, 'snapshots')).loadAll();
const snapshots = [...loaded].sort(([a], [b]) => a - b).map(([shard, s]) => ({ shard, file: basename(s.file), logPosition: s.snapshot.logPosition }));

const log = await DiskIngestLog.open(join(dataDir, 'log'));
const logDigest: Record<string, unknown> = {};
for (const shard of [0, 3]) {
  const records: string[] = [];
  const last = log.last(shard);
  const stop = new AbortController();
  if (last > 0) {
    for await (const r of log.read(shard, 0, { signal: stop.signal })) {
      records.push(`${r.position}:${r.id}:${new TextDecoder().decode(r.bytes)}`);
      if (r.position >= last) break;
    }
  }
  stop.abort();
  logDigest[shard] = { acked: log.acked(shard), last, records };
}
await log.close();

// Silences, runbooks and runs as the node reads them (runs.jsonl read as it is: RunStore.open compacts it).
const silenceStore = new FileSilenceStore(dataDir);
const runbookStore = await FileRunbooks.open(join(dataDir, AUTOMATION_DIR, 'runbooks'));
const config: Record<string, unknown> = {};
for (const t of ['acme', 'globex']) {
  config[t] = { silences: silenceStore.load(t), runbooks: runbookStore.list(t).map((r) => ({ id: r.id, version: r.version, source: r.source })) };
}
config.runs = await readFile(join(dataDir, AUTOMATION_DIR, 'runs.jsonl'), 'utf8').then((text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown), () => []);

process.stdout.write(`${JSON.stringify({ series, rows, views, events, topology, audit: auditDigest, snapshots, log: logDigest, config })}\n`);
