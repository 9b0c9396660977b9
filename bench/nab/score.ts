// Scores one detector's output over a corpus under all three profiles.
import { PROFILES, PROFILE_NAMES, type ProfileName } from './profiles.ts';
import { sortCorpus, sweepThreshold, type ScoredFile, type SweepResult } from './sweep.ts';

export type CorpusScore = Record<ProfileName, SweepResult>;

export function scoreCorpus(files: readonly ScoredFile[], labelledWindows: number): CorpusScore {
  const sorted = sortCorpus(files, labelledWindows);
  const out = {} as CorpusScore;
  for (const p of PROFILE_NAMES) out[p] = sweepThreshold(sorted, PROFILES[p]);
  return out;
}
