// Detection tiers: pure streaming kernels (no I/O, no actors). One sample in, one
// calibrated score in [0, 1] out; every tier's state snapshots and restores exactly.
// Every detector made here reads a monotone counter by its rate (counter.ts).
// See README.md for the algorithms, the calibration and the handling of odd input.
import type { Tier } from '../../protocols/types.ts';
import { AgileDetector } from './agile.ts';
import { BasicDetector } from './basic.ts';
import { CounterAware } from './counter.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
import { createRobustDetector, restoreRobustDetector } from './robust/index.ts';
import { AGILE_DEVIATIONS, BASIC_DEVIATIONS, resolveSensitivity } from './sensitivity.ts';

export type { Detector, DetectorSnapshot, Sensitivity } from './detector.ts';
export { AGILE_DEVIATIONS, BASIC_DEVIATIONS, DEFAULT_THRESHOLD } from './sensitivity.ts';
export { scoreFromDecades, decadesOfScore } from './calibration.ts';
export { CounterAware, innerDetector } from './counter.ts';
// Robust's host glue (tfjs model, clock for its inference budget) for nodes, benches and the CLI.
export { createRobustDetector, restoreRobustDetector, enableRobustModel } from './robust/index.ts';
export type { RobustDetector, RobustOptions, TrainingQueue } from './robust/index.ts';

function createTier(tier: Tier, sensitivity?: Sensitivity): Detector {
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

export function createDetector(tier: Tier, sensitivity?: Sensitivity): Detector {
  const d = createTier(tier, sensitivity);
  // Robust wraps itself (robust/index.ts): its face is used directly by hosts too
  return tier === 'robust' ? d : new CounterAware(d, () => createTier(tier, sensitivity));
}

export function restoreDetector(snapshot: DetectorSnapshot): Detector {
  const sensitivity = snapshot.sensitivity as Sensitivity | undefined;
  switch (snapshot.tier) {
    case 'basic':
      return CounterAware.restore(BasicDetector.restore(snapshot), snapshot, () => createTier('basic', sensitivity));
    case 'agile':
      return CounterAware.restore(AgileDetector.restore(snapshot), snapshot, () => createTier('agile', sensitivity));
    case 'robust':
      return restoreRobustDetector(snapshot);
    default:
      throw new RangeError(`unknown detection tier in snapshot: ${String(snapshot.tier)}`);
  }
}
