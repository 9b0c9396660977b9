// The Engine the gateway talks to, on one node. Ingest appends to the durable log and
// answers once it is durable; the shard hosts take it from there. Reads come from the
// store; incident changes go through the tenant's correlator (one writer).
import { createHash } from 'node:crypto';
import type { CorrelationDesk, Engine, EventQuery, FaultRequest, IncidentQuery, IngestResult, NodeStatusView, SeriesQuery, TreeNode } from '../api/index.ts';
import type { ActorRef, ActorSystem, Clock } from '../actors/runtime/index.ts';
import type { TenantsMsg } from '../actors/tenant/index.ts';
import type { AutomationDesk } from '../actors/automation/index.ts';
import { encodeMetricBatch, VigilError } from '../protocols/index.ts';
import type { Alert, AnomalyEvent, Incident, IncidentRca, LiveEvent, Page, SeriesInput, Topology } from '../protocols/index.ts';
import type { GraphStore } from '../storage/graph/index.ts';
import { cacheGroups, cacheKeys, type TwoLevelCache } from '../storage/cache/index.ts';
import { AUDIT_ACTIONS, type AuditEntry, type AuditLog, type AuditQuery, type JsonValue } from '../storage/audit/index.ts';
import type { TsdbStore } from '../storage/tsdb/index.ts';
import type { Registry } from 'prom-client';
import {
  NodeHealth, shardOf, type AdmittedBatch, type Appended, type IngestBacklog, type IngestLog, type LiveHub, type OpenIncidentsCache, type SeriesLimits,
} from '../cluster/index.ts';

export const DEFAULT_STATUS_TIMEOUT_MS = 5_000;

const noCorrelation = (): never => {
  throw new VigilError('UNAVAILABLE', 'this node serves no correlation routes');
};
const NO_CORRELATION: CorrelationDesk = {
  receiveAlerts: noCorrelation, liveAlerts: noCorrelation, silences: noCorrelation, silence: noCorrelation, putSilence: noCorrelation, expireSilence: noCorrelation,
};
/** Rows of a tenant waiting in the writers (memory and spill) past which its ingest gets 503. */
export const DEFAULT_MAX_WRITER_DEPTH = 5_000_000;

export interface NodeEngineParts {
  system: ActorSystem;
  clock: Clock;
  tenants: ActorRef<TenantsMsg>;
  log: IngestLog;
  shards: number;
  store: TsdbStore;
  graph: GraphStore;
  audit: AuditLog;
  cache: TwoLevelCache;
  incidents: OpenIncidentsCache;
  live: LiveHub;
  metrics: Registry;
  tenantMetrics: Registry;
  isReady: () => boolean;
  backlog: IngestBacklog;
  limits: SeriesLimits;
  /** batches appended by this process and not yet read by their shard host, by batch id */
  admitted: Map<string, AdmittedBatch>;
  /** false in cluster mode: the shard may be read on another node, so a batch is settled once it is in the log */
  admitLocally?: boolean;
  /** cluster mode: the node that pushes a tenant back (it is behind on the tenant's shard); undefined: none */
  pushedBackBy?(tenant: string): string | undefined;
  /** each batch appended, for a trace (absent: not traced) */
  traceAppend?(tenant: string, series: readonly SeriesInput[], at: Appended, id: string): void;
  /** rows of a tenant not yet stored by the writers */
  writerDepth: (tenant: string) => number;
  /** resolves once every incident state handed to the writers so far is stored */
  incidentsStored: () => Promise<void>;
  /** the newest root-cause rankings in memory (node/rca.ts); the store answers for the rest */
  rcaResults?: { get(tenant: string, id: string): IncidentRca | undefined };
  /** runbook automation (node/automation.ts; absent: its routes answer 503) */
  automation?: AutomationDesk;
  /** the degradation level, breakers and injected faults (default: one on `clock`, never started) */
  health?: NodeHealth;
  /** the tenants' correlators for the gateway (node/correlation.ts; absent: those routes answer 503) */
  correlation?: CorrelationDesk;
}

