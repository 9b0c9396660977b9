// NAB's threshold optimisation: an exact sweep over every distinct anomaly score of the
// whole corpus. All scored rows are sorted once by score (descending); lowering the
// threshold past each distinct score adds that score's rows as detections. A window keeps
// only its best detection; every detection outside a window adds its (negative) worth.
import type { CostMatrix } from './profiles.ts';
import { scaledSigmoid, type LabelledRows } from './rows.ts';

export interface ScoredFile {
  /** anomaly score per row, same length as the file */
  scores: ArrayLike<number>;
  labels: LabelledRows;
}

export interface SweepResult {
  /** detections are rows with score >= threshold (Infinity: never fires) */
  threshold: number;
  /** raw NAB score at that threshold */
  raw: number;
  /** raw score of a detector that never fires */
  nullScore: number;
  /** raw score of a detector that detects every window at its first row */
  perfect: number;
  /** 100 * (raw - null) / (perfect - null) */
  normalised: number;
  /** windows detected / missed, and false-positive rows, at the threshold */
  tp: number;
  fn: number;
  fp: number;
}

/** The scorable rows of a corpus, sorted by descending score: reusable across profiles. */
export interface SortedCorpus {
  score: Float64Array;
  worth: Float64Array;
  /** corpus-wide window id, or -1 outside windows */
  window: Int32Array;
  windows: number;
  scoredWindows: number;
  /** every labelled window, including those inside probation (NAB's "perfect" counts them) */
  labelledWindows: number;
}

function clean(s: number): number {
  return Number.isNaN(s) ? 0 : s;
}

export function sortCorpus(files: readonly ScoredFile[], labelledWindows: number): SortedCorpus {
  let count = 0;
  for (const f of files) for (let i = 0; i < f.labels.window.length; i++) if ((f.labels.window[i] as number) !== -2) count++;
  const score = new Float64Array(count);
  const worth = new Float64Array(count);
  const window = new Int32Array(count);
  let k = 0;
  let base = 0;
  let scoredWindows = 0;
  for (const f of files) {
    const { window: w, worth: v } = f.labels;
    let maxWindow = -1;
    for (let i = 0; i < w.length; i++) {
      const wi = w[i] as number;
      if (wi === -2) continue;
      score[k] = clean(f.scores[i] as number);
      worth[k] = v[i] as number;
      window[k] = wi >= 0 ? base + wi : -1;
      if (wi > maxWindow) maxWindow = wi;
      k++;
    }
    base += maxWindow + 1;
    scoredWindows += f.labels.scoredWindows;
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => (score[b] as number) - (score[a] as number));
  const permute = <T extends Float64Array | Int32Array>(src: T, dst: T): T => {
    for (let i = 0; i < count; i++) dst[i] = src[order[i] as number] as number;
    return dst;
  };
  return {
    score: permute(score, new Float64Array(count)),
    worth: permute(worth, new Float64Array(count)),
    window: permute(window, new Int32Array(count)),
    windows: base,
    scoredWindows,
    labelledWindows,
  };
}

const MAX_TP = scaledSigmoid(-1);

/** The NAB score as detections are added one row at a time, in descending score order: a
 * window keeps only its best detection, a row outside every window adds its (negative) worth. */
class Tally {
  private readonly best: Float64Array;
  readonly nullScore: number;
  total: number;
  tp = 0;
  fp = 0;

  constructor(
    private readonly corpus: SortedCorpus,
    private readonly cost: CostMatrix,
  ) {
    this.best = new Float64Array(corpus.windows).fill(-cost.fnWeight);
    this.nullScore = -cost.fnWeight * corpus.scoredWindows;
    this.total = this.nullScore;
  }

  add(i: number): void {
    const { cost, best } = this;
    const w = this.corpus.window[i] as number;
    const worth = this.corpus.worth[i] as number;
    if (w < 0) {
      this.total += worth * cost.fpWeight;
      this.fp++;
      return;
    }
    const v = (worth * cost.tpWeight) / MAX_TP;
    const b = best[w] as number;
    if (b === -cost.fnWeight) this.tp++;
    if (v > b) {
      this.total += v - b;
      best[w] = v;
    }
  }

  result(threshold: number, raw: number, tp: number, fp: number): SweepResult {
    const perfect = this.cost.tpWeight * this.corpus.labelledWindows;
    const nullScore = this.nullScore;
    return { threshold, raw, nullScore, perfect, normalised: (100 * (raw - nullScore)) / (perfect - nullScore), tp, fn: this.corpus.scoredWindows - tp, fp };
  }
}

export function sweepThreshold(corpus: SortedCorpus, cost: CostMatrix): SweepResult {
  const { score } = corpus;
  const tally = new Tally(corpus, cost);
  let top = { threshold: Infinity, raw: tally.nullScore, tp: 0, fp: 0 };
  const n = score.length;
  for (let i = 0; i < n; ) {
    const s = score[i] as number;
    for (; i < n && score[i] === s; i++) tally.add(i);
    if (tally.total > top.raw) top = { threshold: s, raw: tally.total, tp: tally.tp, fp: tally.fp };
  }
  return tally.result(top.threshold, top.raw, top.tp, top.fp);
}

/** The score at a fixed threshold (rows with score >= threshold are detections): what a
 * held-out fold or a shipped default threshold gets, no sweep. */
export function scoreAtThreshold(corpus: SortedCorpus, cost: CostMatrix, threshold: number): SweepResult {
  const { score } = corpus;
  const tally = new Tally(corpus, cost);
  for (let i = 0; i < score.length && (score[i] as number) >= threshold; i++) tally.add(i);
  return tally.result(threshold, tally.total, tally.tp, tally.fp);
}
