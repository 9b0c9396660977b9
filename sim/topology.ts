// The simulated application: services, what they call, and their healthy levels.
// A service's latency includes the calls it makes, so slowness in a dependency shows
// upstream (see propagation.ts).
import type { Topology } from '../protocols/index.ts';

export interface Dependency {
  service: string;
  /** calls per request into that dependency (its latency counts this many times) */
  calls: number;
}

export interface ServiceSpec {
  name: string;
  dependsOn: Dependency[];
  /** the service's own work per request at the daily mean, ms (calls excluded) */
  ownLatencyMs: number;
  /** fraction of requests that fail when healthy */
  errorRate: number;
  /** requests per second at the daily mean */
  rps: number;
}

/** A small web shop: frontend → checkout → payments/inventory → db, frontend → catalog → db. */
export const SHOP_SERVICES: readonly ServiceSpec[] = [
  { name: 'frontend', dependsOn: [{ service: 'checkout', calls: 0.3 }, { service: 'catalog', calls: 1 }], ownLatencyMs: 20, errorRate: 0.002, rps: 400 },
  { name: 'catalog', dependsOn: [{ service: 'db', calls: 2 }], ownLatencyMs: 12, errorRate: 0.001, rps: 400 },
  { name: 'checkout', dependsOn: [{ service: 'payments', calls: 1 }, { service: 'inventory', calls: 1 }], ownLatencyMs: 25, errorRate: 0.003, rps: 120 },
  { name: 'payments', dependsOn: [], ownLatencyMs: 60, errorRate: 0.004, rps: 120 },
  { name: 'inventory', dependsOn: [{ service: 'db', calls: 3 }], ownLatencyMs: 10, errorRate: 0.001, rps: 120 },
  { name: 'db', dependsOn: [], ownLatencyMs: 4, errorRate: 0.0005, rps: 1160 },
];

/** The topology as the API stores it (PUT /v1/topology). */
export function topologyOf(services: readonly ServiceSpec[]): Topology {
  return { services: services.map((s) => ({ name: s.name, dependsOn: s.dependsOn.map((d) => d.service) })) };
}

/** Services that call `name`, directly or not (the blast radius of a fault in it). */
export function upstreamOf(services: readonly ServiceSpec[], name: string): string[] {
  const out = new Set<string>();
  const visit = (target: string): void => {
    for (const s of services) {
      if (s.dependsOn.some((d) => d.service === target) && !out.has(s.name)) {
        out.add(s.name);
        visit(s.name);
      }
    }
  };
  visit(name);
  return [...out];
}
