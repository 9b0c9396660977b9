// One batch writer per table of the tsdb store, with one back-pressure figure per tenant.
import { join } from 'node:path';
import type { Alert, AnomalyEvent, Incident, IncidentRca } from '../../protocols/index.ts';
import type { AsyncEventStore, AsyncSeriesStore, IncidentVersion, RcaVersion, SampleRun } from '../tsdb/index.ts';
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { alertsTable, anomaliesTable, incidentsTable, rcaTable, samplesTable } from './tables.ts';
import type { WriterStats } from './types.ts';

export interface StoreWritersOptions extends Omit<BatchWriterOptions, 'spillDir'> {
  /** the spill's root (e.g. <dataDir>/spill); each table gets a folder in it */
  spillDir: string;
  /** events are few: smaller batches and a shorter wait than samples */
  eventBatchRows?: number;
  eventFlushIntervalMs?: number;
}

export const DEFAULT_EVENT_BATCH_ROWS = 5_000;
export const DEFAULT_EVENT_FLUSH_INTERVAL_MS = 200;

export class StoreWriters {
  /** samples, each with its detector verdict */
  readonly samples: BatchWriter<SampleRun>;
  readonly anomalies: BatchWriter<AnomalyEvent>;
  readonly alerts: BatchWriter<Alert>;
  readonly incidents: BatchWriter<IncidentVersion>;
  readonly rca: BatchWriter<RcaVersion>;

  constructor(private readonly store: AsyncSeriesStore & AsyncEventStore, opts: StoreWritersOptions) {
    const { spillDir, eventBatchRows, eventFlushIntervalMs, ...common } = opts;
    const events = {
      ...common,
      maxBatchRows: eventBatchRows ?? DEFAULT_EVENT_BATCH_ROWS,
      flushIntervalMs: eventFlushIntervalMs ?? DEFAULT_EVENT_FLUSH_INTERVAL_MS,
    };
    this.samples = new BatchWriter(samplesTable(store), { ...common, spillDir: join(spillDir, 'samples') });
    this.anomalies = new BatchWriter(anomaliesTable(store), { ...events, spillDir: join(spillDir, 'anomalies') });
    this.alerts = new BatchWriter(alertsTable(store), { ...events, spillDir: join(spillDir, 'alerts') });
    this.incidents = new BatchWriter(incidentsTable(store), { ...events, spillDir: join(spillDir, 'incidents') });
    this.rca = new BatchWriter(rcaTable(store), { ...events, spillDir: join(spillDir, 'rca') });
  }

  /** An incident state, versioned now (so a later state wins even if it is stored first). */
  putIncident(incident: Incident): Promise<void> {
    return this.incidents.write([{ incident: structuredClone(incident), version: this.store.nextIncidentVersion() }]);
  }

  /** An incident's root-cause ranking, versioned now (the newest ranking wins). */
  putRca(rca: IncidentRca): Promise<void> {
    return this.rca.write([{ rca: structuredClone(rca), version: this.store.nextIncidentVersion() }]);
  }

  private all(): Array<BatchWriter<never>> {
    return [this.samples, this.anomalies, this.alerts, this.incidents, this.rca] as unknown as Array<BatchWriter<never>>;
  }

  /** Rows of a tenant not yet stored, over every table: the back-pressure signal. */
  depth(tenant: string): number {
    let n = 0;
    for (const w of this.all()) n += w.depth(tenant);
    return n;
  }

  stats(): Record<'samples' | 'anomalies' | 'alerts' | 'incidents', WriterStats> {
    return {
      samples: this.samples.stats(), anomalies: this.anomalies.stats(),
      alerts: this.alerts.stats(), incidents: this.incidents.stats(),
    };
  }

  async flush(): Promise<void> {
    await Promise.all(this.all().map((w) => w.flush()));
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((w) => w.close()));
  }
}
