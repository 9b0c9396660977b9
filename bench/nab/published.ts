// The published detectors' scores on the 35-file dev split (NAB's stored outputs, scored by
// this scorer with the exact sweep; see ../shared/data/nab/README.md). Our scorer
// reproduces these figures from NAB's result files, which is how it was validated.
import type { ProfileName } from './profiles.ts';

export const PUBLISHED_SPLIT: ReadonlyArray<{ detector: string } & Record<ProfileName, number>> = [
  { detector: 'ARTime', standard: 67.8, reward_low_FP_rate: 57.8, reward_low_FN_rate: 73.7 },
  { detector: 'numenta', standard: 66.6, reward_low_FP_rate: 60.8, reward_low_FN_rate: 71.1 },
  { detector: 'htmjava', standard: 64.5, reward_low_FP_rate: 56.6, reward_low_FN_rate: 69.0 },
  { detector: 'contextOSE', standard: 62.2, reward_low_FP_rate: 57.1, reward_low_FN_rate: 66.3 },
  { detector: 'numentaTM', standard: 61.8, reward_low_FP_rate: 51.7, reward_low_FN_rate: 67.4 },
  { detector: 'knncad', standard: 53.0, reward_low_FP_rate: 40.1, reward_low_FN_rate: 59.6 },
  { detector: 'relativeEntropy', standard: 50.0, reward_low_FP_rate: 41.6, reward_low_FN_rate: 54.6 },
  { detector: 'randomCutForest', standard: 49.5, reward_low_FP_rate: 38.2, reward_low_FN_rate: 56.0 },
  { detector: 'earthgeckoSkyline', standard: 47.5, reward_low_FP_rate: 37.9, reward_low_FN_rate: 52.2 },
  { detector: 'twitterADVec', standard: 36.2, reward_low_FP_rate: 22.8, reward_low_FN_rate: 42.9 },
  { detector: 'skyline', standard: 33.8, reward_low_FP_rate: 25.4, reward_low_FN_rate: 38.3 },
  { detector: 'windowedGaussian', standard: 22.0, reward_low_FP_rate: 4.9, reward_low_FN_rate: 29.8 },
  { detector: 'bayesChangePt', standard: 21.3, reward_low_FP_rate: 7.6, reward_low_FN_rate: 34.3 },
  { detector: 'random', standard: 19.6, reward_low_FP_rate: 6.4, reward_low_FN_rate: 28.8 },
  { detector: 'expose', standard: 13.5, reward_low_FP_rate: 4.1, reward_low_FN_rate: 23.6 },
  { detector: 'null', standard: 0, reward_low_FP_rate: 0, reward_low_FN_rate: 0 },
];
