// The node's Prometheus metrics. Counters move on events; runtime gauges are read on
// scrape (collect), so the hot path never touches them.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RuntimeStats } from '../actors/runtime/index.ts';

export interface NodeMetrics {
  registry: Registry;
  samples: Counter<'tenant'>;
  anomalies: Counter<'tenant' | 'tier'>;
  alerts: Counter<'tenant' | 'severity'>;
  incidents: Counter<'tenant'>;
}

export function createNodeMetrics(stats: () => RuntimeStats, backlog: () => number): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_process_' });
  const samples = new Counter({ name: 'vigil_samples_ingested_total', help: 'Samples taken in by ServiceActors', labelNames: ['tenant'], registers: [registry] });
  const anomalies = new Counter({ name: 'vigil_anomalies_total', help: 'Anomalies detected', labelNames: ['tenant', 'tier'], registers: [registry] });
  const alerts = new Counter({ name: 'vigil_alerts_total', help: 'Alerts raised', labelNames: ['tenant', 'severity'], registers: [registry] });
  const incidents = new Counter({ name: 'vigil_incidents_opened_total', help: 'Incidents opened', labelNames: ['tenant'], registers: [registry] });
  new Gauge({ name: 'vigil_actors_alive', help: 'Actors alive on this node', registers: [registry], collect() { this.set(stats().actorsAlive); } });
  new Gauge({ name: 'vigil_mailbox_depth', help: 'Messages waiting in all mailboxes', registers: [registry], collect() { this.set(stats().mailboxDepth); } });
  new Gauge({ name: 'vigil_ingest_backlog_samples', help: 'Samples accepted and not yet taken in by a ServiceActor', registers: [registry], collect() { this.set(backlog()); } });
  let restarts = 0;
  let escalations = 0;
  new Counter({
    name: 'vigil_actor_restarts_total', help: 'Actor restarts by supervisors', registers: [registry],
    collect() { const n = stats().restartsTotal; if (n > restarts) this.inc(n - restarts); restarts = n; },
  });
  new Counter({
    name: 'vigil_actor_escalations_total', help: 'Supervisor escalations', registers: [registry],
    collect() { const n = stats().escalationsTotal; if (n > escalations) this.inc(n - escalations); escalations = n; },
  });
  return { registry, samples, anomalies, alerts, incidents };
}
