// The Engine the gateway talks to, on one node: ingest goes onto the bus, reads come
// from the stores, incident changes go through the tenant's correlator (one writer).
import type { Engine, EventQuery, IncidentQuery, IngestResult, SeriesQuery, TreeNode } from '../api/engine.ts';
import type { ActorRef, ActorSystem, Clock } from '../actors/runtime/index.ts';
import type { TenantsMsg } from '../actors/tenant/index.ts';
import { VigilError } from '../protocols/index.ts';
import type { Alert, AnomalyEvent, Incident, LiveEvent, Page, SeriesInput, Topology } from '../protocols/index.ts';
import type { EventStore, SeriesStore, TopologyStore } from '../storage/index.ts';
import type { Registry } from 'prom-client';
import type { Bus } from './bus/types.ts';
import type { LiveHub } from './live.ts';
import { metricsSubject, shardOf } from './shard.ts';
import type { IngestBacklog } from './backlog.ts';
import type { SeriesLimits } from './series-limits.ts';
import type { IngestReceipt } from '../actors/tenant/index.ts';

export const DEFAULT_STATUS_TIMEOUT_MS = 5_000;

export interface IngestMessage {
  tenant: string;
  series: SeriesInput[];
  /** gives the batch's samples back to the backlog once taken in (in-process bus only) */
  receipt?: IngestReceipt;
}

export interface NodeEngineParts {
  system: ActorSystem;
  clock: Clock;
  tenants: ActorRef<TenantsMsg>;
  bus: Bus<IngestMessage>;
  series: SeriesStore;
  events: EventStore;
  topology: TopologyStore;
  live: LiveHub;
  metrics: Registry;
  tenantMetrics: Registry;
  isReady: () => boolean;
  backlog: IngestBacklog;
  limits: SeriesLimits;
}

export class NodeEngine implements Engine {
  constructor(private readonly p: NodeEngineParts) {}

  get metrics(): Registry {
    return this.p.metrics;
  }

  get tenantMetrics(): Registry {
    return this.p.tenantMetrics;
  }

  now(): number {
    return this.p.clock.now();
  }

  async ingest(tenant: string, series: SeriesInput[]): Promise<IngestResult> {
    let accepted = 0;
    for (const s of series) accepted += s.samples.length;
    const receipt = this.p.backlog.admit(accepted);
    try {
      this.p.limits.admit(tenant, series);
      await this.p.bus.publish(metricsSubject(shardOf(tenant)), { tenant, series, receipt });
    } catch (err) {
      receipt.settle(); // not accepted after all: the client is told why
      throw err;
    }
    return { accepted };
  }

  overloaded(): boolean {
    return this.p.backlog.full;
  }

  async series(tenant: string, q: SeriesQuery): Promise<Array<[number, number]>> {
    return this.p.series.query(tenant, q.service, q.metric, q);
  }

  async anomalies(tenant: string, q: EventQuery): Promise<Page<AnomalyEvent>> {
    return this.p.events.anomalies(tenant, q);
  }

  async alerts(tenant: string, q: EventQuery): Promise<Page<Alert>> {
    return this.p.events.alerts(tenant, q);
  }

  async incidents(tenant: string, q: IncidentQuery): Promise<Page<Incident>> {
    return this.p.events.incidents(tenant, q);
  }

  async incident(tenant: string, id: string): Promise<Incident | undefined> {
    return this.p.events.incident(tenant, id);
  }

  async setIncidentStatus(tenant: string, id: string, status: 'acknowledged' | 'resolved'): Promise<Incident | undefined> {
    const stored = this.p.events.incident(tenant, id);
    if (!stored) return undefined;
    if (stored.status === 'resolved') {
      if (status === 'resolved') return stored; // idempotent
      throw new VigilError('CONFLICT', `incident ${id} is resolved and cannot be acknowledged`);
    }
    const changed = await this.p.tenants.ask<Incident | undefined>(
      (reply) => ({ type: 'to-tenant', tenant, msg: { type: 'set-status', id, status, reply } }),
      DEFAULT_STATUS_TIMEOUT_MS,
    );
    return changed ?? this.p.events.incident(tenant, id);
  }

  async putTopology(tenant: string, topology: Topology): Promise<void> {
    this.p.topology.put(tenant, topology);
  }

  async getTopology(tenant: string): Promise<Topology> {
    return this.p.topology.get(tenant);
  }

  subscribe(tenant: string, listener: (event: LiveEvent) => void): () => void {
    return this.p.live.subscribe(tenant, listener);
  }

  tree(): TreeNode {
    return this.p.system.tree();
  }

  async restart(path: string): Promise<void> {
    await this.p.system.restart(path);
  }

  ready(): boolean {
    return this.p.isReady();
  }
}
