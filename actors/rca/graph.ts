// The tenant's call graph as index arrays (services by number): cheap to walk at 5,000
// services. Edges point from caller to callee, so a fault travels against them.
import type { Topology } from '../../protocols/index.ts';

const built = new WeakMap<Topology, CallGraph>();

export class CallGraph {
  readonly names: string[] = [];
  readonly index = new Map<string, number>();
  readonly callees: number[][] = [];
  readonly callers: number[][] = [];

  /**
   * The graph of a topology, built once per topology object: an incident is ranked again
   * as alerts join, and a tenant's topology changes far more rarely (a changed topology
   * must be a new object, not one edited in place). Services named only in `extra`
   * (alerts, evidence) join a fresh copy as plain nodes.
   */
  static of(topology: Topology, extra: Iterable<string> = []): CallGraph {
    let g = built.get(topology);
    if (!g) {
      g = CallGraph.build(topology, []);
      built.set(topology, g);
    }
    const missing = [...extra].filter((n) => !g.index.has(n));
    return missing.length === 0 ? g : CallGraph.build(topology, missing);
  }

  private static build(topology: Topology, extra: Iterable<string>): CallGraph {
    const g = new CallGraph();
    for (const s of topology.services) g.add(s.name);
    for (const s of topology.services) {
      const from = g.index.get(s.name)!;
      for (const d of s.dependsOn) {
        const to = g.add(d);
        if (to === from || g.callees[from]!.includes(to)) continue;
        g.callees[from]!.push(to);
        g.callers[to]!.push(from);
      }
    }
    for (const name of extra) g.add(name);
    return g;
  }

  get size(): number {
    return this.names.length;
  }

  add(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.index.set(name, i);
      this.callees.push([]);
      this.callers.push([]);
    }
    return i;
  }

  /** `from` and everything it depends on, directly or not, in breadth-first order. */
  closure(from: readonly number[]): number[] {
    const seen = new Uint8Array(this.size);
    const out: number[] = [];
    for (const f of from) if (!seen[f]) { seen[f] = 1; out.push(f); }
    for (let i = 0; i < out.length; i++) {
      for (const c of this.callees[out[i]!]!) if (!seen[c]) { seen[c] = 1; out.push(c); }
    }
    return out;
  }
}
