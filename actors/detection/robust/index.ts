// Face of the Robust tier: Agile's robust seasonal kernel and calibrated score +
// a learnt residual model (tfjs-trained dense autoencoder, guarded, L1 fallback).
import { CounterAware } from '../counter.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from '../detector.ts';
import { createRobust, RobustDetector, type RobustOptions } from './robust-detector.ts';

/** A Robust detector that reads a monotone counter by its rate (../counter.ts); the tier
 * itself is `innerDetector(d)` (or createRobust, unwrapped). */
export function createRobustDetector(sensitivity?: Sensitivity, options?: RobustOptions): Detector {
  return new CounterAware(createRobust(sensitivity, options), () => createRobust(sensitivity, options));
}

export function restoreRobustDetector(snapshot: DetectorSnapshot, options?: RobustOptions): Detector {
  const inner = RobustDetector.restore(snapshot, options);
  return CounterAware.restore(inner, snapshot, () => createRobust(inner.sensitivity, options));
}

export { RobustDetector, createRobust, type RobustOptions, type RobustSnapshot } from './robust-detector.ts';
export { configureRobust, robustRuntime } from './runtime.ts';
export { enableRobustModel } from './enable-model.ts';
export { TrainingQueue, type TrainingJob } from './training-queue.ts';
export { autoencoderModel, type ModelRuntime, type ResidualModel } from './residual-model.ts';
export type { Degradation, GuardOptions, InferenceGuardState } from './inference-guard.ts';
export { ROBUST } from './params.ts';
