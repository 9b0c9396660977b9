// One interface per store. The node talks to these only; adapters live beside them
// (memory/ now; chdb, ClickHouse, graph and Redis adapters come with the storage issue).
import type {
  Alert, AnomalyEvent, Incident, IncidentStatus, Page, SeriesKey, TimeRange, Topology,
} from '../protocols/index.ts';

export interface PageQuery extends TimeRange {
  limit?: number;
  cursor?: string;
}

export interface EventFilter extends PageQuery {
  service?: string;
  metric?: string;
}

export interface IncidentFilter extends PageQuery {
  status?: IncidentStatus;
  service?: string;
}

/** Raw samples per series. Eventually consistent: written by the ServiceActor that owns the series. */
export interface SeriesStore {
  /** Appends [timestampMs, value] pairs (the shape ingest carries them in). */
  append(tenant: string, key: SeriesKey, samples: ReadonlyArray<readonly [number, number]>): void;
  /** Samples of every series of (service, metric) in time order, merged. */
  query(tenant: string, service: string, metric: string, range: TimeRange & { limit?: number }): Array<[number, number]>;
  /** Samples held in all (for /metrics and tests). */
  size(): number;
}

/** Anomalies, alerts and incidents. Newest first in every page. */
export interface EventStore {
  /** Returns false when an event with this id was already stored (alerts are at-least-once). */
  putAnomaly(event: AnomalyEvent): boolean;
  putAlert(alert: Alert): boolean;
  /** Insert or replace by id (write-through from the correlator); true when it was new. */
  putIncident(incident: Incident): boolean;
  anomalies(tenant: string, q: EventFilter): Page<AnomalyEvent>;
  alerts(tenant: string, q: EventFilter): Page<Alert>;
  incidents(tenant: string, q: IncidentFilter): Page<Incident>;
  incident(tenant: string, id: string): Incident | undefined;
  /** Incidents not yet resolved, for a correlator that restarts and must pick them up. */
  unresolvedIncidents(tenant: string): Incident[];
}

export interface TopologyStore {
  put(tenant: string, topology: Topology): void;
  get(tenant: string): Topology;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
