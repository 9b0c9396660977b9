// L0, causal: an anomaly-weighted random walk on the call graph (after MicroRCA) whose
// steps ask the counterfactual question of evidence.ts (does this dependency account for
// its caller's excess, and did it go wrong first?), combined with each service's own,
// unexplained deviation (after CIRCA's adjustment for a node's causes, and BARO's ranking
// by robust deviation). Services that the alerts reach through anomalous services come
// first; the rest follow by their own evidence times how anomalous the way to them is.
import { DEFAULT_ANOMALY_BOUND, DEFAULT_BACKWARD_WEIGHT, DEFAULT_DEVIATION_POWER } from './constants.ts';
import { explainedShare, type ServiceEvidence } from './evidence.ts';
import type { CallGraph } from './graph.ts';
import { personalisedWalk } from './walk.ts';

export interface Scored {
  node: number;
  score: number;
  onAnomalousPath: boolean;
}

export function causalRanking(g: CallGraph, ev: ReadonlyArray<ServiceEvidence | undefined>, alerts: readonly number[], candidates: readonly number[]): Scored[] {
  const a = (i: number): number => ev[i]?.score ?? 0;
  const anomalous = (i: number): boolean => a(i) >= DEFAULT_ANOMALY_BOUND;

  // The anomalous subgraph: the alerts, the anomalous services they reach through
  // anomalous services, and the anomalous callers of those (a shared dependency's other
  // callers are part of its case).
  const reached = new Uint8Array(g.size);
  const onPath = [...alerts];
  for (const s of alerts) reached[s] = 1;
  for (let k = 0; k < onPath.length; k++) {
    for (const c of g.callees[onPath[k]!]!) if (!reached[c] && anomalous(c)) { reached[c] = 1; onPath.push(c); }
  }
  const restartOf = new Map<number, number>();
  for (const u of onPath) {
    if (anomalous(u)) restartOf.set(u, a(u));
    for (const p of g.callers[u]!) if (anomalous(p)) restartOf.set(p, a(p));
  }
  for (const s of alerts) restartOf.set(s, Math.max(restartOf.get(s) ?? 0, 1));

  // Steps: to a dependency by its anomaly times the share of this service's excess it
  // explains; back to a caller, weakly; stay by the anomaly nothing below explains. Every
  // step leads to a service with some anomaly, so the walk needs only those and the
  // restart points (a few hundred of 5,000 services, typically).
  const share = (u: number, c: number): number => {
    const eu = ev[u];
    const ec = ev[c];
    return eu && ec ? explainedShare(eu, ec) : ec && anomalous(c) ? 1 : 0;
  };
  const explainedBelow = (u: number): number => {
    let strongest = 0;
    for (const c of g.callees[u]!) if (a(c) > 0) strongest = Math.max(strongest, a(c) * share(u, c));
    return strongest;
  };
  const nodes = [...new Set([...restartOf.keys(), ...ev.flatMap((e, i) => (e && e.score > 0 ? [i] : []))])];
  const local = new Map(nodes.map((u, k) => [u, k]));
  const targets: number[][] = [];
  const weights: number[][] = [];
  const explained = new Float64Array(g.size);
  for (const u of nodes) {
    const to: number[] = [];
    const w: number[] = [];
    for (const c of g.callees[u]!) {
      const x = a(c) * share(u, c);
      if (x > 0) { to.push(local.get(c)!); w.push(x); }
    }
    for (const p of g.callers[u]!) {
      const x = DEFAULT_BACKWARD_WEIGHT * a(p);
      if (x > 0) { to.push(local.get(p)!); w.push(x); }
    }
    explained[u] = explainedBelow(u);
    const stay = Math.max(0, a(u) - explained[u]!);
    if (stay > 0) { to.push(local.get(u)!); w.push(stay); }
    targets.push(to);
    weights.push(w);
  }
  const restart = Float64Array.from(nodes, (u) => restartOf.get(u) ?? 0);
  const visits = personalisedWalk({ targets, weights }, restart);
  const pi = (u: number): number => {
    const k = local.get(u);
    return k === undefined ? 0 : visits[k]!;
  };

  // Own deviation: what the dependencies do not account for.
  let maxPi = 0;
  let maxOwn = 0;
  const own = new Float64Array(g.size);
  for (const v of candidates) {
    own[v] = (ev[v]?.deviation ?? 0) * (1 - (local.has(v) ? explained[v]! : ev[v] ? explainedBelow(v) : 0));
    maxPi = Math.max(maxPi, pi(v));
    maxOwn = Math.max(maxOwn, own[v]!);
  }
  const pathStrength = strongestPaths(g, alerts, a);
  return candidates.map((v) => {
    const onAnomalousPath = reached[v] === 1;
    const walkPart = maxPi > 0 ? pi(v) / maxPi : 0;
    const ownPart = maxOwn > 0 ? (own[v]! / maxOwn) ** DEFAULT_DEVIATION_POWER : 0;
    // on the anomalous subgraph: (0.5, 1]; elsewhere [0, 0.5)
    const score = onAnomalousPath ? 0.5 + 0.5 * walkPart * ownPart : 0.5 * a(v) * pathStrength[v]! * 0.999;
    return { node: v, score, onAnomalousPath };
  });
}

/**
 * For each service, the best product of anomaly scores of the services between the alerts
 * and it (1 for the alerts and their direct dependencies): how plausibly trouble there
 * could have reached the alerts. Scores are at most 1, so products only shrink along a
 * path, and a label-setting search (Dijkstra on -log) finds the best one.
 */
function strongestPaths(g: CallGraph, alerts: readonly number[], a: (i: number) => number): Float64Array {
  const best = new Float64Array(g.size);
  const done = new Uint8Array(g.size);
  for (const s of alerts) best[s] = 1;
  const isAlert = new Set(alerts);
  const open = new Set(alerts);
  while (open.size > 0) {
    let u = -1;
    for (const i of open) if (u < 0 || best[i]! > best[u]!) u = i;
    open.delete(u);
    done[u] = 1;
    const through = isAlert.has(u) ? 1 : best[u]! * a(u);
    if (through === 0) continue;
    for (const c of g.callees[u]!) if (!done[c] && through > best[c]!) { best[c] = through; open.add(c); }
  }
  return best;
}
