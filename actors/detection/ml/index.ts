// Face of the ML support for detection: the tfjs loader (gpu → node → wasm → cpu), the
// dense autoencoder evaluated in plain JS, and its tfjs trainer.
export { loadTf, type Tf, type TfBackend, type LoadedTf, type LoadTfOptions, type TfLog } from './load-tf.ts';
export { reconstructionError, type AutoencoderWeights } from './autoencoder.ts';
export { createAutoencoderTrainer, DEFAULT_TRAIN, type AutoencoderTrainer, type TrainOptions } from './autoencoder-trainer.ts';
export { mulberry32 } from './seeded.ts';
