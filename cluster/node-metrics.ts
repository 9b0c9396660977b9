// The node's Prometheus metrics. Counters move on events; runtime gauges are read on
// scrape (collect), so the hot path never touches them.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RuntimeCounters } from '../actors/runtime/index.ts';

export interface NodeMetrics {
  registry: Registry;
  samples: Counter<'tenant'>;
  anomalies: Counter<'tenant' | 'tier'>;
  alerts: Counter<'tenant' | 'severity'>;
  incidents: Counter<'tenant'>;
}

export function createNodeMetrics(stats: () => RuntimeCounters, backlog: () => number): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_process_' });
  const samples = new Counter({ name: 'vigil_samples_ingested_total', help: 'Samples taken in by ServiceActors', labelNames: ['tenant'], registers: [registry] });
  const anomalies = new Counter({ name: 'vigil_anomalies_total', help: 'Anomalies detected', labelNames: ['tenant', 'tier'], registers: [registry] });
  const alerts = new Counter({ name: 'vigil_alerts_total', help: 'Alerts raised', labelNames: ['tenant', 'severity'], registers: [registry] });
  const incidents = new Counter({ name: 'vigil_incidents_opened_total', help: 'Incidents opened', labelNames: ['tenant'], registers: [registry] });
  new Gauge({ name: 'vigil_actors_alive', help: 'Actors alive on this node', registers: [registry], collect() { this.set(stats().actorsAlive); } });
  new Gauge({ name: 'vigil_mailbox_depth', help: 'Messages waiting in all mailboxes', registers: [registry], collect() { this.set(stats().mailboxDepth); } });
  new Gauge({ name: 'vigil_ingest_backlog_samples', help: 'Samples accepted and not yet taken in by a ServiceActor', registers: [registry], collect() { this.set(backlog()); } });
  const runtimeCounter = (name: string, help: string, read: (s: RuntimeCounters) => number): void => {
    let seen = 0;
    new Counter({ name, help, registers: [registry], collect() { const n = read(stats()); if (n > seen) this.inc(n - seen); seen = n; } });
  };
  runtimeCounter('vigil_actor_restarts_total', 'Actor restarts by supervisors', (s) => s.restartsTotal);
  runtimeCounter('vigil_actor_escalations_total', 'Supervisor escalations', (s) => s.escalationsTotal);
  runtimeCounter('vigil_actor_dead_letters_total', 'Messages that will never be handled (told to a stopped actor)', (s) => s.deadLettersTotal);
  runtimeCounter('vigil_actor_readopted_messages_total', 'Messages queued at a child when its parent restarted, handed to the new incarnation', (s) => s.readoptedTotal);
  return { registry, samples, anomalies, alerts, incidents };
}
