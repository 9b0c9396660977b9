// Detection tiers: pure streaming kernels (no I/O, no actors). One sample in, one
// calibrated score in [0, 1] out; every tier's state snapshots and restores exactly.
// See README.md for the algorithms, the calibration and the handling of odd input.
import type { Tier } from '../../protocols/types.ts';
import { AgileDetector } from './agile.ts';
import { BasicDetector } from './basic.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { createRobustDetector, restoreRobustDetector } from './robust/index.ts';
import { AGILE_DEVIATIONS, BASIC_DEVIATIONS, resolveSensitivity } from './sensitivity.ts';

export type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
export { AGILE_DEVIATIONS, BASIC_DEVIATIONS, DEFAULT_THRESHOLD } from './sensitivity.ts';
// Robust's host glue (tfjs model, clock for its inference budget) for nodes, benches and the CLI.
export { createRobustDetector, restoreRobustDetector, enableRobustModel } from './robust/index.ts';
export type { RobustDetector, RobustOptions, TrainingQueue } from './robust/index.ts';

export function createDetector(tier: Tier, sensitivity?: Sensitivity): Detector {
  switch (tier) {
    case 'basic':
      return new BasicDetector(resolveSensitivity(sensitivity, BASIC_DEVIATIONS));
    case 'agile':
      return new AgileDetector(resolveSensitivity(sensitivity, AGILE_DEVIATIONS));
    case 'robust':
      return createRobustDetector(sensitivity);
    default:
      throw new RangeError(`unknown detection tier: ${String(tier)}`);
  }
}

export function restoreDetector(snapshot: DetectorSnapshot): Detector {
  switch (snapshot.tier) {
    case 'basic':
      return BasicDetector.restore(snapshot);
    case 'agile':
      return AgileDetector.restore(snapshot);
    case 'robust':
      return restoreRobustDetector(snapshot);
    default:
      throw new RangeError(`unknown detection tier in snapshot: ${String(snapshot.tier)}`);
  }
}
