// Anomalies, alerts and incident states: idempotent writes and newest-first keyset pages.
import type {
  Alert, AnomalyEvent, Direction, Incident, IncidentStatus, Labels, Page, Severity, Tier,
} from '../../protocols/index.ts';
import type { EventFilter, IncidentFilter } from '../types.ts';
import { decodeKeyset, encodeKeyset, pageLimit, type Keyset } from './keyset.ts';
import { num, type Params, type Sql } from './sql.ts';
import type { IncidentVersion, WriteMode } from './types.ts';

interface AnomalyRow {
  tenant: string; ts: number | string; id: string; service: string; metric: string; labels: Labels;
  value: number; expected: number; score: number; tier: string; direction: string;
}

interface AlertRow {
  tenant: string; ts: number | string; id: string; service: string; metric: string; labels: Labels;
  score: number; severity: string; tier: string; anomaly_id: string; incident_id: string;
}

interface IncidentRow {
  tenant: string; id: string; version: number | string; status: string; title: string;
  services: string[]; alert_ids: string[]; opened_at: number | string; updated_at: number | string;
  acknowledged_at: number | string | null; resolved_at: number | string | null; peak_score: number;
}

const INCIDENT_FIELDS = 'status, title, services, alert_ids, opened_at, updated_at, acknowledged_at, resolved_at, peak_score';

export class EventTables {
  constructor(private readonly sql: Sql) {}

  private get db(): string {
    return this.sql.db;
  }

  /**
   * Anomalies and alerts carry derived ids, so the same one comes again after a replay (a node
   * that takes a shard back replays what it processed before its last snapshot), a retry or a
   * spill drain. Each write sends only the ids not stored yet: one row per id, not only one
   * answer per id (reads fold duplicates with FINAL, a count of rows does not). Resolves with
   * how many were new.
   */
  async writeAnomalies(all: readonly AnomalyEvent[], mode: WriteMode = {}): Promise<number> {
    const events = await this.unstored('anomalies', all, (e) => e.timestamp, mode.signal);
    await this.sql.insertJson<AnomalyRow>('anomalies', events.map((e) => ({
      tenant: e.tenant, ts: e.timestamp, id: e.id, service: e.service, metric: e.metric, labels: e.labels,
      value: e.value, expected: e.expected, score: e.score, tier: e.tier, direction: e.direction,
    })), mode.signal);
    return events.length;
  }

  async writeAlerts(all: readonly Alert[], mode: WriteMode = {}): Promise<number> {
    const alerts = await this.unstored('alerts', all, (a) => a.timestamp, mode.signal);
    await this.sql.insertJson<AlertRow>('alerts', alerts.map((a) => ({
      tenant: a.tenant, ts: a.timestamp, id: a.id, service: a.service, metric: a.metric, labels: a.labels,
      score: a.score, severity: a.severity, tier: a.tier ?? '', anomaly_id: a.anomalyId, incident_id: a.incidentId,
    })), mode.signal);
    return alerts.length;
  }

