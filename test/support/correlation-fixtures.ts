// Small builders for the correlation tests: settings, Alertmanager-style alerts, anomalies,
// topologies, and picking effects by kind.
import {
  alertmanagerInput, type AlertInput, type CorrelationEffect, type CorrelationSettings,
} from '../../actors/correlation/index.ts';
import type { AnomalyEvent, Incident, IncidentNotification, Labels, Topology } from '../../protocols/index.ts';

export const SETTINGS: CorrelationSettings = { windowMs: 60_000, autoResolveMs: 300_000, minAlertScore: 0.9, criticalScore: 0.99 };
export const SERVICE_LABELS = ['service', 'job'];

/** An Alertmanager alert on `service`; `name` is its alertname. */
export function amAlert(service: string, name: string, startsAt: number, extra: { endsAt?: number; labels?: Labels; annotations?: Labels; now?: number } = {}): AlertInput {
  return alertmanagerInput({
    labels: { alertname: name, service, ...(extra.labels ?? {}) },
    annotations: extra.annotations ?? {},
    startsAt,
    ...(extra.endsAt !== undefined ? { endsAt: extra.endsAt } : {}),
  }, SERVICE_LABELS, extra.now ?? startsAt);
}

export function anomaly(service: string, timestamp: number, score = 0.95, metric = 'latency_ms', tenant = 'acme'): AnomalyEvent {
  return {
    id: `an-${service}-${metric}-${timestamp}`, tenant, service, metric, labels: {}, timestamp,
    value: 100, expected: 10, score, tier: 'basic', direction: 'up',
  };
}

/** `a` depends on `b` for each [a, b]. */
export function topologyOf(edges: ReadonlyArray<readonly [string, string]>, lone: readonly string[] = []): Topology {
  const deps = new Map<string, string[]>();
  for (const n of lone) deps.set(n, []);
  for (const [a, b] of edges) {
    if (!deps.has(a)) deps.set(a, []);
    if (!deps.has(b)) deps.set(b, []);
    deps.get(a)!.push(b);
  }
  return { services: [...deps].map(([name, dependsOn]) => ({ name, dependsOn })) };
}

export function incidents(effects: readonly CorrelationEffect[]): Incident[] {
  return effects.flatMap((e) => (e.type === 'incident' ? [e.incident] : []));
}

export function notices(effects: readonly CorrelationEffect[]): IncidentNotification[] {
  return effects.flatMap((e) => (e.type === 'notify' ? [e.notification] : []));
}

/** The last state of each incident among the effects, by id. */
export function lastStates(effects: readonly CorrelationEffect[]): Map<string, Incident> {
  const out = new Map<string, Incident>();
  for (const inc of incidents(effects)) out.set(inc.id, inc);
  return out;
}
