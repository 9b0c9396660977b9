// npm run bench:nab [-- --tier basic|agile|robust] [--json] [--detail] [--no-model] [--no-sweep] [--data DIR]
// Scores each detection tier on the NAB dev split with NAB's scoring and prints, per tier:
//  - standard (and the two other profiles): in-sample, threshold by the exact corpus sweep;
//  - loco_standard: leave-one-fold-out (bench/nab/loco.ts): parameters and threshold chosen
//    on two of the folds artificial / realAWSCloudwatch / realKnownCause, scored on the third
//    (the parameter sets: bench/nab/candidates.ts; --no-sweep: the shipped set only);
//  - default_threshold_standard: the score at the tier's shipped threshold (what a user gets);
//  - pa_f1: point-adjusted F1 at the best global threshold (the KPI benchmarks' metric).
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_THRESHOLD, enableRobustModel } from '../actors/detection/index.ts';
import type { AutoencoderTrainer, AutoencoderWeights } from '../actors/detection/ml/index.ts';
import { configureRobust, robustRuntime } from '../actors/detection/robust/index.ts';
import { TIERS, type Tier } from '../protocols/types.ts';
import {
  breakdownFile, FOLDS, leaveOneFoldOut, loadNabCorpus, pointAdjustedF1, PROFILE_NAMES, PROFILES, PUBLISHED_SPLIT, runDetector, scoreAtThreshold, scoreCorpus, sortCorpus,
  type CorpusScore, type LocoResult, type PointAdjustedF1, type ScoredFile,
} from './nab/index.ts';
import { parameterSets } from './nab/candidates.ts';
import { flagValue as arg } from './args.ts';

const here = dirname(fileURLToPath(import.meta.url));

const only = arg('--tier');
if (only !== undefined && !TIERS.includes(only as Tier)) {
  console.error(`bench:nab: --tier must be one of ${TIERS.join(', ')}`);
  process.exit(2);
}
const tiers: Tier[] = only ? [only as Tier] : [...TIERS];
const json = process.argv.includes('--json');
const detail = process.argv.includes('--detail');
const root = resolve(arg('--data') ?? resolve(here, '../../shared/data/nab'));

const corpus = await loadNabCorpus(root);
const rows = corpus.files.reduce((n, f) => n + f.values.length, 0);
console.log(`NAB dev split: ${corpus.files.length} files, ${rows} rows, ${corpus.labelledWindows} windows (${root})`);

// the Robust tier is measured as it runs: with its tfjs-trained residual model (inline
// training, so the run replays exactly); --no-model measures its statistical path (L1)
if (tiers.includes('robust') && !process.argv.includes('--no-model')) {
  const ml = await enableRobustModel();
  console.log(ml ? `robust: tfjs backend ${ml.backend} (learnt residual model on)` : 'robust: tfjs unavailable, statistical only (L1)');
  // the parameter sets differ only in the scoring chain, not in the errors the model is
  // trained on: the same batch and seed train the same weights, so each is trained once
  const { trainer } = robustRuntime();
  if (trainer) configureRobust({ trainer: memoTrainer(trainer) });
}

function memoTrainer(trainer: AutoencoderTrainer): AutoencoderTrainer {
  const seen = new Map<string, AutoencoderWeights>();
  return {
    fit(windows, width, seed) {
      const key = `${width}:${seed}:${createHash('sha1').update(new Uint8Array(windows.buffer, windows.byteOffset, windows.byteLength)).digest('hex')}`;
      let w = seen.get(key);
      if (w === undefined) seen.set(key, (w = trainer.fit(windows, width, seed)));
      return w;
    },
  };
}

interface TierResult {
  score: CorpusScore;
  loco: LocoResult;
  /** the same folds scored in-sample (shipped parameters, the corpus-wide threshold): what
   * loco_standard is to be compared with (both weigh the three folds equally) */
  foldMean: number;
  atDefault: number;
  pa: PointAdjustedF1;
}

