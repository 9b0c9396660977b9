// The node's Prometheus metrics, in two registries:
// - `registry`: node-level figures, public at /metrics (a scraper carries no tenant key):
//   totals, runtime gauges, the ingest backlog, process metrics, the gateway's own;
// - `tenantRegistry`: the same counts by tenant (`vigil_tenant_*{tenant=...}`), shown only
//   to the admin key (`/metrics` with `Authorization: Bearer <admin key>`), because tenant
//   ids are not for every passer-by to enumerate.
// Counters move on events; runtime gauges are read on scrape (collect), off the hot path.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RuntimeCounters } from '../actors/runtime/index.ts';
import type { GateView } from '../actors/tenant/index.ts';

export interface NodeMetrics {
  registry: Registry;
  tenantRegistry: Registry;
  samples(tenant: string, n: number): void;
  anomaly(tenant: string, tier: string): void;
  alert(tenant: string, severity: string): void;
  incident(tenant: string): void;
}

export function createNodeMetrics(stats: () => RuntimeCounters, backlog: () => number, level: () => number = () => 0): NodeMetrics {
  const registry = new Registry();
  const tenantRegistry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_process_' });
  const node = [registry];
  const byTenant = [tenantRegistry];
  const samples = new Counter({ name: 'vigil_samples_ingested_total', help: 'Samples taken in by ServiceActors', registers: node });
  const anomalies = new Counter({ name: 'vigil_anomalies_total', help: 'Anomalies detected', labelNames: ['tier'], registers: node });
  const alerts = new Counter({ name: 'vigil_alerts_total', help: 'Alerts raised', labelNames: ['severity'], registers: node });
  const incidents = new Counter({ name: 'vigil_incidents_opened_total', help: 'Incidents opened', registers: node });
  const tSamples = new Counter({ name: 'vigil_tenant_samples_ingested_total', help: 'Samples taken in, by tenant', labelNames: ['tenant'], registers: byTenant });
  const tAnomalies = new Counter({ name: 'vigil_tenant_anomalies_total', help: 'Anomalies detected, by tenant', labelNames: ['tenant', 'tier'], registers: byTenant });
  const tAlerts = new Counter({ name: 'vigil_tenant_alerts_total', help: 'Alerts raised, by tenant', labelNames: ['tenant', 'severity'], registers: byTenant });
  const tIncidents = new Counter({ name: 'vigil_tenant_incidents_opened_total', help: 'Incidents opened, by tenant', labelNames: ['tenant'], registers: byTenant });
  new Gauge({ name: 'vigil_actors_alive', help: 'Actors alive on this node', registers: node, collect() { this.set(stats().actorsAlive); } });
  new Gauge({ name: 'vigil_mailbox_depth', help: 'Messages waiting in all mailboxes', registers: node, collect() { this.set(stats().mailboxDepth); } });
  new Gauge({ name: 'vigil_degradation_level', help: 'Degradation level of this node: 0 full, 1 reduced ML, 2 no ML, 3 storage degraded, 4 emergency', registers: node, collect() { this.set(level()); } });
  new Gauge({ name: 'vigil_ingest_backlog_samples', help: 'Samples accepted and not yet taken in by a ServiceActor', registers: node, collect() { this.set(backlog()); } });
  const runtimeCounter = (name: string, help: string, read: (s: RuntimeCounters) => number): void => {
    let seen = 0;
    new Counter({ name, help, registers: node, collect() { const n = read(stats()); if (n > seen) this.inc(n - seen); seen = n; } });
  };
  runtimeCounter('vigil_actor_restarts_total', 'Actor restarts by supervisors', (s) => s.restartsTotal);
  runtimeCounter('vigil_actor_escalations_total', 'Supervisor escalations', (s) => s.escalationsTotal);
  runtimeCounter('vigil_actor_dead_letters_total', 'Messages that will never be handled (told to a stopped actor)', (s) => s.deadLettersTotal);
  runtimeCounter('vigil_actor_readopted_messages_total', 'Messages queued at a child when its parent restarted, handed to the new incarnation', (s) => s.readoptedTotal);
  return {
    registry,
    tenantRegistry,
    samples(tenant, n) {
      samples.inc(n);
      tSamples.inc({ tenant }, n);
    },
    anomaly(tenant, tier) {
      anomalies.inc({ tier });
      tAnomalies.inc({ tenant, tier });
    },
    alert(tenant, severity) {
      alerts.inc({ severity });
      tAlerts.inc({ tenant, severity });
    },
    incident(tenant) {
      incidents.inc();
      tIncidents.inc({ tenant });
    },
  };
}

/** The checkpoints' gauge, read on scrape: shards whose log moved past their newest snapshot (a restart or failover now would replay them from it). */
export function watchCheckpoints(metrics: Pick<NodeMetrics, 'registry'>, behind: () => number): void {
  new Gauge({ name: 'vigil_checkpoint_shards_behind', help: 'Shards whose ingest log moved past their newest snapshot', registers: [metrics.registry], collect() { this.set(behind()); } });
}

/** The medium tenants' budgets, read on scrape; by tenant, so for the admin key only. */
export function watchBudgets(metrics: Pick<NodeMetrics, 'tenantRegistry'>, read: () => readonly GateView[]): void {
  const gauge = (name: string, help: string, of: (b: GateView) => number): void => {
    new Gauge({
      name, help, labelNames: ['tenant'], registers: [metrics.tenantRegistry],
      // reset first, so only the budgets the gates hold now have a line (a tenant that is no
      // longer medium keeps its gate, and its line, until its next batch drops it)
      collect() { this.reset(); for (const b of read()) this.set({ tenant: b.tenant }, of(b)); },
    });
  };
  gauge('vigil_tenant_budget_waiting_batches', 'Batches a medium tenant\'s budget holds back, by tenant', (b) => b.waiting);
  gauge('vigil_tenant_budget_in_flight_batches', 'A medium tenant\'s batches inside the actor tree, by tenant (at most its mailbox budget)', (b) => b.inFlight);
  gauge('vigil_tenant_budget_left_ms', 'Processing time a medium tenant has left in this tick, by tenant (negative: in debt, its batches wait)', (b) => b.leftMs);
}
