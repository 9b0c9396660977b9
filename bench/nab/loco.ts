// Leave-one-fold-out: how a detector does on data it was not tuned on. The dev split is cut
// into three folds by source (artificial, realAWSCloudwatch, realKnownCause); for each fold
// the parameter set AND the threshold are chosen on the other two (best normalised score of
// the exact sweep; one parameter set for all files, never per file), then the held-out fold
// is scored at that threshold. The mean over the folds is the figure detectors are judged by.
import type { NabCorpus } from './corpus.ts';
import { PROFILES, type CostMatrix } from './profiles.ts';
import { scoreAtThreshold, sortCorpus, sweepThreshold, type ScoredFile } from './sweep.ts';

export interface Fold {
  name: string;
  holds(file: string): boolean;
}

export const FOLDS: readonly Fold[] = [
  { name: 'artificial', holds: (f) => f.startsWith('artificial') },
  { name: 'realAWSCloudwatch', holds: (f) => f.startsWith('realAWSCloudwatch/') },
  { name: 'realKnownCause', holds: (f) => f.startsWith('realKnownCause/') },
];

/** One parameter set's scores on every file of the corpus (same order as corpus.files). */
export interface Candidate {
  name: string;
  files: ReadonlyArray<ScoredFile>;
}

export interface FoldResult {
  fold: string;
  /** the parameter set and threshold chosen on the other folds */
  params: string;
  threshold: number;
  /** normalised score of the chosen set on the training folds (the sweep's) */
  train: number;
  /** normalised score on the held-out fold at the chosen threshold */
  test: number;
  /** diagnosis only, never used to choose: the chosen set on the held-out fold at that
   * fold's own best threshold. ownBest - test is what the threshold's transfer cost; what is
   * left below in-sample figures is what the detector does not find there */
  ownBest: number;
}

export interface LocoResult {
  mean: number;
  folds: FoldResult[];
}

function windowsOf(corpus: NabCorpus, keep: (i: number) => boolean): number {
  return corpus.files.reduce((n, f, i) => n + (keep(i) ? f.windows.length : 0), 0);
}

export function leaveOneFoldOut(corpus: NabCorpus, candidates: readonly Candidate[], cost: CostMatrix = PROFILES.standard, folds: readonly Fold[] = FOLDS): LocoResult {
  const names = corpus.files.map((f) => f.name);
  const unassigned = names.filter((n) => !folds.some((f) => f.holds(n)));
  if (unassigned.length > 0) throw new RangeError(`loco: files in no fold: ${unassigned.join(', ')}`);
  const results = folds.map((fold): FoldResult => {
    const held = (i: number): boolean => fold.holds(names[i] as string);
    const trainWindows = windowsOf(corpus, (i) => !held(i));
    let best: { name: string; threshold: number; train: number } | undefined;
    for (const c of candidates) {
      const s = sweepThreshold(sortCorpus(c.files.filter((_, i) => !held(i)), trainWindows), cost);
      if (best === undefined || s.normalised > best.train) best = { name: c.name, threshold: s.threshold, train: s.normalised };
    }
    if (best === undefined) throw new RangeError('loco: no candidate parameter set');
    const chosen = candidates.find((c) => c.name === best.name) as Candidate;
    const heldOut = sortCorpus(chosen.files.filter((_, i) => held(i)), windowsOf(corpus, held));
    const test = scoreAtThreshold(heldOut, cost, best.threshold);
    const ownBest = sweepThreshold(heldOut, cost).normalised;
    return { fold: fold.name, params: best.name, threshold: best.threshold, train: best.train, test: test.normalised, ownBest };
  });
  return { mean: results.reduce((s, r) => s + r.test, 0) / results.length, folds: results };
}
