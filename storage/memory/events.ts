// In-memory EventStore: per-tenant append-only lists with id sets for idempotent writes.
// Bounded: each tenant keeps its newest `retain` anomalies and alerts.
import type { Alert, AnomalyEvent, Incident, Page } from '../../protocols/index.ts';
import type { EventFilter, EventStore, IncidentFilter } from '../types.ts';
import { pageNewestFirst, type Sequenced } from './page.ts';

export const DEFAULT_EVENT_RETENTION = 100_000;

interface TimedSeries {
  service: string;
  metric: string;
  timestamp: number;
}

class Log<T extends { id: string }> {
  readonly list: Array<Sequenced<T>> = [];
  private readonly ids = new Set<string>();
  private seq = 0;

  constructor(private readonly retain: number) {}

  add(item: T): boolean {
    if (this.ids.has(item.id)) return false;
    this.ids.add(item.id);
    this.list.push({ seq: this.seq++, item });
    if (this.list.length > this.retain * 1.1) {
      // Trim in chunks so the cost is amortised over many appends.
      for (const old of this.list.splice(0, this.list.length - this.retain)) this.ids.delete(old.item.id);
    }
    return true;
  }
}

class TenantEvents {
  readonly anomalies: Log<AnomalyEvent>;
  readonly alerts: Log<Alert>;
  readonly incidentOrder: Array<Sequenced<string>> = [];
  readonly incidents = new Map<string, Incident>();

  constructor(retain: number) {
    this.anomalies = new Log(retain);
    this.alerts = new Log(retain);
  }
}

function matches(e: TimedSeries, q: EventFilter): boolean {
  return (q.service === undefined || e.service === q.service)
    && (q.metric === undefined || e.metric === q.metric)
    && (q.from === undefined || e.timestamp >= q.from)
    && (q.to === undefined || e.timestamp <= q.to);
}

export class MemoryEventStore implements EventStore {
  private readonly tenants = new Map<string, TenantEvents>();

  constructor(private readonly retain = DEFAULT_EVENT_RETENTION) {}

  private of(tenant: string): TenantEvents {
    let t = this.tenants.get(tenant);
    if (!t) this.tenants.set(tenant, (t = new TenantEvents(this.retain)));
    return t;
  }

  putAnomaly(event: AnomalyEvent): boolean {
    return this.of(event.tenant).anomalies.add(event);
  }

  putAlert(alert: Alert): boolean {
    return this.of(alert.tenant).alerts.add(alert);
  }

  putIncident(incident: Incident): boolean {
    const t = this.of(incident.tenant);
    const created = !t.incidents.has(incident.id);
    if (created) t.incidentOrder.push({ seq: t.incidentOrder.length, item: incident.id });
    t.incidents.set(incident.id, structuredClone(incident));
    return created;
  }

  anomalies(tenant: string, q: EventFilter): Page<AnomalyEvent> {
    const t = this.tenants.get(tenant);
    return t ? pageNewestFirst(t.anomalies.list, (e) => matches(e, q), q.limit, q.cursor) : { items: [] };
  }

  alerts(tenant: string, q: EventFilter): Page<Alert> {
    const t = this.tenants.get(tenant);
    return t ? pageNewestFirst(t.alerts.list, (e) => matches(e, q), q.limit, q.cursor) : { items: [] };
  }

  incidents(tenant: string, q: IncidentFilter): Page<Incident> {
    const t = this.tenants.get(tenant);
    if (!t) return { items: [] };
    const keep = (id: string): boolean => {
      const inc = t.incidents.get(id)!;
      return (q.status === undefined || inc.status === q.status)
        && (q.service === undefined || inc.services.includes(q.service))
        && (q.from === undefined || inc.openedAt >= q.from)
        && (q.to === undefined || inc.openedAt <= q.to);
    };
    const page = pageNewestFirst(t.incidentOrder, keep, q.limit, q.cursor);
    return { ...page, items: page.items.map((id) => structuredClone(t.incidents.get(id)!)) };
  }

  incident(tenant: string, id: string): Incident | undefined {
    const inc = this.tenants.get(tenant)?.incidents.get(id);
    return inc ? structuredClone(inc) : undefined;
  }

  unresolvedIncidents(tenant: string): Incident[] {
    const t = this.tenants.get(tenant);
    if (!t) return [];
    return [...t.incidents.values()].filter((i) => i.status !== 'resolved').map((i) => structuredClone(i));
  }
}
