// The embedded GraphStore: one graphology graph per tenant in memory (tenants cannot see each
// other: they do not share a graph), each persisted to its own file on every change. Writes
// to one tenant's file are coalesced: changes that arrive while a write runs share the next.
import { VigilError } from '../../protocols/index.ts';
import type { Topology } from '../../protocols/index.ts';
import { readGraphFiles, writeGraphFile } from './graph-file.ts';
import {
  addDependencies, addServices, emptyGraph, fromStored, fromTopology, neighboursOf, subgraphOf, toStored, toTopology, walk,
} from './tenant-graph.ts';
import type { TenantGraph } from './tenant-graph.ts';
import { byName, checkHops, checkName, checkSeeds } from './types.ts';
import type { Dependency, GraphStore, Neighbours, ServiceHop, Subgraph } from './types.ts';

export interface EmbeddedGraphOptions {
  /** Folder for the tenants' topology files (created if missing). */
  dir: string;
}

export class EmbeddedGraphStore implements GraphStore {
  private readonly graphs = new Map<string, TenantGraph>();
  private readonly savers = new Map<string, CoalescedWrite>();
  private closed = false;

  private constructor(private readonly dir: string) {}

  /** Loads every tenant's file; a damaged file rejects with an error naming it. */
  static async open(options: EmbeddedGraphOptions): Promise<EmbeddedGraphStore> {
    const store = new EmbeddedGraphStore(options.dir);
    for (const [tenant, services] of await readGraphFiles(options.dir)) store.graphs.set(tenant, fromStored(services));
    return store;
  }

  async upsertServices(tenant: string, services: readonly string[]): Promise<void> {
    checkName('tenant', tenant);
    for (const s of services) checkName('service', s);
    const g = this.graphFor(tenant);
    if (addServices(g, services)) await this.save(tenant);
  }

  async upsertDependencies(tenant: string, dependencies: readonly Dependency[]): Promise<void> {
    checkName('tenant', tenant);
    for (const d of dependencies) {
      checkName('dependency.from', d.from);
      checkName('dependency.to', d.to);
    }
    const g = this.graphFor(tenant);
    if (addDependencies(g, dependencies)) await this.save(tenant);
  }

  async replaceTopology(tenant: string, topology: Topology): Promise<void> {
    checkName('tenant', tenant);
    for (const s of topology.services) {
      checkName('service', s.name);
      for (const d of s.dependsOn) checkName(`${s.name}.dependsOn`, d);
    }
    this.open();
    this.graphs.set(tenant, fromTopology(topology));
    await this.save(tenant);
  }

  async topology(tenant: string): Promise<Topology> {
    const g = this.graphs.get(tenant);
    return g ? toTopology(g) : { services: [] };
  }

  async neighbours(tenant: string, service: string): Promise<Neighbours> {
    const g = this.graphs.get(tenant);
    return g ? neighboursOf(g, service) : { upstream: [], downstream: [] };
  }

  async upstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]> {
    checkHops(hops);
    const g = this.graphs.get(tenant);
    return g ? walk(g, service, hops, 'in') : [];
  }

  async downstream(tenant: string, service: string, hops: number): Promise<ServiceHop[]> {
    checkHops(hops);
    const g = this.graphs.get(tenant);
    return g ? walk(g, service, hops, 'out') : [];
  }

  async subgraph(tenant: string, services: readonly string[], hops: number): Promise<Subgraph> {
    checkHops(hops);
    checkSeeds(services);
    const g = this.graphs.get(tenant);
    return g ? subgraphOf(g, services, hops) : { services: [], dependencies: [] };
  }

  async tenants(): Promise<string[]> {
    return [...this.graphs.keys()].sort(byName);
  }

  /** Waits for writes under way; later changes are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.savers.values()].map((s) => s.idle()));
  }

  private open(): void {
    if (this.closed) throw new VigilError('UNAVAILABLE', 'graph store is closed');
  }

  private graphFor(tenant: string): TenantGraph {
    this.open();
    let g = this.graphs.get(tenant);
    if (!g) {
      g = emptyGraph();
      this.graphs.set(tenant, g);
    }
    return g;
  }

  private save(tenant: string): Promise<void> {
    let saver = this.savers.get(tenant);
    if (!saver) {
      saver = new CoalescedWrite(async () => {
        const g = this.graphs.get(tenant);
        if (!g) return;
        try {
          await writeGraphFile(this.dir, tenant, toStored(g));
        } catch (err) {
          throw new VigilError('UNAVAILABLE', `topology of ${tenant}: could not be written under ${this.dir}`, { cause: err });
        }
      });
      this.savers.set(tenant, saver);
    }
    return saver.request();
  }
}

/**
 * Runs `write` so that every request is covered by a write that started after it, with at
 * most one write running and one waiting: requests made while one runs share the next.
 */
export class CoalescedWrite {
  private running: Promise<void> | undefined;
  private waiting: Promise<void> | undefined;

  constructor(private readonly write: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.waiting) return this.waiting;
    const after = this.running ?? Promise.resolve();
    const next: Promise<void> = after.then(noop, noop).then(async () => {
      this.waiting = undefined;
      this.running = next;
      try {
        await this.write();
      } finally {
        if (this.running === next) this.running = undefined;
      }
    });
    this.waiting = next;
    return next;
  }

  /** Settles when nothing is running or waiting. */
  async idle(): Promise<void> {
    while (this.waiting ?? this.running) await (this.waiting ?? this.running)!.then(noop, noop);
  }
}

function noop(): void {}
