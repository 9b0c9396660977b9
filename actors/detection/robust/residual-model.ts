// The learnt part of the tier: a model of what windows of standardised residuals look like,
// whose reconstruction error says "this pattern of deviations is new". It is pluggable (a
// test injects one that throws); the default is the dense autoencoder trained by tfjs.
import { reconstructionError, type AutoencoderTrainer, type AutoencoderWeights } from '../ml/index.ts';
import type { TrainingQueue } from './training-queue.ts';

export interface ResidualModel {
  /** Reconstruction error of a window (may throw: the guard falls back to statistics). */
  error(window: Float64Array): number;
}

/** Where models come from: a trainer fits weights on past windows; `build` turns weights into a
 * model (replace it to inject a faulty or slow model). */
export interface ModelRuntime {
  trainer?: AutoencoderTrainer;
  /** when set, training is submitted here and runs when the host drains it (off the hot
   * path); otherwise the trainer runs inline at the training sample (exact replay) */
  queue?: TrainingQueue;
  build?: (weights: AutoencoderWeights) => ResidualModel;
}

export function autoencoderModel(weights: AutoencoderWeights): ResidualModel {
  const hidden = new Float64Array(weights.hidden);
  return { error: (window) => reconstructionError(weights, window, hidden) };
}
