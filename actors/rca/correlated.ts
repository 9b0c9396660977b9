// L1, correlation-based (not causal): a candidate ranks by its anomaly score times how
// closely its series move with the symptoms' series over the incident's window (the
// strongest |Pearson r| over its metrics and the alerts' metrics). Without windows, the
// anomaly score alone ranks (BARO's robust-deviation ranking).
import { DEFAULT_ANOMALY_BOUND } from './constants.ts';
import type { ServiceEvidence } from './evidence.ts';
import type { CallGraph } from './graph.ts';
import type { Scored } from './causal.ts';
import type { SeriesWindow } from './types.ts';

export function correlatedRanking(
  g: CallGraph, ev: ReadonlyArray<ServiceEvidence | undefined>, alerts: readonly number[], candidates: readonly number[], windows: readonly SeriesWindow[],
): Scored[] {
  const byService = new Map<number, SeriesWindow[]>();
  for (const w of windows) {
    const i = g.index.get(w.service);
    if (i === undefined) continue;
    const list = byService.get(i) ?? [];
    list.push(w);
    byService.set(i, list);
  }
  const symptoms = alerts.flatMap((s) => byService.get(s) ?? []);
  const isAlert = new Set(alerts);
  const r = new Map<number, number>();
  for (const v of candidates) {
    if (isAlert.has(v)) continue;
    const mine = byService.get(v) ?? [];
    let best = symptoms.length === 0 || mine.length === 0 ? 1 : 0;
    for (const m of mine) for (const s of symptoms) best = Math.max(best, Math.abs(pearson(m.samples, s.samples)));
    r.set(v, best);
  }
  // An alerting service is its own best explanation to the extent that no anomalous
  // dependency moves with it (its correlation with itself says nothing).
  let strongest = 0;
  for (const [v, x] of r) if ((ev[v]?.score ?? 0) >= DEFAULT_ANOMALY_BOUND) strongest = Math.max(strongest, x);
  return candidates.map((v) => ({ node: v, score: (ev[v]?.score ?? 0) * (isAlert.has(v) ? 1 - strongest : r.get(v)!), onAnomalousPath: false }));
}

/** Pearson correlation over the timestamps both series have; 0 when undefined. */
export function pearson(x: ReadonlyArray<[number, number]>, y: ReadonlyArray<[number, number]>): number {
  const ys = new Map(y);
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (const [t, a] of x) {
    const b = ys.get(t);
    if (b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    n++; sx += a; sy += b; sxx += a * a; syy += b * b; sxy += a * b;
  }
  if (n < 3) return 0;
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  return vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : 0;
}