/** A batch's id, derived from what it is: a client's retry of the same body is the same batch. */
export function batchId(tenant: string, bytes: Uint8Array): string {
  return createHash('sha256').update(tenant).update('\0').update(bytes).digest('hex').slice(0, 32);
}

export class NodeEngine implements Engine {
  private readonly health: NodeHealth;

  constructor(private readonly p: NodeEngineParts) {
    this.health = p.health ?? new NodeHealth({ clock: p.clock });
  }

  get metrics(): Registry {
    return this.p.metrics;
  }

  get tenantMetrics(): Registry {
    return this.p.tenantMetrics;
  }

  get automation(): AutomationDesk | undefined {
    return this.p.automation;
  }

  get correlation(): CorrelationDesk {
    return this.p.correlation ?? NO_CORRELATION;
  }

  now(): number {
    return this.p.clock.now();
  }

  async ingest(tenant: string, series: SeriesInput[]): Promise<IngestResult> {
    let accepted = 0;
    for (const s of series) accepted += s.samples.length;
    const busy = this.busy(tenant);
    if (busy !== undefined) throw new VigilError('UNAVAILABLE', busy);
    const receipt = this.p.backlog.admit(tenant, accepted);
    const bytes = encodeMetricBatch(tenant, series);
    const id = batchId(tenant, bytes);
    const local = this.p.admitLocally ?? true;
    const first = !this.p.admitted.has(id);
    if (first && local) this.p.admitted.set(id, { receipt, batch: { tenant, series } });
    try {
      this.p.limits.admit(tenant, series);
      const at = await this.p.log.append(shardOf(tenant, this.p.shards), bytes, id);
      this.p.traceAppend?.(tenant, series, at, id);
      if (at.duplicate || !first || !local) receipt.settle(); // the first copy carries the samples
    } catch (err) {
      if (first) this.p.admitted.delete(id);
      receipt.settle(); // not accepted after all: the client is told why
      throw err;
    }
    return { accepted };
  }

  overloaded(tenant: string): string | undefined {
    return this.p.backlog.full(tenant) ? `tenant ${tenant} has too many samples waiting; retry later` : this.busy(tenant);
  }

  /** Why the tenant's ingest is refused whatever its size (the backlog refuses by size itself). */
  private busy(tenant: string): string | undefined {
    const rows = this.p.writerDepth(tenant);
    if (rows > DEFAULT_MAX_WRITER_DEPTH) return `tenant ${tenant}: the store is behind (${rows} rows waiting); retry later`;
    const behind = this.p.pushedBackBy?.(tenant);
    return behind === undefined ? undefined : `tenant ${tenant} has too many samples waiting on node ${behind}; retry later`;
  }

  async series(tenant: string, q: SeriesQuery): ReturnType<Engine['series']> {
    return this.p.store.series(tenant, q); // a step picks raw samples or a rollup
  }

  async scoredSamples(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number, number]>> {
    return this.p.store.scoredSamples(tenant, q); // each sample with the verdict stored in its row
  }

  async anomalies(tenant: string, q: EventQuery): Promise<Page<AnomalyEvent>> {
    return this.p.store.anomalies(tenant, q);
  }

  async alerts(tenant: string, q: EventQuery): Promise<Page<Alert>> {
    return this.p.store.alerts(tenant, q);
  }

  async incidents(tenant: string, q: IncidentQuery): Promise<Page<Incident>> {
    return this.p.store.incidents(tenant, q);
  }

  /** Open incidents from memory; others (resolved) through the cache, then the store. */
  async incident(tenant: string, id: string): Promise<Incident | undefined> {
    return this.p.incidents.get(tenant, id) ?? this.p.cache.get(cacheKeys.incident(tenant, id), () => this.p.store.incident(tenant, id));
  }

  async incidentRca(tenant: string, id: string): Promise<{ incident: Incident; rca?: IncidentRca } | undefined> {
    const incident = await this.incident(tenant, id);
    if (!incident) return undefined;
    const rca = this.p.rcaResults?.get(tenant, id) ?? await this.p.store.incidentRca(tenant, id);
    return rca ? { incident, rca } : { incident };
  }

