// Per-file NAB score at a fixed threshold: where a detector earns and loses its points.
// For diagnosis only; the headline figure comes from the corpus-wide sweep.
import type { CostMatrix } from './profiles.ts';
import { scaledSigmoid } from './rows.ts';
import type { ScoredFile } from './sweep.ts';

export interface FileBreakdown {
  /** sum over the file's windows of the best detection (or -fnWeight) */
  windows: number;
  /** sum of false-positive costs (<= 0) */
  falsePositives: number;
  detected: number;
  missed: number;
  fpRows: number;
}

const MAX_TP = scaledSigmoid(-1);

export function breakdownFile(file: ScoredFile, cost: CostMatrix, threshold: number): FileBreakdown {
  const best = new Map<number, number>();
  let falsePositives = 0;
  let fpRows = 0;
  const { window, worth } = file.labels;
  for (let i = 0; i < window.length; i++) {
    const w = window[i] as number;
    if (w === -2) continue;
    if (w >= 0 && !best.has(w)) best.set(w, -cost.fnWeight);
    const s = file.scores[i] as number;
    if (!(s >= threshold)) continue;
    if (w >= 0) best.set(w, Math.max(best.get(w) as number, ((worth[i] as number) * cost.tpWeight) / MAX_TP));
    else {
      falsePositives += (worth[i] as number) * cost.fpWeight;
      fpRows++;
    }
  }
  let windows = 0;
  let detected = 0;
  for (const v of best.values()) {
    windows += v;
    if (v > -cost.fnWeight) detected++;
  }
  return { windows, falsePositives, detected, missed: best.size - detected, fpRows };
}
