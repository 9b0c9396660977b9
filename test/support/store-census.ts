// What one node's store holds, printed as one JSON line, for the cluster tests that count
// acknowledged samples across every node's store. A child process (chdb: one folder per
// process), run on a stopped (or killed) node's data folder:
//   tsx test/support/store-census.ts DATA_DIR [STEP_MS]
// Per series: rows as stored (count() without FINAL: a sample written twice shows), distinct
// timestamps as runs of STEP_MS (default 5), and the 1-minute rollup's sample count (a sample counted
// twice there is what a client would see in a stepped query). Anomalies and incidents by id.
import { join } from 'node:path';
import { TsdbStore } from '../../storage/tsdb/index.ts';

export interface SeriesCensus {
  rows: number;
  distinct: number;
  rollupCount: number;
  /** distinct timestamps, as [first, last] runs of consecutive multiples of the step */
  runs: Array<[number, number]>;
}

export interface StoreCensus {
  series: Record<string, SeriesCensus>;
  anomalies: Array<{ id: string; tenant: string; service: string; metric: string; ts: number; value: number; expected: number; rows: number }>;
  /** each incident's newest state: its alert ids */
  incidents: Array<{ id: string; tenant: string; status: string; alerts: number; alertIds: string[]; openedAt: number }>;
  /** alerts by id: rows stored (more than 1: written twice) and the incident it names */
  alerts: Array<{ id: string; tenant: string; incidentId: string; rows: number }>;
}

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: store-census.ts DATA_DIR [STEP_MS]');
const STEP_MS = Number(process.argv[3] ?? 5);
const tsdb = await TsdbStore.open({ chdbPath: join(dataDir, 'tsdb') });
const db = tsdb.sql.db;
const series: Record<string, SeriesCensus> = {};
const rows = await tsdb.sql.rows<{ tenant: string; service: string; metric: string; rows: string; distinct: string; stamps: string[] }>(
  `SELECT tenant, service, metric, count() AS rows, uniqExact(ts) AS distinct, arraySort(groupUniqArray(ts)) AS stamps
   FROM ${db}.samples GROUP BY tenant, service, metric`);
for (const r of rows) {
  const runs: Array<[number, number]> = [];
  for (const t of r.stamps.map(Number)) {
    const last = runs.at(-1);
    if (last && t === last[1] + STEP_MS) last[1] = t;
    else runs.push([t, t]);
  }
  series[`${r.tenant}/${r.service}/${r.metric}`] = { rows: Number(r.rows), distinct: Number(r.distinct), rollupCount: 0, runs };
}
// Every minute rolled first, so a row the rollups counted twice (or not at all) shows.
await tsdb.rollUp(Number.MAX_SAFE_INTEGER);
const rolled = await tsdb.sql.rows<{ tenant: string; service: string; metric: string; n: string }>(
  `SELECT tenant, service, metric, sum(v_count) AS n FROM ${db}.samples_1m GROUP BY tenant, service, metric`);
for (const r of rolled) {
  const s = series[`${r.tenant}/${r.service}/${r.metric}`];
  if (s) s.rollupCount = Number(r.n);
}
const anomalies = (await tsdb.sql.rows<{ id: string; tenant: string; service: string; metric: string; ts: string; value: number; expected: number; rows: string }>(
  `SELECT id, any(tenant) AS tenant, any(service) AS service, any(metric) AS metric, any(ts) AS ts, any(value) AS value, any(expected) AS expected, count() AS rows
   FROM ${db}.anomalies GROUP BY id ORDER BY ts`))
  .map((a) => ({ ...a, ts: Number(a.ts), value: Number(a.value), expected: Number(a.expected), rows: Number(a.rows) }));
const incidents = (await tsdb.sql.rows<{ id: string; tenant: string; status: string; alert_ids: string[]; opened_at: string }>(
  `SELECT id, any(tenant) AS tenant, argMax(status, version) AS status, argMax(alert_ids, version) AS alert_ids, min(opened_at) AS opened_at
   FROM ${db}.incident_events GROUP BY id`))
  .map((i) => ({ id: i.id, tenant: i.tenant, status: i.status, alerts: i.alert_ids.length, alertIds: i.alert_ids, openedAt: Number(i.opened_at) }));
const alerts = (await tsdb.sql.rows<{ id: string; tenant: string; incident_id: string; rows: string }>(
  `SELECT id, any(tenant) AS tenant, any(incident_id) AS incident_id, count() AS rows FROM ${db}.alerts GROUP BY id`))
  .map((a) => ({ id: a.id, tenant: a.tenant, incidentId: a.incident_id, rows: Number(a.rows) }));
await tsdb.close();
const out: StoreCensus = { series, anomalies, incidents, alerts };
process.stdout.write(`${JSON.stringify(out)}\n`);