  async setIncidentStatus(tenant: string, id: string, status: 'acknowledged' | 'resolved', caller: string): Promise<Incident | undefined> {
    const stored = await this.incident(tenant, id);
    if (!stored) return undefined;
    if (stored.status === 'resolved') {
      if (status === 'resolved') return stored; // idempotent
      throw new VigilError('CONFLICT', `incident ${id} is resolved and cannot be acknowledged`);
    }
    const changed = await this.p.tenants.ask<Incident | undefined>(
      (reply) => ({ type: 'to-tenant', tenant, msg: { type: 'set-status', id, status, reply } }),
      DEFAULT_STATUS_TIMEOUT_MS,
    );
    await this.p.incidentsStored(); // write-through: what the caller is told is what every read sees
    await this.p.cache.invalidate(cacheKeys.incident(tenant, id));
    const after = changed ?? await this.incident(tenant, id);
    await this.p.audit.append({
      tenant, actor: caller, action: status === 'acknowledged' ? AUDIT_ACTIONS.incidentAck : AUDIT_ACTIONS.incidentResolve, target: id,
      before: { status: stored.status }, after: { status: after?.status ?? null },
    });
    return after;
  }

  async putTopology(tenant: string, topology: Topology, caller: string): Promise<void> {
    const before = await this.p.graph.topology(tenant);
    await this.p.graph.replaceTopology(tenant, topology);
    await this.p.cache.invalidateGroup(cacheGroups.topology(tenant));
    // the correlator groups by the topology: it takes the new one before anything sent after this answer
    this.p.tenants.tell({ type: 'to-tenant', tenant, msg: { type: 'correlator', msg: { type: 'topology', topology } } });
    await this.p.audit.append({
      tenant, actor: caller, action: AUDIT_ACTIONS.topologyReplace, target: 'topology',
      before: before as unknown as JsonValue, after: topology as unknown as JsonValue,
    });
  }

  audit(q: AuditQuery): Promise<Page<AuditEntry>> {
    return this.p.audit.list(q);
  }

  async getTopology(tenant: string): Promise<Topology> {
    // the whole topology of a tenant is one entry (service '*'); a change drops the tenant's group
    return (await this.p.cache.get(cacheKeys.topology(tenant, '*'), () => this.p.graph.topology(tenant)))!;
  }

  subscribe(tenant: string, listener: (event: LiveEvent) => void): () => void {
    return this.p.live.subscribe(tenant, listener);
  }

  tree(): TreeNode {
    return this.p.system.tree();
  }

  async restart(path: string, caller: string): Promise<void> {
    await this.p.system.restart(path);
    await this.p.audit.append({ tenant: null, actor: caller, action: AUDIT_ACTIONS.actorRestart, target: path });
  }

  ready(): boolean {
    return this.p.isReady();
  }

  status(): NodeStatusView {
    return this.health.status();
  }

  async injectFault(f: FaultRequest, caller: string): Promise<NodeStatusView> {
    const fault = this.health.inject(f.dependency, f.mode, f.durationMs);
    await this.p.audit.append({ tenant: null, actor: caller, action: 'admin.fault_inject', target: f.dependency, after: { ...fault } });
    return this.health.status();
  }

  async clearFaults(caller: string): Promise<number> {
    const n = this.health.clearFaults();
    await this.p.audit.append({ tenant: null, actor: caller, action: 'admin.faults_clear', target: 'faults', after: { cleared: n } });
    return n;
  }

  async degrade(level: number, forMs: number, caller: string): Promise<NodeStatusView> {
    const s = this.health.degrade(level, forMs);
    await this.p.audit.append({ tenant: null, actor: caller, action: 'admin.degrade', target: `L${level}`, after: { level, forMs } });
    return s;
  }

  async commandBreaker(name: string, command: string, caller: string): Promise<string> {
    const state = this.health.breaker(name, command);
    await this.p.audit.append({ tenant: null, actor: caller, action: 'admin.breaker', target: name, after: { command, state } });
    return state;
  }
}