function inSampleFoldMean(files: ReadonlyArray<ScoredFile>, threshold: number): number {
  const scores = FOLDS.map((fold) => {
    const keep = corpus.files.map((f) => fold.holds(f.name));
    const windows = corpus.files.reduce((n, f, i) => n + (keep[i] ? f.windows.length : 0), 0);
    return scoreAtThreshold(sortCorpus(files.filter((_, i) => keep[i]), windows), PROFILES.standard, threshold).normalised;
  });
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

const results: Partial<Record<Tier, TierResult>> = {};
for (const tier of tiers) {
  const started = performance.now();
  const sets = parameterSets(tier, process.argv.includes('--no-sweep'));
  const candidates = sets.map((p) => ({ name: p.name, files: runDetector(corpus, p.create) }));
  const seconds = (performance.now() - started) / 1000;
  const files = (candidates[0] as (typeof candidates)[number]).files; // the shipped defaults
  const score = scoreCorpus(files, corpus.labelledWindows);
  const loco = leaveOneFoldOut(corpus, candidates);
  const atDefault = scoreAtThreshold(sortCorpus(files, corpus.labelledWindows), PROFILES.standard, DEFAULT_THRESHOLD);
  const pa = pointAdjustedF1(files);
  const foldMean = inSampleFoldMean(files, score.standard.threshold);
  results[tier] = { score, loco, foldMean, atDefault: atDefault.normalised, pa };
  const s = score.standard;
  console.log(`${tier}: ${sets.length} parameter set(s) in ${seconds.toFixed(2)} s; standard threshold ${s.threshold.toFixed(4)}: ${s.tp} windows detected, ${s.fn} missed, ${s.fp} false-positive rows`);
  for (const f of loco.folds) console.log(`  loco ${f.fold.padEnd(18)} params ${f.params.padEnd(14)} threshold ${f.threshold.toFixed(4)}  train ${f.train.toFixed(2)}  held out ${f.test.toFixed(2)} (its own best threshold: ${f.ownBest.toFixed(2)})`);
  console.log(`  loco mean ${loco.mean.toFixed(2)} (in-sample mean of the same folds ${foldMean.toFixed(2)}); at the default threshold ${DEFAULT_THRESHOLD}: ${atDefault.normalised.toFixed(2)} (${atDefault.tp} detected, ${atDefault.fp} FP rows); point-adjusted F1 ${pa.f1.toFixed(3)} (P ${pa.precision.toFixed(3)} R ${pa.recall.toFixed(3)} at ${pa.threshold.toFixed(4)})`);
  if (detail) {
    for (const f of files) {
      const name = corpus.files[files.indexOf(f)]?.name ?? '';
      const b = breakdownFile(f, PROFILES.standard, s.threshold);
      console.log(`  ${name.padEnd(58)} detected ${b.detected} missed ${b.missed} fp ${String(b.fpRows).padStart(3)}  score ${(b.windows + b.falsePositives).toFixed(2)}`);
    }
  }
}

const table: Array<{ detector: string; figures: number[] }> = [
  ...tiers.map((t) => ({ detector: `vigil ${t}`, figures: PROFILE_NAMES.map((p) => (results[t] as TierResult).score[p].normalised) })),
  ...PUBLISHED_SPLIT.map((r) => ({ detector: r.detector, figures: PROFILE_NAMES.map((p) => r[p]) })),
].sort((a, b) => (b.figures[0] as number) - (a.figures[0] as number));
console.log('');
console.log(`${'detector (in-sample)'.padEnd(20)}${PROFILE_NAMES.map((p) => p.padStart(20)).join('')}`);
for (const r of table) console.log(`${r.detector.padEnd(20)}${r.figures.map((x) => x.toFixed(1).padStart(20)).join('')}`);

if (json) {
  const round = (x: number, d = 2): number => Number(x.toFixed(d));
  const out: Record<string, unknown> = {};
  for (const t of tiers) {
    const r = results[t] as TierResult;
    out[t] = {
      ...Object.fromEntries(PROFILE_NAMES.map((p) => [p, round(r.score[p].normalised)])),
      loco_standard: round(r.loco.mean),
      in_sample_fold_mean: round(r.foldMean),
      loco_folds: Object.fromEntries(r.loco.folds.map((f) => [f.fold, { params: f.params, threshold: round(f.threshold, 4), train: round(f.train), test: round(f.test), own_best: round(f.ownBest) }])),
      default_threshold_standard: round(r.atDefault),
      pa_f1: round(r.pa.f1, 3),
    };
  }
  console.log(JSON.stringify(out));
}
