// Vigil's domain types as they cross module boundaries (and the HTTP JSON API).
// The .proto in protocols/proto mirrors them on the wire. Timestamps are Unix ms.
import type { RunbookRun } from './runbooks.ts';

/** Any value JSON can carry (an audit record's before/after, a runbook request's body). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

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

/**
 * A stored alert. Raised from an anomaly: its series, the detector's tier and the anomaly's id.
 * From the Alertmanager intake: its service, `metric` the alertname, `labels` the alert's
 * whole label set, `timestamp` its startsAt, no tier and an empty anomalyId.
 */
export interface Alert extends SeriesKey {
  id: string;
  tenant: string;
  timestamp: number;
  score: number;
  severity: Severity;
  /** the detection tier of the anomaly behind it; absent for an external (Alertmanager) alert */
  tier?: Tier;
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

/** One metric's part in a suspected root cause's case: which metric, when, how far. */
export interface RcaEvidence {
  metric: string;
  direction: Direction;
  /** when the series first went past its bound (Unix ms); absent if it never did */
  onset?: number;
  peakAt: number;
  /** size of the departure: robust z when judged from raw samples, relative excess from detector events */
  deviation: number;
  /** anomaly evidence in [0, 1] */
  score: number;
}

/** A candidate root cause of an incident: a service the incident's alerts depend on (themselves included). */
export interface RcaCause {
  service: string;
  /** 1 = most likely */
  rank: number;
  /** in [0, 1], decreasing with rank; comparable within one result only */
  score: number;
  /** the service is anomalous and reached from the alerts through anomalous services */
  onAnomalousPath: boolean;
  /** its anomalous series, strongest first */
  evidence: RcaEvidence[];
}

/** RCA method by degradation level: L0 causal, L1 correlation-based, L2 rule-based. */
export type RcaMethod = 'causal' | 'correlation' | 'rule';

/** An incident's ranked root causes, as last computed (recomputed as alerts join). */
export interface IncidentRca {
  tenant: string;
  incidentId: string;
  /** the level it ran at ('L0' | 'L1' | 'L2') and what that means */
  level: 'L0' | 'L1' | 'L2';
  method: RcaMethod;
  /** when it was computed (node clock, Unix ms) */
  computedAt: number;
  /** the incident state it explains: its alerting services and its updatedAt */
  alerts: string[];
  incidentUpdatedAt: number;
  /** how many services the alerts depend on (themselves included) */
  candidates: number;
  /** the most likely first (at most RCA's limit, default 10) */
  causes: RcaCause[];
  /** where the evidence came from: series judged from raw samples, series known only from detector events */
  evidence: { rawSeries: number; eventSeries: number };
}

/** Where an alert came from: Vigil's own anomalies, or the Alertmanager-compatible intake. */
export type AlertSource = 'anomaly' | 'alertmanager';

/** A live alert as a tenant's correlator holds it (GET /api/v2/alerts, notifications). */
export interface AlertView {
  id: string;
  /** its identity: a hash of its labels (for anomalies, of the series) */
  fingerprint: string;
  source: AlertSource;
  service: string;
  /** the metric (anomalies) or the alertname */
  name: string;
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  /** when it clears unless delivered again (Unix ms) */
  endsAt: number;
  updatedAt: number;
  generatorURL?: string;
  severity: Severity;
  score: number;
  /** suppressed: silenced or inhibited, so in no incident and no notification */
  state: 'active' | 'suppressed';
  silencedBy: string[];
  /** fingerprints of the firing alerts that inhibit it */
  inhibitedBy: string[];
  /** the incident it belongs to (none while suppressed) */
  incidentId?: string;
}

/** Why an incident is notified (actors/correlation/notices.ts: group_wait, group_interval, repeat_interval). */
export type NotifyReason = 'opened' | 'reopened' | 'updated' | 'repeat' | 'resolved';

/** An incident's notification: what the on-call, runbooks and other receivers hear. */
export interface IncidentNotification {
  tenant: string;
  reason: NotifyReason;
  /** node clock, Unix ms */
  at: number;
  incident: Incident;
  /** its firing alerts that are not silenced or inhibited, newest first (at most 100) */
  alerts: AlertView[];
  /** how many of its alerts fire (not silenced or inhibited) */
  firing: number;
}

export interface Topology {
  services: Array<{ name: string; dependsOn: string[] }>;
}

/** What the live stream (WebSocket /v1/stream) carries for a tenant. */
export type LiveEvent =
  | { type: 'anomaly'; data: AnomalyEvent }
  | { type: 'alert'; data: Alert }
  | { type: 'incident'; data: Incident }
  | { type: 'rca'; data: IncidentRca }
  /** a runbook run started, moved on or ended (protocols/runbooks.ts) */
  | { type: 'runbook_run'; data: RunbookRun }
  /** an incident's notification, paced by group_wait / group_interval / repeat_interval (actors/correlation) */
  | { type: 'notification'; data: IncidentNotification }
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
