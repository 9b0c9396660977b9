// Per-service evidence from per-series anomalies, and the counterfactual question the
// causal level asks of each call: how much of the caller's excess does the callee's
// excess account for, at the moment the caller was worst?
import { DEFAULT_ANOMALY_BOUND, DEFAULT_DEVIATION_BOUND } from './constants.ts';
import type { CallGraph } from './graph.ts';
import type { SeriesAnomaly } from './types.ts';

export interface ServiceEvidence {
  /** strongest series score, in [0, 1] */
  score: number;
  /** largest deviation among its series */
  deviation: number;
  /** earliest onset among its anomalous series */
  onset?: number;
  series: SeriesAnomaly[];
  byMetric: Map<string, SeriesAnomaly>;
}

/** A deviation (robust z) as a score in [0, 1): z^2 / (z^2 + bound^2), 0.5 at the bound. */
export function squash(deviation: number, bound = DEFAULT_DEVIATION_BOUND): number {
  if (!(deviation > 0)) return 0;
  const z2 = deviation * deviation;
  return z2 / (z2 + bound * bound);
}

export function serviceEvidence(graph: CallGraph, anomalies: readonly SeriesAnomaly[]): Array<ServiceEvidence | undefined> {
  const out: Array<ServiceEvidence | undefined> = new Array(graph.size);
  for (const a of anomalies) {
    const i = graph.index.get(a.service);
    if (i === undefined) continue;
    let ev = out[i];
    if (!ev) out[i] = ev = { score: 0, deviation: 0, series: [], byMetric: new Map() };
    ev.series.push(a);
    const prior = ev.byMetric.get(a.metric);
    if (!prior || a.score > prior.score) ev.byMetric.set(a.metric, a);
    ev.score = Math.max(ev.score, a.score);
    ev.deviation = Math.max(ev.deviation, a.deviation);
    if (a.score >= DEFAULT_ANOMALY_BOUND && a.onset !== undefined) ev.onset = ev.onset === undefined ? a.onset : Math.min(ev.onset, a.onset);
  }
  for (const ev of out) ev?.series.sort((x, y) => y.score - x.score || y.deviation - x.deviation);
  return out;
}

/**
 * Share in [0, 1] of `caller`'s excess that `callee` accounts for: the best, over the
 * metrics both report, of callee excess / caller excess at the caller's peak. A callee
 * that is not anomalous, or became anomalous after its caller, explains nothing (a cause
 * precedes its effect). Without excess samples to compare, the share is 1: an anomalous dependency is
 * taken to explain its caller, as in an anomaly traversal.
 */
export function explainedShare(caller: ServiceEvidence, callee: ServiceEvidence): number {
  if (callee.score < DEFAULT_ANOMALY_BOUND) return 0;
  if (caller.onset !== undefined && callee.onset !== undefined && callee.onset > caller.onset) return 0;
  let best = 0;
  let compared = false;
  for (const [metric, up] of caller.byMetric) {
    const down = callee.byMetric.get(metric);
    if (!down || !up.excess || !down.excess) continue;
    compared = true;
    const top = excessAt(up.excess, up.peakAt);
    if (!(top > 0)) continue;
    best = Math.max(best, Math.min(1, Math.max(0, excessAt(down.excess, up.peakAt) / top)));
  }
  return compared ? best : 1;
}

/** The excess at `t`, or at the sample nearest to it. */
function excessAt(samples: ReadonlyArray<[number, number]>, t: number): number {
  let best = NaN;
  let gap = Infinity;
  for (const [ts, v] of samples) {
    const d = Math.abs(ts - t);
    if (d < gap) { gap = d; best = v; }
  }
  return best;
}
