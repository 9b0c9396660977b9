// Point-adjusted F1, the metric of the KPI-benchmark literature, on NAB's windows: a window
// counts as found (all its rows true positives) if any alarm falls inside it, otherwise all
// its rows are false negatives; every alarm outside a window is a false positive. The best
// F1 over one global threshold (exact: every distinct score is tried). Probation rows (a
// detector's warm-up under NAB) are not counted.
import type { ScoredFile } from './sweep.ts';

export interface PointAdjustedF1 {
  f1: number;
  precision: number;
  recall: number;
  /** alarms are rows with score >= threshold */
  threshold: number;
}

export function pointAdjustedF1(files: readonly ScoredFile[]): PointAdjustedF1 {
  // events: a window enters with its length at its best score; an outside row is one FP at its score
  const events: Array<{ score: number; tp: number; fp: number }> = [];
  let positives = 0;
  for (const f of files) {
    const { window } = f.labels;
    const best = new Map<number, { score: number; rows: number }>();
    for (let i = 0; i < window.length; i++) {
      const w = window[i] as number;
      if (w === -2) continue;
      const s = Number.isNaN(f.scores[i] as number) ? 0 : (f.scores[i] as number);
      if (w >= 0) {
        const b = best.get(w) ?? { score: -Infinity, rows: 0 };
        best.set(w, { score: Math.max(b.score, s), rows: b.rows + 1 });
        positives++;
      } else events.push({ score: s, tp: 0, fp: 1 });
    }
    for (const b of best.values()) events.push({ score: b.score, tp: b.rows, fp: 0 });
  }
  events.sort((a, b) => b.score - a.score);
  let tp = 0;
  let fp = 0;
  let top: PointAdjustedF1 = { f1: 0, precision: 0, recall: 0, threshold: Infinity };
  for (let i = 0; i < events.length; ) {
    const s = (events[i] as { score: number }).score;
    for (; i < events.length && (events[i] as { score: number }).score === s; i++) {
      tp += (events[i] as { tp: number }).tp;
      fp += (events[i] as { fp: number }).fp;
    }
    if (tp === 0) continue;
    const precision = tp / (tp + fp);
    const recall = tp / positives;
    const f1 = (2 * precision * recall) / (precision + recall);
    if (f1 > top.f1) top = { f1, precision, recall, threshold: s };
  }
  return top;
}
