// What the HTTP/WebSocket gateway needs from a Vigil node. The node (node/engine.ts)
// implements it; the gateway never reaches past this face.
import type { Registry } from 'prom-client';
import type { AuditEntry, AuditQuery } from '../storage/audit/index.ts';
import type { SeriesAnswer } from '../storage/tsdb/index.ts';
import type { AutomationDesk } from '../actors/automation/index.ts';
import type { ExternalAlert, SilenceDraft, SilenceView } from '../actors/correlation/index.ts';
import type {
  Alert, AlertView, AnomalyEvent, Incident, IncidentRca, IncidentStatus, LevelStatus, LiveEvent, Page, SeriesInput, TimeRange, Topology,
} from '../protocols/index.ts';

export interface EventQuery extends TimeRange {
  service?: string;
  metric?: string;
  /** alerts only: those that joined this incident */
  incident?: string;
  limit?: number;   // default 100, max 1000
  cursor?: string;  // opaque, from Page.next
}

export interface IncidentQuery extends TimeRange {
  status?: IncidentStatus;
  service?: string;
  limit?: number;
  cursor?: string;
}

export interface SeriesQuery extends TimeRange {
  service: string;
  metric: string;
  /** raw: the newest `limit` samples; stepped: the newest `limit` buckets */
  limit?: number;
  /** bucket width in ms; absent: raw samples. The store picks raw or a rollup by it. */
  step?: number;
}

/** A series answer: raw samples, or step buckets (their averages as points) with statistics. */
export type { SeriesAnswer, SeriesBucket, Resolution } from '../storage/tsdb/index.ts';

export interface IngestResult {
  /** samples accepted (now durable in the node's log / store) */
  accepted: number;
}

/** One node of the supervision tree, as `vigil ctl tree` shows it. */
export interface TreeNode {
  path: string;
  kind: string;
  status: 'running' | 'restarting' | 'stopped' | 'failed';
  restarts: number;
  mailbox: number;
  children: TreeNode[];
}

/** What the admin key sees at GET /v1/status: the level, plus dependencies, override and faults. */
export interface NodeStatusView extends LevelStatus {
  override?: { level: number; until: number };
  dependencies: Record<string, 'up' | 'down'>;
  faults: Array<{ dependency: string; mode: string; until: number }>;
}

export interface FaultRequest {
  dependency: string;
  mode: string;
  durationMs: number;
}

export interface Engine {
  /** The clock the node runs on (the gateway checks timestamps against it). */
  now(): number;
  ingest(tenant: string, series: SeriesInput[]): Promise<IngestResult>;
  /** Why ingest would refuse any sample of this tenant now (its backlog is full, say), or
   * undefined: the gateway then answers 503 with it before reading a body it would only throw away. */
  overloaded(tenant: string): string | undefined;
  series(tenant: string, q: SeriesQuery): Promise<SeriesAnswer>;
  /** Raw samples that have a detector verdict, newest `limit`, in time order: [t, value, score, expected]
   * (GET /v1/series/band). Absent: the node keeps no scores and that route answers 404. */
  scoredSamples?(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number, number]>>;
  anomalies(tenant: string, q: EventQuery): Promise<Page<AnomalyEvent>>;
  alerts(tenant: string, q: EventQuery): Promise<Page<Alert>>;
  incidents(tenant: string, q: IncidentQuery): Promise<Page<Incident>>;
  /** undefined when the incident does not exist in this tenant */
  incident(tenant: string, id: string): Promise<Incident | undefined>;
  /** An incident and its newest root-cause ranking (absent until one is computed); undefined when the incident does not exist in this tenant. */
  incidentRca(tenant: string, id: string): Promise<{ incident: Incident; rca?: IncidentRca } | undefined>;
  /** Changes an incident's status; undefined when it does not exist in this tenant. `caller` goes to the audit log. */
  setIncidentStatus(tenant: string, id: string, status: 'acknowledged' | 'resolved', caller: string): Promise<Incident | undefined>;
  putTopology(tenant: string, topology: Topology, caller: string): Promise<void>;
  getTopology(tenant: string): Promise<Topology>;
  /** Live events of one tenant; returns the unsubscribe function. */
  subscribe(tenant: string, listener: (event: LiveEvent) => void): () => void;
  /** Supervision tree snapshot (admin). */
  tree(): TreeNode;
  /** Restarts the actor at `path` (admin); throws a VigilError with code NOT_FOUND when absent. */
  restart(path: string, caller: string): Promise<void>;
  /** The audit log, newest first (admin). */
  audit(q: AuditQuery): Promise<Page<AuditEntry>>;
  ready(): boolean;
  /** The degradation level, breakers and dependencies of this node. */
  status(): NodeStatusView;
  /** Injects a fault (admin); BAD_REQUEST for an unknown dependency or mode. */
  injectFault(fault: FaultRequest, caller: string): Promise<NodeStatusView>;
  /** Ends every injected fault (admin); how many there were. */
  clearFaults(caller: string): Promise<number>;
  /** Operator override: hold the level at least at `level` for `forMs` (0 clears it). */
  degrade(level: number, forMs: number, caller: string): Promise<NodeStatusView>;
  /** Operator: open (forced), close or disable a node breaker; NOT_FOUND for an unknown name. */
  commandBreaker(name: string, command: string, caller: string): Promise<string>;
  /** prom-client registry with the node's metrics (public at /metrics). */
  readonly metrics: Registry;
  /** metrics labelled by tenant (shown at /metrics to the admin key only). */
  readonly tenantMetrics: Registry;
  /**
   * Runbook automation (actors/automation): runbooks, runs, approvals; absent: its routes answer
   * 503. Remote: in cluster mode a tenant's runs are answered by its shard's owner.
   */
  readonly automation?: Remote<AutomationDesk>;
  /** A tenant's correlator: the Alertmanager-compatible intake, its live alerts, its silences. */
  readonly correlation: CorrelationDesk;
}

/** A desk whose answers may come over the network (cluster mode: from the tenant's shard owner). */
export type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => R | Promise<Awaited<R>> : T[K] };

/** What the gateway asks of a tenant's correlator (node/correlation.ts). Changes go to the audit log as `caller`. */
export interface CorrelationDesk {
  /** Alerts as Alertmanager's API v2 takes them; how many joined, and how many the tenant's limit refused. */
  receiveAlerts(tenant: string, alerts: ExternalAlert[]): Promise<{ accepted: number; refused: number }>;
  /** The tenant's live alerts (both sources), newest first. */
  liveAlerts(tenant: string): Promise<AlertView[]>;
  silences(tenant: string): Promise<SilenceView[]>;
  silence(tenant: string, id: string): Promise<SilenceView | undefined>;
  /** Creates (no id) or replaces a silence; BAD_REQUEST, NOT_FOUND, CONFLICT or QUOTA_EXCEEDED with the reason. */
  putSilence(tenant: string, draft: SilenceDraft, caller: string): Promise<SilenceView>;
  /** Ends a silence now; NOT_FOUND when the tenant has none with this id. */
  expireSilence(tenant: string, id: string, caller: string): Promise<SilenceView>;
}
