// The ClickHouse store: the async series and event faces over one engine (chdb or a server).
import type { Clock } from '../../actors/runtime/types.ts';
import { VigilError } from '../../protocols/index.ts';
import type { Alert, AnomalyEvent, Incident, IncidentRca, Page, SeriesKey, TimeRange } from '../../protocols/index.ts';
import type { EventFilter, IncidentFilter } from '../types.ts';
import { openEngine, type Engine, type EngineOptions } from './engine.ts';
import { EventTables } from './events.ts';
import { RcaTable } from './rca.ts';
import {
  DEFAULT_DATABASE, DEFAULT_RAW_RETENTION_DAYS, MAX_RETENTION_DAYS, checkDatabase, embeddedMergePolicy, schemaStatements,
} from './schema.ts';
import { ROLLUP_LAG_MS, Rollups, type RollupMarks, type RollupStatus } from './rollup.ts';
import { SeriesTables } from './series.ts';
import { Sql } from './sql.ts';
import type {
  AsyncEventStore, AsyncSeriesStore, IncidentVersion, RcaVersion, SampleRun, SeriesAnswer, SeriesQuery, WriteMode,
} from './types.ts';

export interface TsdbOptions extends EngineOptions {
  /** database (ClickHouse schema) the tables live in; tests use one each */
  database?: string;
  /** time source for incident versions (the node's injected Clock); default Date.now */
  clock?: Pick<Clock, 'now'>;
  /** raw samples' retention in days for tenants without their own (default 7) */
  rawRetentionDays?: number;
  /** per-tenant raw retention in days */
  tenantRetentionDays?: ReadonlyMap<string, number>;
}

const SYSTEM_TIME: Pick<Clock, 'now'> = { now: () => Date.now() };

export class TsdbStore implements AsyncSeriesStore, AsyncEventStore {
  private readonly retention: Map<string, number>;
  private readonly defaultRetention: number;
  private readonly seriesTables: SeriesTables;
  private readonly events: EventTables;
  private readonly rca: RcaTable;
  private lastVersion = 0;

  private constructor(
    private readonly engine: Engine,
    readonly sql: Sql,
    private readonly clock: Pick<Clock, 'now'>,
    opts: TsdbOptions,
    private readonly rollups: Rollups,
  ) {
    this.defaultRetention = checkRetention(opts.rawRetentionDays ?? DEFAULT_RAW_RETENTION_DAYS);
    this.retention = new Map([...(opts.tenantRetentionDays ?? new Map<string, number>())].map(([t, d]) => [t, checkRetention(d)]));
    this.seriesTables = new SeriesTables(sql, (tenant) => this.rawRetentionDays(tenant), rollups);
    this.events = new EventTables(sql);
    this.rca = new RcaTable(sql);
  }

