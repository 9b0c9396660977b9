// L1, correlation-based (not causal): a candidate ranks by its anomaly score times how
// closely its series move with the symptoms' series over the incident's window (the
// strongest |Pearson r| over its metrics and the alerts' metrics). Without windows, the
// anomaly score alone ranks (BARO's robust-deviation ranking).
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
  return candidates.map((v) => {
    const score = ev[v]?.score ?? 0;
    const mine = byService.get(v) ?? [];
    let r = symptoms.length === 0 || mine.length === 0 ? 1 : 0;
    for (const m of mine) for (const s of symptoms) r = Math.max(r, Math.abs(pearson(m.samples, s.samples)));
    return { node: v, score: score * r, onAnomalousPath: false };
  });
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
