// Face of the Robust tier: seasonal-trend baseline + residual model, calibrated score in [0, 1].
import type { Detector, DetectorSnapshot, Sensitivity } from '../detector.ts';
import { RobustDetector, type RobustState } from './robust-detector.ts';

export function createRobustDetector(sensitivity: Sensitivity = {}): Detector {
  return new RobustDetector(sensitivity);
}

export function restoreRobustDetector(snapshot: DetectorSnapshot): Detector {
  return RobustDetector.restore(snapshot as unknown as RobustState);
}

export { RobustDetector };