  /** Opens the engine, creates the tables if missing and learns the newest incident version. */
  static async open(opts: TsdbOptions): Promise<TsdbStore> {
    const database = checkDatabase(opts.database ?? DEFAULT_DATABASE);
    const engine = openEngine(opts);
    const sql = new Sql(engine.client, database);
    const clock = opts.clock ?? SYSTEM_TIME;
    try {
      for (const stmt of schemaStatements(database, engine.kind)) await sql.command(stmt);
      if (engine.kind === 'chdb') for (const stmt of embeddedMergePolicy(database)) await sql.command(stmt);
      const now = (): number => clock.now();
      const rollups = engine.kind === 'chdb' ? await Rollups.open(sql, now) : Rollups.byViews(sql, now);
      const store = new TsdbStore(engine, sql, clock, opts, rollups);
      store.lastVersion = await store.events.maxIncidentVersion();
      return store;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  get kind(): Engine['kind'] {
    return this.engine.kind;
  }

  async close(): Promise<void> {
    await this.rollups.idle();
    await this.engine.close();
  }

  // ---- rollups (rollup.ts) ----

  /** How far the passes have rolled (Infinity on a server, whose views roll every insert). */
  get rolledUp(): Readonly<RollupMarks> {
    return this.rollups.rolled;
  }

  /** How far the minute rollup is behind the clock (0 on a server), and whether the last pass failed. */
  rollupStatus(): RollupStatus {
    return this.rollups.status();
  }

  /** Rolls every minute that ended by `until` (default: the pass lag ago) and the hours they close. */
  rollUp(until = this.clock.now() - ROLLUP_LAG_MS): Promise<RollupMarks> {
    return this.rollups.pass(until);
  }

  // ---- retention ----

  rawRetentionDays(tenant: string): number {
    return this.retention.get(tenant) ?? this.defaultRetention;
  }

  /**
   * Sets a tenant's raw retention for rows written from now on. With `rewrite`, the tenant's
   * stored rows take it too (an ALTER ... UPDATE mutation: heavy, for an operator's change).
   */
  async setRawRetention(tenant: string, days: number, opts: { rewrite?: boolean } = {}): Promise<void> {
    this.retention.set(tenant, checkRetention(days));
    if (!opts.rewrite) return;
    for (const table of ['samples', 'scores']) { // scores: verdicts stored before they moved into samples
      await this.sql.command(
        `ALTER TABLE ${this.sql.db}.${table} UPDATE retain_days = {days:UInt16} WHERE tenant = {tenant:String} SETTINGS mutations_sync = 1`,
        { tenant, days });
    }
  }

  // ---- series ----

  append(tenant: string, key: SeriesKey, samples: ReadonlyArray<readonly [number, number]>): Promise<void> {
    return this.writeSamples([{ tenant, service: key.service, metric: key.metric, labels: key.labels, samples }]);
  }

  writeSamples(runs: readonly SampleRun[], mode?: WriteMode): Promise<void> {
    return this.seriesTables.writeSamples(runs, mode);
  }

  async query(
    tenant: string, service: string, metric: string, range: TimeRange & { limit?: number; step?: number },
  ): Promise<Array<[number, number]>> {
    return (await this.series(tenant, { service, metric, ...range })).points;
  }

  series(tenant: string, q: SeriesQuery): Promise<SeriesAnswer> {
    return this.seriesTables.series(tenant, q);
  }

  scores(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number]>> {
    return this.seriesTables.scores(tenant, q);
  }

  /** Samples that have a detector score, newest `limit`, in time order: [t, value, score, expected]. */
  scoredSamples(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number, number]>> {
    return this.seriesTables.scoredSamples(tenant, q);
  }

  size(): Promise<number> {
    return this.seriesTables.size();
  }

  // ---- events ----

  // the write itself sends only ids not stored yet: one read, not a check and then a write's own
  async putAnomaly(event: AnomalyEvent): Promise<boolean> {
    return (await this.events.writeAnomalies([event])) > 0;
  }

  async putAlert(alert: Alert): Promise<boolean> {
    return (await this.events.writeAlerts([alert])) > 0;
  }

  async putIncident(incident: Incident): Promise<boolean> {
    const known = await this.events.hasIncident(incident.tenant, incident.id);
    await this.events.writeIncidents([{ incident, version: this.nextIncidentVersion() }]);
    return !known;
  }

  async writeAnomalies(events: readonly AnomalyEvent[], mode?: WriteMode): Promise<void> {
    await this.events.writeAnomalies(events, mode);
  }

  async writeAlerts(alerts: readonly Alert[], mode?: WriteMode): Promise<void> {
    await this.events.writeAlerts(alerts, mode);
  }

  writeIncidents(versions: readonly IncidentVersion[], mode?: WriteMode): Promise<void> {
    return this.events.writeIncidents(versions, mode);
  }

  /** Microseconds of the clock, bumped past the last one: increasing even within a millisecond. */
  nextIncidentVersion(): number {
    this.lastVersion = Math.max(this.lastVersion + 1, Math.trunc(this.clock.now()) * 1000);
    return this.lastVersion;
  }

  anomalies(tenant: string, q: EventFilter): Promise<Page<AnomalyEvent>> {
    return this.events.anomalies(tenant, q);
  }

  alerts(tenant: string, q: EventFilter): Promise<Page<Alert>> {
    return this.events.alerts(tenant, q);
  }

  incidents(tenant: string, q: IncidentFilter): Promise<Page<Incident>> {
    return this.events.incidents(tenant, q);
  }

  incident(tenant: string, id: string): Promise<Incident | undefined> {
    return this.events.incident(tenant, id);
  }

  incidentTimeline(tenant: string, id: string): Promise<Incident[]> {
    return this.events.timeline(tenant, id);
  }

  unresolvedIncidents(tenant: string): Promise<Incident[]> {
    return this.events.unresolved(tenant);
  }

  writeRca(versions: readonly RcaVersion[], mode?: WriteMode): Promise<void> {
    return this.rca.write(versions, mode);
  }

  incidentRca(tenant: string, incidentId: string): Promise<IncidentRca | undefined> {
    return this.rca.latest(tenant, incidentId);
  }
}

function checkRetention(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
    throw new VigilError('CONFIG_INVALID', `tsdb: retention must be 1..${MAX_RETENTION_DAYS} whole days, got ${days}`);
  }
  return days;
}
