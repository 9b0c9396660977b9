// L2, rule-based: the earliest anomalous service among those the alerts depend on; at
// equal onsets, one none of whose dependencies is anomalous (the end of the trail), then
// the larger deviation. Candidates that are not anomalous follow, by score.
import { DEFAULT_ANOMALY_BOUND } from './constants.ts';
import type { Scored } from './causal.ts';
import type { ServiceEvidence } from './evidence.ts';
import type { CallGraph } from './graph.ts';

export function ruleRanking(g: CallGraph, ev: ReadonlyArray<ServiceEvidence | undefined>, candidates: readonly number[]): Scored[] {
  const anomalous = (i: number): boolean => (ev[i]?.score ?? 0) >= DEFAULT_ANOMALY_BOUND;
  const endOfTrail = (i: number): boolean => !g.callees[i]!.some(anomalous);
  const order = [...candidates].sort((x, y) => {
    const ax = anomalous(x), ay = anomalous(y);
    if (ax !== ay) return ax ? -1 : 1;
    if (!ax) return (ev[y]?.score ?? 0) - (ev[x]?.score ?? 0);
    const ox = ev[x]!.onset ?? Infinity, oy = ev[y]!.onset ?? Infinity;
    if (ox !== oy) return ox - oy;
    const ex = endOfTrail(x), ey = endOfTrail(y);
    if (ex !== ey) return ex ? -1 : 1;
    return ev[y]!.deviation - ev[x]!.deviation;
  });
  const n = order.length;
  return order.map((v, k) => ({ node: v, score: (n - k) / n, onAnomalousPath: anomalous(v) }));
}
