// NAB scoring (Numenta Anomaly Benchmark v1.1), written from its description: per-row
// window weights, the exact corpus-wide threshold sweep, normalisation, three profiles.
export { PROFILES, PROFILE_NAMES } from './profiles.ts';
export type { CostMatrix, ProfileName } from './profiles.ts';
export { labelRows, scaledSigmoid, probationLength, OUTSIDE, PROBATION } from './rows.ts';
export type { LabelledRows } from './rows.ts';
export { sortCorpus, sweepThreshold } from './sweep.ts';
export type { ScoredFile, SortedCorpus, SweepResult } from './sweep.ts';
export { breakdownFile } from './breakdown.ts';
export type { FileBreakdown } from './breakdown.ts';
export { loadNabCorpus } from './corpus.ts';
export type { NabCorpus, NabFile } from './corpus.ts';
export { scoreCorpus } from './score.ts';
export { PUBLISHED_SPLIT } from './published.ts';
export { runDetector } from './run.ts';
export type { StreamingDetector } from './run.ts';
export type { CorpusScore } from './score.ts';
export { scoreAtThreshold } from './sweep.ts';
export { pointAdjustedF1 } from './pa-f1.ts';
export type { PointAdjustedF1 } from './pa-f1.ts';
export { FOLDS, leaveOneFoldOut } from './loco.ts';
export type { Candidate, Fold, FoldResult, LocoResult } from './loco.ts';
