// Vigil's domain types as they cross module boundaries (and the HTTP JSON API).
// The .proto in protocols/proto mirrors them on the wire. Timestamps are Unix ms.

export type Tier = 'basic' | 'agile' | 'robust';
export const TIERS: readonly Tier[] = ['basic', 'agile', 'robust'];
export type Direction = 'up' | 'down';
export type Labels = Record<string, string>;

/** One series in an ingest request: samples are [timestampMs, value] pairs. */
export interface SeriesInput {
  service: string;
  metric: string;
  labels?: Labels;
  samples: Array<[number, number]>;
}

/** Identity of one time series inside a tenant. */
export interface SeriesKey {
  service: string;
  metric: string;
  labels: Labels;
}

export interface AnomalyEvent extends SeriesKey {
  id: string;
  tenant: string;
  timestamp: number;
  value: number;
  expected: number;
  score: number;
  tier: Tier;
  direction: Direction;
}

export type Severity = 'warning' | 'critical';

export interface Alert extends SeriesKey {
  id: string;
  tenant: string;
  timestamp: number;
  score: number;
  severity: Severity;
  tier: Tier;
  anomalyId: string;
  incidentId: string;
}

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export interface Incident {
  id: string;
  tenant: string;
  status: IncidentStatus;
  title: string;
  services: string[];
  alertIds: string[];
  openedAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  resolvedAt?: number;
  peakScore: number;
}

export interface Topology {
  services: Array<{ name: string; dependsOn: string[] }>;
}

/** What the live stream (WebSocket /v1/stream) carries for a tenant. */
export type LiveEvent =
  | { type: 'anomaly'; data: AnomalyEvent }
  | { type: 'alert'; data: Alert }
  | { type: 'incident'; data: Incident }
  | { type: 'status'; data: LevelStatus & { tenant: string } };

/**
 * The node's degradation level as every tenant sees it (GET /v1/status; the stream's 'status'
 * event carries it with the receiving tenant's id, as every event on a stream names its tenant).
 */
export interface LevelStatus {
  /** 0 full .. 4 emergency (DESIGN.md §1) */
  level: number;
  levelName: string;
  /** when the level last changed, ms */
  since: number;
  /** the node's shared breakers: closed, open, halfOpen, forcedOpen or disabled */
  breakers: Record<string, string>;
}

/** Paging: `limit` items after the opaque `cursor`; `next` is absent on the last page. */
export interface Page<T> {
  items: T[];
  next?: string;
}

export interface TimeRange {
  from?: number;
  to?: number;
}
