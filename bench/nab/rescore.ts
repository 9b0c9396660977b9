// Trains the Robust tier's learnt rescorer (actors/detection/robust/rescorer.ts) with NAB's
// labels, honestly under leave-one-fold-out: a parameter set is first run with the rescorer
// off, recording every sample the rescorer would judge (its score and features); for a fold,
// the rescorer is trained on the recorded samples of the OTHER folds' files only (their
// labels), and the set is run again with those weights. The held-out fold's labels never
// reach its weights. Trained on every file, the weights are the shipped ones.
import { FEATURE_NAMES, FEATURES } from '../../actors/detection/robust/alarm-features.ts';
import type { RescorerWeights } from '../../actors/detection/robust/rescorer.ts';
import { fitLogistic, type Tf } from '../../actors/detection/ml/index.ts';
import type { RobustExtras } from './candidates.ts';
import type { NabCorpus } from './corpus.ts';
import { PROBATION } from './rows.ts';
import type { StreamingDetector } from './run.ts';
import type { ScoredFile } from './sweep.ts';

/** One judged sample: where it is, its score before rescoring, its features. */
interface Judged {
  file: number;
  row: number;
  x: Float64Array;
  /** outside the refractory span of an earlier alarm (in the run without the rescorer): a
   * sample that can start an alarm, so one NAB counts */
  free: boolean;
}

export type Refit = (train: (file: number) => boolean) => ScoredFile[];

function run(corpus: NabCorpus, create: (extras: RobustExtras) => StreamingDetector, extras: RobustExtras, onRow?: (file: number, row: number) => void): ScoredFile[] {
  return corpus.files.map((f, fi) => {
    const d = create(extras);
    const scores = new Float64Array(f.values.length);
    for (let i = 0; i < scores.length; i++) {
      onRow?.(fi, i);
      scores[i] = d.update(f.timestamps[i] as number, f.values[i] as number);
    }
    return { scores, labels: f.labels };
  });
}

/** The training set from the judged samples of the training files: label 1 inside a window
 * (a detection there is worth its NAB weight, highest at the window's start), 0 outside (a
 * false alarm, costing more the farther from a window); rows in probation are not scored by
 * NAB and not used. Each class's weights sum to one half: windows and false alarms count
 * alike, whatever their numbers. */
function trainingSet(corpus: NabCorpus, judged: readonly Judged[], train: (file: number) => boolean): { x: Float32Array; y: Float32Array; w: Float32Array } {
  const rows = judged.filter((j) => j.free && train(j.file) && (corpus.files[j.file] as (typeof corpus.files)[number]).labels.window[j.row] !== PROBATION);
  const x = new Float32Array(rows.length * FEATURES);
  const y = new Float32Array(rows.length);
  const w = new Float32Array(rows.length);
  let pos = 0;
  let neg = 0;
  rows.forEach((j, r) => {
    const labels = (corpus.files[j.file] as (typeof corpus.files)[number]).labels;
    x.set(j.x, r * FEATURES);
    const inside = (labels.window[j.row] as number) >= 0;
    y[r] = inside ? 1 : 0;
    w[r] = Math.abs(labels.worth[j.row] as number);
    if (inside) pos += w[r] as number;
    else neg += w[r] as number;
  });
  for (let r = 0; r < rows.length; r++) w[r] = (w[r] as number) / (2 * ((y[r] as number) === 1 ? pos : neg));
  return { x, y, w };
}

export function trainRescorer(tf: Tf, corpus: NabCorpus, judged: readonly Judged[], train: (file: number) => boolean): RescorerWeights {
  const { x, y, w } = trainingSet(corpus, judged, train);
  const m = fitLogistic(tf, x, FEATURES, y, w);
  return { features: [...FEATURE_NAMES], ...m };
}

/** A parameter set's refit: records what the rescorer judges once (rescorer off), then per
 * training set of files trains the weights on those files only and reruns with them. */
export function rescorerRefit(tf: Tf, corpus: NabCorpus, create: (extras: RobustExtras) => StreamingDetector): { refit: Refit; weights(train: (file: number) => boolean): RescorerWeights } {
  let judged: Judged[] | undefined;
  const record = (): Judged[] => {
    if (judged !== undefined) return judged;
    const out: Array<Judged & { score: number }> = [];
    let at = { file: 0, row: 0 };
    const files = run(corpus, create, { rescorer: null, onRescore: (score, x) => out.push({ ...at, score, x: Float64Array.from(x), free: false }) }, (file, row) => (at = { file, row }));
    // the refractory leaves a free sample's score as it was and damps the others
    for (const j of out) j.free = (files[j.file] as ScoredFile).scores[j.row] === j.score;
    return (judged = out);
  };
  const weights = (train: (file: number) => boolean): RescorerWeights => trainRescorer(tf, corpus, record(), train);
  return { refit: (train) => run(corpus, create, { rescorer: weights(train) }), weights };
}
