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
  const frontier = [...alerts];
  for (const s of alerts) reached[s] = 1;
  while (frontier.length > 0) {
    const u = frontier.pop()!;
    for (const c of g.callees[u]!) if (!reached[c] && anomalous(c)) { reached[c] = 1; frontier.push(c); }
  }
  const restart = new Float64Array(g.size);
  for (let u = 0; u < g.size; u++) {
    if (!reached[u]) continue;
    if (anomalous(u)) restart[u] = a(u);
    for (const p of g.callers[u]!) if (anomalous(p)) restart[p] = a(p);
  }
  for (const s of alerts) restart[s] = Math.max(restart[s]!, 1);

  // Steps: to a dependency by its anomaly times the share of this service's excess it
  // explains; back to a caller, weakly; stay by the anomaly nothing below explains.
  const share = (u: number, c: number): number => {
    const eu = ev[u];
    const ec = ev[c];
    return eu && ec ? explainedShare(eu, ec) : ec && anomalous(c) ? 1 : 0;
  };
  const targets: number[][] = [];
  const weights: number[][] = [];
  const explained = new Float64Array(g.size);
  for (let u = 0; u < g.size; u++) {
    const to: number[] = [];
    const w: number[] = [];
    let strongest = 0;
    for (const c of g.callees[u]!) {
      const x = a(c) * share(u, c);
      if (x > 0) { to.push(c); w.push(x); }
      strongest = Math.max(strongest, x);
    }
    for (const p of g.callers[u]!) {
      const x = DEFAULT_BACKWARD_WEIGHT * a(p);
      if (x > 0) { to.push(p); w.push(x); }
    }
    const stay = Math.max(0, a(u) - strongest);
    if (stay > 0) { to.push(u); w.push(stay); }
    targets.push(to);
    weights.push(w);
    explained[u] = strongest;
  }
  const pi = personalisedWalk({ targets, weights }, restart);

  // Own deviation: what the dependencies do not account for.
  let maxPi = 0;
  let maxOwn = 0;
  const own = new Float64Array(g.size);
  for (const v of candidates) {
    own[v] = (ev[v]?.deviation ?? 0) * (1 - explained[v]!);
    maxPi = Math.max(maxPi, pi[v]!);
    maxOwn = Math.max(maxOwn, own[v]!);
  }
  const pathStrength = strongestPaths(g, alerts, candidates, a);
  return candidates.map((v) => {
    const onPath = reached[v] === 1;
    const walkPart = maxPi > 0 ? pi[v]! / maxPi : 0;
    const ownPart = maxOwn > 0 ? (own[v]! / maxOwn) ** DEFAULT_DEVIATION_POWER : 0;
    // on the anomalous subgraph: (0.5, 1]; elsewhere [0, 0.5)
    const score = onPath ? 0.5 + 0.5 * walkPart * ownPart : 0.5 * a(v) * pathStrength[v]! * 0.999;
    return { node: v, score, onAnomalousPath: onPath };
  });
}

/**
 * For each service, the best product of anomaly scores of the services between the alerts
 * and it (1 for the alerts and their direct dependencies): how plausibly trouble there
 * could have reached the alerts. Scores are at most 1, so products only shrink along a
 * path, and a label-setting search (Dijkstra on -log) finds the best one.
 */
function strongestPaths(g: CallGraph, alerts: readonly number[], candidates: readonly number[], a: (i: number) => number): Float64Array {
  const best = new Float64Array(g.size);
  const done = new Uint8Array(g.size);
  for (const s of alerts) best[s] = 1;
  for (;;) {
    // candidates hold everything the alerts reach; a scan is enough at these sizes
    let u = -1;
    for (const i of candidates) if (!done[i] && best[i]! > 0 && (u < 0 || best[i]! > best[u]!)) u = i;
    if (u < 0) break;
    done[u] = 1;
    const through = alerts.includes(u) ? 1 : best[u]! * a(u);
    for (const c of g.callees[u]!) if (!done[c] && through > best[c]!) best[c] = through;
  }
  return best;
}
