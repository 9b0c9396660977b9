// Trains the dense autoencoder with tfjs: full-batch Adam over a batch of windows, weights
// initialised from a seeded generator (Glorot uniform), so the same batch and seed give the
// same weights on a given backend. Synchronous (tfjs cpu/wasm/node kernels run inline), so a
// detector can train at fixed sample counts and stay replayable; callers keep it off the
// per-sample path by training rarely.
import type { AutoencoderWeights } from './autoencoder.ts';
import type { Tf } from './load-tf.ts';
import { mulberry32 } from './seeded.ts';

export interface TrainOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
}

export interface AutoencoderTrainer {
  /** `windows` holds `count` rows of `width` values; returns trained weights (throws on failure). */
  fit(windows: Float32Array, width: number, seed: number): AutoencoderWeights;
  /** Trains one independent autoencoder per batch in a single batched graph (all batches the
   * same size): the way to train thousands of series without paying tfjs's per-op overhead
   * thousands of times. Optional: a trainer without it is called batch by batch. */
  fitMany?(batches: readonly Float32Array[], width: number, seeds: readonly number[]): AutoencoderWeights[];
}

export const DEFAULT_TRAIN: TrainOptions = { hidden: 4, epochs: 40, learningRate: 0.02 };

function glorot(rand: () => number, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = (rand() * 2 - 1) * limit;
  return out;
}

export function createAutoencoderTrainer(tf: Tf, options: Partial<TrainOptions> = {}): AutoencoderTrainer {
  const { hidden, epochs, learningRate } = { ...DEFAULT_TRAIN, ...options };

  /** k independent models as batched tensors [k, …]; the summed loss separates per model. */
  function train(batches: readonly Float32Array[], width: number, seeds: readonly number[]): AutoencoderWeights[] {
    const k = batches.length;
    const count = Math.floor((batches[0]?.length ?? 0) / width);
    if (count < 2) throw new RangeError('autoencoder: need at least two windows');
    if (batches.some((b) => Math.floor(b.length / width) !== count)) throw new RangeError('autoencoder: batches differ in size');
    const xs = new Float32Array(k * count * width);
    const i1 = new Float32Array(k * width * hidden);
    const i2 = new Float32Array(k * hidden * width);
    batches.forEach((b, j) => {
      xs.set(b.subarray(0, count * width), j * count * width);
      const rand = mulberry32(seeds[j] as number);
      i1.set(glorot(rand, width, hidden), j * width * hidden);
      i2.set(glorot(rand, hidden, width), j * hidden * width);
    });
    const x = tf.tensor3d(xs, [k, count, width]);
    const w1 = tf.variable(tf.tensor3d(i1, [k, width, hidden]));
    const b1 = tf.variable(tf.zeros([k, 1, hidden]));
    const w2 = tf.variable(tf.tensor3d(i2, [k, hidden, width]));
    const b2 = tf.variable(tf.zeros([k, 1, width]));
    const optimizer = tf.train.adam(learningRate);
    try {
      for (let e = 0; e < epochs; e++) {
        const loss = optimizer.minimize(() => {
          const h = tf.tanh(tf.add(tf.matMul(x, w1), b1));
          const y = tf.add(tf.matMul(h, w2), b2);
          // mean over a model's windows, summed over models: each model sees its own gradient
          return tf.mul(tf.mean(tf.square(tf.sub(y, x))), k);
        }, true);
        loss?.dispose();
      }
      const [a1, c1, a2, c2] = [w1.dataSync(), b1.dataSync(), w2.dataSync(), b2.dataSync()];
      return batches.map((_, j) => {
        const weights: AutoencoderWeights = {
          width,
          hidden,
          w1: Array.from(a1.subarray(j * width * hidden, (j + 1) * width * hidden)),
          b1: Array.from(c1.subarray(j * hidden, (j + 1) * hidden)),
          w2: Array.from(a2.subarray(j * hidden * width, (j + 1) * hidden * width)),
          b2: Array.from(c2.subarray(j * width, (j + 1) * width)),
        };
        if (![...weights.w1, ...weights.w2].every(Number.isFinite)) throw new Error('autoencoder: training diverged');
        return weights;
      });
    } finally {
      optimizer.dispose();
      tf.dispose([x, w1, b1, w2, b2]);
    }
  }

  return {
    fit: (windows, width, seed) => train([windows], width, [seed])[0] as AutoencoderWeights,
    fitMany: train,
  };
}