  /** The events whose id is neither stored nor earlier in `events` (the tables' key is tenant, ts, id). */
  private async unstored<E extends { tenant: string; id: string }>(
    table: 'anomalies' | 'alerts', events: readonly E[], ts: (e: E) => number, signal?: AbortSignal,
  ): Promise<E[]> {
    if (events.length === 0) return [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of events) {
      lo = Math.min(lo, ts(e));
      hi = Math.max(hi, ts(e));
    }
    const stored = await this.sql.rows<{ tenant: string; id: string }>(
      `SELECT tenant, id FROM ${this.db}.${table}
       WHERE tenant IN {tenants:Array(String)} AND ts >= {lo:Int64} AND ts <= {hi:Int64} AND id IN {ids:Array(String)}`,
      { tenants: [...new Set(events.map((e) => e.tenant))], lo: Math.trunc(lo), hi: Math.trunc(hi), ids: [...new Set(events.map((e) => e.id))] },
      signal,
    );
    const seen = new Set(stored.map((r) => `${r.tenant}\u0000${r.id}`));
    return events.filter((e) => {
      const key = `${e.tenant}\u0000${e.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  writeIncidents(versions: readonly IncidentVersion[], mode: WriteMode = {}): Promise<void> {
    return this.sql.insertJson<IncidentRow>('incident_events', versions.map(({ incident: i, version }) => ({
      tenant: i.tenant, id: i.id, version, status: i.status, title: i.title, services: i.services, alert_ids: i.alertIds,
      opened_at: i.openedAt, updated_at: i.updatedAt, acknowledged_at: i.acknowledgedAt ?? null,
      resolved_at: i.resolvedAt ?? null, peak_score: i.peakScore,
    })), mode.signal);
  }

  async hasIncident(tenant: string, id: string): Promise<boolean> {
    const rows = await this.sql.rows<{ n: number | string }>(
      `SELECT count() AS n FROM ${this.db}.incident_events WHERE tenant = {tenant:String} AND id = {id:String}`, { tenant, id });
    return num(rows[0]?.n ?? 0) > 0;
  }

  async maxIncidentVersion(): Promise<number> {
    const rows = await this.sql.rows<{ v: number | string }>(`SELECT max(version) AS v FROM ${this.db}.incident_events`);
    return num(rows[0]?.v ?? 0);
  }

  anomalies(tenant: string, q: EventFilter): Promise<Page<AnomalyEvent>> {
    return this.page<AnomalyRow, AnomalyEvent>('anomalies', tenant, q, (r) => ({
      id: r.id, tenant: r.tenant, service: r.service, metric: r.metric, labels: r.labels, timestamp: num(r.ts),
      value: r.value, expected: r.expected, score: r.score, tier: r.tier as Tier, direction: r.direction as Direction,
    }));
  }

  alerts(tenant: string, q: EventFilter): Promise<Page<Alert>> {
    return this.page<AlertRow, Alert>('alerts', tenant, q, (r) => ({
      id: r.id, tenant: r.tenant, service: r.service, metric: r.metric, labels: r.labels, timestamp: num(r.ts),
      score: r.score, severity: r.severity as Severity, ...(r.tier === '' ? {} : { tier: r.tier as Tier }), anomalyId: r.anomaly_id, incidentId: r.incident_id,
    }));
  }

  /** Newest first by (ts, id); FINAL folds a replayed event onto the stored one. */
  private async page<R extends { ts: number | string; id: string }, T>(
    table: 'anomalies' | 'alerts', tenant: string, q: EventFilter, toItem: (row: R) => T,
  ): Promise<Page<T>> {
    const limit = pageLimit(q.limit);
    const params: Params = { tenant, n: limit + 1 };
    const where = ['tenant = {tenant:String}'];
    if (q.service !== undefined) { where.push('service = {service:String}'); params.service = q.service; }
    if (q.metric !== undefined) { where.push('metric = {metric:String}'); params.metric = q.metric; }
    if (q.incident !== undefined && table === 'alerts') { where.push('incident_id = {incident:String}'); params.incident = q.incident; }
    if (q.from !== undefined) { where.push('ts >= {from:Int64}'); params.from = Math.trunc(q.from); }
    if (q.to !== undefined) { where.push('ts <= {to:Int64}'); params.to = Math.trunc(q.to); }
    keysetFilter(q.cursor, 'ts', where, params);
    const rows = await this.sql.rows<R>(
      `SELECT * FROM ${this.db}.${table} FINAL WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT {n:UInt32}`, params);
    return pageOf(rows, limit, toItem, (r) => ({ t: num(r.ts), id: r.id }));
  }

  async incidents(tenant: string, q: IncidentFilter): Promise<Page<Incident>> {
    const limit = pageLimit(q.limit);
    const params: Params = { tenant, n: limit + 1 };
    // opened_at never changes for an incident, so range and cursor filter before the fold.
    const inner = ['tenant = {tenant:String}'];
    if (q.from !== undefined) { inner.push('opened_at >= {from:Int64}'); params.from = Math.trunc(q.from); }
    if (q.to !== undefined) { inner.push('opened_at <= {to:Int64}'); params.to = Math.trunc(q.to); }
    keysetFilter(q.cursor, 'opened_at', inner, params);
    const outer: string[] = [];
    if (q.status !== undefined) { outer.push('status = {status:String}'); params.status = q.status; }
    if (q.service !== undefined) { outer.push('has(services, {service:String})'); params.service = q.service; }
    const rows = await this.current(inner.join(' AND '), outer, params, 'ORDER BY opened_at DESC, id DESC LIMIT {n:UInt32}');
    return pageOf(rows, limit, incidentOf, (r) => ({ t: num(r.opened_at), id: r.id }));
  }

  async incident(tenant: string, id: string): Promise<Incident | undefined> {
    const rows = await this.current('tenant = {tenant:String} AND id = {id:String}', [], { tenant, id }, '');
    return rows[0] ? incidentOf(rows[0]) : undefined;
  }

  async unresolved(tenant: string): Promise<Incident[]> {
    const rows = await this.current('tenant = {tenant:String}', ["status != 'resolved'"], { tenant }, 'ORDER BY opened_at, id');
    return rows.map(incidentOf);
  }

  async timeline(tenant: string, id: string): Promise<Incident[]> {
    const rows = await this.sql.rows<IncidentRow>(
      `SELECT * FROM ${this.db}.incident_events FINAL WHERE tenant = {tenant:String} AND id = {id:String} ORDER BY version`,
      { tenant, id });
    return rows.map(incidentOf);
  }

  /** Each incident's newest state (argMax by version over every state it went through). */
  private current(where: string, outer: string[], params: Params, tail: string): Promise<IncidentRow[]> {
    const fields = INCIDENT_FIELDS.split(', ');
    const picks = fields.map((f, i) => `tupleElement(s, ${i + 1}) AS ${f}`).join(', ');
    return this.sql.rows<IncidentRow>(
      `SELECT tenant, id, v AS version, ${picks} FROM (
         SELECT tenant, id, max(version) AS v, argMax(tuple(${INCIDENT_FIELDS}), version) AS s
         FROM ${this.db}.incident_events WHERE ${where} GROUP BY tenant, id
       ) ${outer.length > 0 ? `WHERE ${outer.join(' AND ')}` : ''} ${tail}`, params);
  }
}

function keysetFilter(cursor: string | undefined, column: string, where: string[], params: Params): void {
  if (cursor === undefined) return;
  const k: Keyset = decodeKeyset(cursor);
  where.push(`(${column}, id) < ({c_t:Int64}, {c_id:String})`);
  params.c_t = k.t;
  params.c_id = k.id;
}

function pageOf<R, T>(rows: R[], limit: number, toItem: (r: R) => T, keyOf: (r: R) => Keyset): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const items = kept.map(toItem);
  return more ? { items, next: encodeKeyset(keyOf(kept[kept.length - 1]!)) } : { items };
}

function incidentOf(r: IncidentRow): Incident {
  const inc: Incident = {
    id: r.id, tenant: r.tenant, status: r.status as IncidentStatus, title: r.title, services: r.services,
    alertIds: r.alert_ids, openedAt: num(r.opened_at), updatedAt: num(r.updated_at), peakScore: r.peak_score,
  };
  if (r.acknowledged_at !== null) inc.acknowledgedAt = num(r.acknowledged_at);
  if (r.resolved_at !== null) inc.resolvedAt = num(r.resolved_at);
  return inc;
}
