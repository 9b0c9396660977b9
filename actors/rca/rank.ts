// The entry point: rank the services an incident's alerts depend on, at a degradation level.
import { VigilError } from '../../protocols/index.ts';
import { DEFAULT_ANOMALY_BOUND } from './constants.ts';
import { causalRanking, type Scored } from './causal.ts';
import { correlatedRanking } from './correlated.ts';
import { serviceEvidence, type ServiceEvidence } from './evidence.ts';
import { CallGraph } from './graph.ts';
import { ruleRanking } from './rules.ts';
import type { CauseEvidence, RankedCause, RcaInput, RcaOptions, RcaResult } from './types.ts';

export function rankRootCauses(input: RcaInput, options: RcaOptions = {}): RcaResult {
  check(input);
  const level = options.level ?? 'L0';
  const g = CallGraph.of(input.topology, [...input.alerts, ...input.anomalies.map((a) => a.service)]);
  const ev = serviceEvidence(g, input.anomalies);
  const alerts = [...new Set(input.alerts)].map((s) => g.index.get(s)!);
  const candidates = g.closure(alerts);
  let scored: Scored[];
  switch (level) {
    case 'L0': scored = causalRanking(g, ev, alerts, candidates); break;
    case 'L1': scored = correlatedRanking(g, ev, alerts, candidates, input.windows ?? []); break;
    case 'L2': scored = ruleRanking(g, ev, candidates); break;
    default: throw new VigilError('BAD_REQUEST', `unknown RCA level ${String(level)} (known: L0, L1, L2)`);
  }
  // Equal scores: the larger deviation, then the name, so a ranking never depends on input order.
  scored.sort((x, y) => y.score - x.score || (ev[y.node]?.deviation ?? 0) - (ev[x.node]?.deviation ?? 0) || (g.names[x.node]! < g.names[y.node]! ? -1 : 1));
  const limit = options.limit ?? scored.length;
  const causes: RankedCause[] = scored.slice(0, limit).map((s, k) => ({
    service: g.names[s.node]!, rank: k + 1, score: s.score, onAnomalousPath: s.onAnomalousPath, evidence: evidenceOf(ev[s.node]),
  }));
  return { level, candidates: candidates.length, causes };
}

function evidenceOf(ev: ServiceEvidence | undefined): CauseEvidence[] {
  if (!ev) return [];
  const strong = ev.series.filter((s) => s.score >= DEFAULT_ANOMALY_BOUND);
  return (strong.length > 0 ? strong : ev.series.slice(0, 1)).map((s) => ({
    metric: s.metric, direction: s.direction, ...(s.onset !== undefined ? { onset: s.onset } : {}), peakAt: s.peakAt, deviation: s.deviation, score: s.score,
  }));
}

function check(input: RcaInput): void {
  if (input.alerts.length === 0) throw new VigilError('BAD_REQUEST', 'rca: an incident needs at least one alerting service');
  for (const a of input.anomalies) {
    if (!(a.score >= 0 && a.score <= 1)) throw new VigilError('BAD_REQUEST', `rca: score of ${a.service}/${a.metric} must be in [0, 1] (got ${a.score})`);
    if (!Number.isFinite(a.deviation) || a.deviation < 0) throw new VigilError('BAD_REQUEST', `rca: deviation of ${a.service}/${a.metric} must be a finite number >= 0 (got ${a.deviation})`);
  }
}
