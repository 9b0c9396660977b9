// What correlation needs of a tenant's dependency graph: is a service in it, and which
// services lie within k hops of it (either direction: a fault travels up to callers, and two
// callers of one failing dependency are related through it). Read-only and synchronous, so
// the pure core can ask it per alert; the actor builds it from the topology it loaded.
import type { Topology } from '../../protocols/index.ts';

export interface TopologyView {
  /** true when the service is in the tenant's topology */
  has(service: string): boolean;
  /** services within `hops` of `service` in either direction, itself included; empty when unknown */
  near(service: string, hops: number): ReadonlySet<string>;
}

/** No topology: every service is unknown, so grouping falls back to time. */
export const NO_TOPOLOGY: TopologyView = { has: () => false, near: () => new Set() };

/** Neighbourhoods remembered per index (each is a BFS; 5K services with k = 2 is ~µs). */
const NEAR_CACHE = 10_000;

export class TopologyIndex implements TopologyView {
  private readonly adjacent = new Map<string, string[]>();
  private readonly cache = new Map<string, ReadonlySet<string>>();

  constructor(topology: Topology) {
    const link = (a: string, b: string): void => {
      let list = this.adjacent.get(a);
      if (!list) this.adjacent.set(a, (list = []));
      if (a !== b) list.push(b);
    };
    for (const s of topology.services) {
      link(s.name, s.name);
      for (const d of s.dependsOn) {
        link(s.name, d);
        link(d, s.name);
      }
    }
  }

  get size(): number {
    return this.adjacent.size;
  }

  has(service: string): boolean {
    return this.adjacent.has(service);
  }

  near(service: string, hops: number): ReadonlySet<string> {
    const key = `${hops}\u0000${service}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const seen = new Set<string>();
    if (this.adjacent.has(service)) {
      seen.add(service);
      let frontier = [service];
      for (let h = 0; h < hops && frontier.length > 0; h++) {
        const next: string[] = [];
        for (const s of frontier) {
          for (const n of this.adjacent.get(s)!) {
            if (!seen.has(n)) {
              seen.add(n);
              next.push(n);
            }
          }
        }
        frontier = next;
      }
    }
    if (this.cache.size >= NEAR_CACHE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, seen);
    return seen;
  }
}
