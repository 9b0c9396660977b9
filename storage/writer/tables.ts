// The store's tables as batch-writer tables: how each item counts, is written and spilled.
import type { Alert, AnomalyEvent } from '../../protocols/index.ts';
import type { AsyncEventStore, AsyncSeriesStore, IncidentVersion, RcaVersion, SampleRun } from '../tsdb/index.ts';
import type { WriterTable } from './types.ts';

const json = <T>(line: string): T => JSON.parse(line) as T;

export function samplesTable(store: Pick<AsyncSeriesStore, 'writeSamples'>): WriterTable<SampleRun> {
  return {
    name: 'samples',
    rows: (r) => r.samples.length,
    tenant: (r) => r.tenant,
    write: (items, mode) => store.writeSamples(items, mode),
    encode: (r) => JSON.stringify({
      tenant: r.tenant, service: r.service, metric: r.metric, labels: r.labels, samples: r.samples, ...(r.scores ? { scores: r.scores } : {}),
    }),
    decode: (line) => {
      const run = json<SampleRun>(line);
      // JSON spells a non-finite number null: a verdict's nan (or infinite expectation) comes back as NaN
      if (run.scores) run.scores = run.scores.map(([t, s, e]) => [t, s ?? NaN, e ?? NaN] as const);
      return run;
    },
  };
}

export function anomaliesTable(store: Pick<AsyncEventStore, 'writeAnomalies'>): WriterTable<AnomalyEvent> {
  return {
    name: 'anomalies', rows: () => 1, tenant: (e) => e.tenant,
    write: (items, mode) => store.writeAnomalies(items, mode),
    encode: (e) => JSON.stringify(e), decode: json<AnomalyEvent>,
  };
}

export function alertsTable(store: Pick<AsyncEventStore, 'writeAlerts'>): WriterTable<Alert> {
  return {
    name: 'alerts', rows: () => 1, tenant: (a) => a.tenant,
    write: (items, mode) => store.writeAlerts(items, mode),
    encode: (a) => JSON.stringify(a), decode: json<Alert>,
  };
}

export function incidentsTable(store: Pick<AsyncEventStore, 'writeIncidents'>): WriterTable<IncidentVersion> {
  return {
    name: 'incidents', rows: () => 1, tenant: (v) => v.incident.tenant,
    write: (items, mode) => store.writeIncidents(items, mode),
    encode: (v) => JSON.stringify(v), decode: json<IncidentVersion>,
  };
}

export function rcaTable(store: Pick<AsyncEventStore, 'writeRca'>): WriterTable<RcaVersion> {
  return {
    name: 'rca', rows: () => 1, tenant: (v) => v.rca.tenant,
    write: (items, mode) => store.writeRca(items, mode),
    encode: (v) => JSON.stringify(v), decode: json<RcaVersion>,
  };
}
