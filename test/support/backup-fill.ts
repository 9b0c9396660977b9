// Fills a node's data dir through the real stores, for the backup tests and figures: a child
// process, because chdb binds one data folder per process.
//   tsx test/support/backup-fill.ts DATA_DIR [SAMPLES_PER_SERIES] [SERIES]
// Prints one JSON line: what it wrote.
import { join } from 'node:path';
import { FileRunbooks, RunStore, parseRunbookYaml } from '../../actors/automation/index.ts';
import { DiskIngestLog } from '../../cluster/ingest-log/index.ts';
import { SnapshotStore, SNAPSHOT_VERSION } from '../../cluster/snapshots/index.ts';
import { AUDIT_FILE, FileAuditLog } from '../../storage/audit/index.ts';
import { openGraphStore } from '../../storage/graph/index.ts';
import { TsdbStore } from '../../storage/tsdb/index.ts';
import { AUTOMATION_DIR } from '../../node/automation.ts';
import { FileSilenceStore } from '../../node/silences.ts';
import { labelsName, type Alert, type AnomalyEvent, type Incident, type IncidentRca } from '../../protocols/index.ts';
import type { RunbookRun } from '../../protocols/runbooks.ts';

const [dataDir, perSeriesArg, seriesArg] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: backup-fill.ts DATA_DIR [SAMPLES_PER_SERIES] [SERIES]');
const perSeries = Number(perSeriesArg ?? 2000);
const seriesCount = Number(seriesArg ?? 6);
const STEP_MS = 10_000;
// Recent enough that the raw TTL (7 days) keeps every row through the test.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - Math.ceil((perSeries * STEP_MS) / 3_600_000) * 3_600_000;
const TENANTS = ['acme', 'globex'];
const SERVICES = ['frontend', 'checkout', 'db'];

/** A value with full float precision, different per series and sample. */
const valueAt = (k: number, i: number): number => Math.sin(i * 0.013 + k) * 100 + ((i * 7919 + k * 104729) % 1000) / 7;

const tsdb = await TsdbStore.open({ chdbPath: join(dataDir, 'tsdb') });
let samples = 0;
const started = Date.now();
for (let k = 0; k < seriesCount; k++) {
  const tenant = TENANTS[k % TENANTS.length]!;
  const service = SERVICES[k % SERVICES.length]!;
  const metric = k % 2 === 0 ? 'latency_ms' : 'error_rate';
  const labels = { pod: `p${k}` };
  // Written in chunks, as the batch writers do: several parts per table, rollup rows per insert.
  for (let from = 0; from < perSeries; from += 5_000) {
    const chunk: Array<[number, number]> = [];
    for (let i = from; i < Math.min(perSeries, from + 5_000); i++) chunk.push([base + i * STEP_MS, valueAt(k, i)]);
    // the first two samples carry the detector's verdicts (score, expected) in their rows
    const scores = from === 0 ? [[base, 0.25 + k / 100, valueAt(k, 0)], [base + STEP_MS, 0.97, valueAt(k, 1)]] as const : undefined;
    await tsdb.writeSamples([{ tenant, service, metric, labels, samples: chunk, ...(scores ? { scores } : {}) }]);
    samples += chunk.length;
  }
  // and one verdict stored by a version before they moved into the samples' rows
  await tsdb.sql.insertJson('scores', [{ tenant, service, metric, labels: labelsName(labels), ts: base + 2 * STEP_MS, score: 0.5, expected: valueAt(k, 2), retain_days: 7 }]);
}
const anomaly: AnomalyEvent = {
  id: 'an_1', tenant: 'acme', timestamp: base + 60_000, service: 'db', metric: 'latency_ms', labels: { pod: 'p0' },
  value: 212.5, expected: 3.75, score: 0.999, tier: 'agile', direction: 'up',
};
await tsdb.writeAnomalies([anomaly, { ...anomaly, id: 'an_2', timestamp: base + 70_000, value: 180.25 }]);
const alert: Alert = {
  id: 'al_1', tenant: 'acme', timestamp: base + 60_000, service: 'db', metric: 'latency_ms', labels: { pod: 'p0' },
  score: 0.999, severity: 'critical', tier: 'agile', anomalyId: 'an_1', incidentId: 'inc_1',
};
await tsdb.writeAlerts([alert]);
const incident: Incident = {
  id: 'inc_1', tenant: 'acme', status: 'open', title: 'db: latency_ms anomalous (up)', services: ['db'], alertIds: ['al_1'],
  openedAt: base + 60_000, updatedAt: base + 60_000, peakScore: 0.999,
};
await tsdb.putIncident(incident);
await tsdb.putIncident({ ...incident, status: 'acknowledged', acknowledgedAt: base + 120_000, updatedAt: base + 120_000, services: ['db', 'checkout'] });
await tsdb.putIncident({ ...incident, id: 'inc_2', tenant: 'globex', title: 'frontend: error_rate anomalous (up)', services: ['frontend'], alertIds: [] });
// One root-cause ranking per incident (one row each: rankings of one incident fold onto the newest).
const rca: IncidentRca = {
  tenant: 'acme', incidentId: 'inc_1', level: 'L0', method: 'causal', computedAt: base + 121_000, alerts: ['db', 'checkout'], incidentUpdatedAt: base + 120_000,
  candidates: 2, causes: [{ service: 'db', rank: 1, score: 0.9, onAnomalousPath: true, evidence: [] }], evidence: { rawSeries: 1, eventSeries: 0 },
};
await tsdb.writeRca([{ rca, version: 2 }, { rca: { ...rca, tenant: 'globex', incidentId: 'inc_2', level: 'L1', method: 'correlation', alerts: ['frontend'] }, version: 3 }]);
await tsdb.close();
const tsdbMs = Date.now() - started;

