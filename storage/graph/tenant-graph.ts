// One tenant's topology as a graphology graph, and the walks over it. Pure: no I/O.
// A node is `declared` when it was given as a service; a node only named as a dependency is
// kept apart so `PUT` then `GET /v1/topology` gives back exactly what was put.
import { DirectedGraph } from 'graphology';
import type { Topology } from '../../protocols/index.ts';
import { byEdge, byHopsThenName, byName } from './types.ts';
import type { Dependency, Neighbours, ServiceHop, Subgraph } from './types.ts';

export interface ServiceAttrs {
  declared: boolean;
  [key: string]: unknown;
}

export type TenantGraph = DirectedGraph<ServiceAttrs>;

/** A node as the graph file stores it, in the graph's order. */
export interface StoredService {
  name: string;
  dependsOn: string[];
  implied?: true;
}

export function emptyGraph(): TenantGraph {
  return new DirectedGraph<ServiceAttrs>({ allowSelfLoops: true });
}

export function fromTopology(topology: Topology): TenantGraph {
  const g = emptyGraph();
  for (const s of topology.services) g.mergeNode(s.name, { declared: true });
  for (const s of topology.services) for (const d of s.dependsOn) link(g, s.name, d);
  return g;
}

export function toTopology(g: TenantGraph): Topology {
  const declared: Topology['services'] = [];
  const implied: Topology['services'] = [];
  g.forEachNode((name, attrs) => {
    (attrs.declared ? declared : implied).push({ name, dependsOn: g.outNeighbors(name) });
  });
  return { services: [...declared, ...implied] };
}

export function toStored(g: TenantGraph): StoredService[] {
  const out: StoredService[] = [];
  g.forEachNode((name, attrs) => {
    const s: StoredService = { name, dependsOn: g.outNeighbors(name) };
    if (!attrs.declared) s.implied = true;
    out.push(s);
  });
  return out;
}

export function fromStored(services: readonly StoredService[]): TenantGraph {
  const g = emptyGraph();
  for (const s of services) g.addNode(s.name, { declared: s.implied !== true });
  for (const s of services) for (const d of s.dependsOn) g.addEdge(s.name, d);
  return g;
}

/** True when the graph changed. */
export function addServices(g: TenantGraph, names: readonly string[]): boolean {
  let changed = false;
  for (const name of names) {
    if (!g.hasNode(name)) {
      g.addNode(name, { declared: true });
      changed = true;
    } else if (!g.getNodeAttribute(name, 'declared')) {
      g.setNodeAttribute(name, 'declared', true);
      changed = true;
    }
  }
  return changed;
}

/** True when the graph changed. */
export function addDependencies(g: TenantGraph, deps: readonly Dependency[]): boolean {
  let changed = false;
  for (const d of deps) changed = link(g, d.from, d.to) || changed;
  return changed;
}

function link(g: TenantGraph, from: string, to: string): boolean {
  if (!g.hasNode(from)) g.addNode(from, { declared: false });
  if (!g.hasNode(to)) g.addNode(to, { declared: false });
  if (g.hasDirectedEdge(from, to)) return false;
  g.addDirectedEdge(from, to);
  return true;
}

export function neighboursOf(g: TenantGraph, service: string): Neighbours {
  if (!g.hasNode(service)) return { upstream: [], downstream: [] };
  return {
    upstream: g.inNeighbors(service).filter((n) => n !== service).sort(byName),
    downstream: g.outNeighbors(service).filter((n) => n !== service).sort(byName),
  };
}

/** Breadth-first from `start` along (`out`) or against (`in`) the arrows; `start` itself excluded. */
export function walk(g: TenantGraph, start: string, hops: number, direction: 'in' | 'out'): ServiceHop[] {
  if (!g.hasNode(start) || hops === 0) return [];
  const seen = new Map<string, number>([[start, 0]]);
  let frontier = [start];
  for (let depth = 1; depth <= hops && frontier.length > 0; depth++) {
    const next: string[] = [];
    const visit = (n: string): void => {
      if (!seen.has(n)) {
        seen.set(n, depth);
        next.push(n);
      }
    };
    for (const node of frontier) {
      if (direction === 'out') g.forEachOutNeighbor(node, visit);
      else g.forEachInNeighbor(node, visit);
    }
    frontier = next;
  }
  seen.delete(start);
  return [...seen].map(([name, h]) => ({ name, hops: h })).sort(byHopsThenName);
}

export function subgraphOf(g: TenantGraph, seeds: readonly string[], hops: number): Subgraph {
  const start = seeds.filter((s) => g.hasNode(s));
  const keep = new Set<string>(start);
  for (const n of reach(g, start, hops, 'in')) keep.add(n);
  for (const n of reach(g, start, hops, 'out')) keep.add(n);
  const dependencies: Dependency[] = [];
  for (const from of keep) {
    g.forEachOutNeighbor(from, (to) => {
      if (keep.has(to)) dependencies.push({ from, to });
    });
  }
  return { services: [...keep].sort(byName), dependencies: dependencies.sort(byEdge) };
}

/** Every node within `hops` of any start node, one breadth-first pass for all of them. */
function reach(g: TenantGraph, start: readonly string[], hops: number, direction: 'in' | 'out'): Set<string> {
  const seen = new Set<string>(start);
  let frontier = [...seen];
  for (let depth = 1; depth <= hops && frontier.length > 0; depth++) {
    const next: string[] = [];
    const visit = (n: string): void => {
      if (!seen.has(n)) {
        seen.add(n);
        next.push(n);
      }
    };
    for (const node of frontier) {
      if (direction === 'out') g.forEachOutNeighbor(node, visit);
      else g.forEachInNeighbor(node, visit);
    }
    frontier = next;
  }
  return seen;
}
