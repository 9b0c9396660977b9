// The topology graph's face: services and their dependencies per tenant, and the walks RCA
// and correlation need. Every adapter (graphology embedded, Memgraph) answers the same way.
import { VigilError } from '../../protocols/index.ts';
import type { Topology } from '../../protocols/index.ts';

/** `from` depends on (calls) `to`. Faults travel against the arrow: from `to` up to `from`. */
export interface Dependency {
  from: string;
  to: string;
}

/** A service reached by a walk, with its distance (shortest, in hops) from the start. */
export interface ServiceHop {
  name: string;
  hops: number;
}

/** Direct neighbours: `upstream` call the service, `downstream` are what it calls. */
export interface Neighbours {
  upstream: string[];
  downstream: string[];
}

/** The part of a tenant's graph around some services (an incident), sorted by name. */
export interface Subgraph {
  services: string[];
  dependencies: Dependency[];
}

export interface GraphStore {
  /** Adds services (known ones are kept as they are). Durable when the promise resolves. */
  upsertServices(tenant: string, services: readonly string[]): Promise<void>;
  /** Adds dependencies (idempotent); an endpoint not yet known becomes a service. */
  upsertDependencies(tenant: string, dependencies: readonly Dependency[]): Promise<void>;
  /** Replaces the tenant's whole topology (what `PUT /v1/topology` does). */
  replaceTopology(tenant: string, topology: Topology): Promise<void>;
  /**
   * The tenant's topology: declared services in the order they were first given, then
   * services only named as a dependency (with no dependencies of their own), none for a tenant
   * never written.
   */
  topology(tenant: string): Promise<Topology>;
  /** Direct callers and dependencies, sorted by name; empty lists for an unknown service. */
  neighbours(tenant: string, service: string): Promise<Neighbours>;
  /** Services that depend on `service` within `hops` (the blast radius), nearest first, then by name. */
  upstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]>;
  /** Services `service` depends on within `hops` (candidate causes), nearest first, then by name. */
  downstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]>;
  /**
   * The given services, everything upstream or downstream of any of them within `hops`, and
   * the dependencies among those. Unknown services are left out.
   */
  subgraph(tenant: string, services: readonly string[], hops: number): Promise<Subgraph>;
  /** Tenants with a topology (for backups and the admin view). */
  tenants(): Promise<string[]>;
  close(): Promise<void>;
}

/** Deepest walk a query may ask for: bounds the work one request can cause. */
export const MAX_HOPS = 16;
/** Services one subgraph query may start from. */
export const MAX_SUBGRAPH_SEEDS = 1_000;

export function checkHops(hops: number): number {
  if (!Number.isInteger(hops) || hops < 0 || hops > MAX_HOPS) {
    throw new VigilError('BAD_REQUEST', `hops must be an integer 0..${MAX_HOPS} (got ${String(hops)})`);
  }
  return hops;
}

export function checkName(what: string, name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new VigilError('BAD_REQUEST', `${what} must be a non-empty string`);
  }
  return name;
}

export function checkSeeds(services: readonly string[]): readonly string[] {
  if (services.length > MAX_SUBGRAPH_SEEDS) {
    throw new VigilError('BAD_REQUEST', `subgraph: at most ${MAX_SUBGRAPH_SEEDS} services (got ${services.length})`);
  }
  for (const s of services) checkName('service', s);
  return services;
}

/** Nearest first, then by name: the order every adapter returns walks in. */
export function byHopsThenName(a: ServiceHop, b: ServiceHop): number {
  return a.hops - b.hops || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byEdge(a: Dependency, b: Dependency): number {
  return byName(a.from, b.from) || byName(a.to, b.to);
}