const graph = await openGraphStore({ dataDir });
await graph.replaceTopology('acme', { services: [
  { name: 'frontend', dependsOn: ['checkout', 'catalog'] }, { name: 'checkout', dependsOn: ['db', 'payments'] }, { name: 'db', dependsOn: [] },
] });
await graph.upsertDependencies('globex', [{ from: 'frontend', to: 'db' }, { from: 'batch', to: 'db' }]);
await graph.close();

const audit = await FileAuditLog.open({ path: join(dataDir, 'audit', AUDIT_FILE) });
await audit.append({ tenant: 'acme', actor: 'admin', action: 'topology.replace', target: 'topology', before: null, after: { services: 3 } });
await audit.append({ tenant: 'acme', actor: 'key:3f2a', action: 'incident.ack', target: 'inc_1', before: { status: 'open' }, after: { status: 'acknowledged' } });
await audit.append({ tenant: null, actor: 'admin', action: 'config.change', target: 'detection.minAlertScore', before: 0.9, after: 0.85 });
await audit.close();

const snapshots = new SnapshotStore(join(dataDir, 'snapshots'));
for (const shard of [0, 3]) {
  for (const position of [4, 9]) {
    await snapshots.save({ version: SNAPSHOT_VERSION, shard, logPosition: position + shard, takenAt: base + position, node: 'node-b', fencingToken: 0, entries: [] });
  }
}

const log = await DiskIngestLog.open(join(dataDir, 'log'));
for (let i = 0; i < 12; i++) await log.append(i % 2 === 0 ? 0 : 3, new TextEncoder().encode(`batch ${i}`), `id-${i}`);
await log.ack(0, (await log.append(0, new TextEncoder().encode('last'), 'id-last')).position - 1);
await log.close();

// Configuration operators make through the API, kept in the data dir: silences, runbooks and their runs.
const silences = new FileSilenceStore(dataDir);
await silences.save('acme', [{
  id: 'b2f1c3d4-0000-4000-a000-000000000001', matchers: [{ name: 'service', value: 'db', isRegex: false, isEqual: true }],
  startsAt: base, endsAt: base + 86_400_000, createdBy: 'admin', comment: 'db maintenance', updatedAt: base,
}]);
const runbooks = await FileRunbooks.open(join(dataDir, AUTOMATION_DIR, 'runbooks'));
await runbooks.put(parseRunbookYaml('name: Wait a bit\ntrigger: { services: db }\nsteps:\n  - wait: 30s\n', { tenant: 'acme', id: 'wait-a-bit', source: 'backup-fill', now: base }));
const runs = await RunStore.open(join(dataDir, AUTOMATION_DIR));
const run: RunbookRun = {
  id: 'run_1', tenant: 'acme', runbookId: 'wait-a-bit', runbookVersion: 1, incidentId: 'inc_1', status: 'succeeded', dryRun: false,
  startedBy: 'trigger', level: 0, step: 1, steps: [{ id: 'step-1', kind: 'wait', status: 'succeeded', destructive: false }],
  createdAt: base + 60_000, updatedAt: base + 90_000, endedAt: base + 90_000,
};
runs.put(run);
await runs.flush();

process.stdout.write(`${JSON.stringify({ samples, series: seriesCount, base, tsdbMs })}\n`);
