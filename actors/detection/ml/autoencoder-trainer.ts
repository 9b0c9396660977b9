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
  return {
    fit(windows, width, seed) {
      const count = Math.floor(windows.length / width);
      if (count < 2) throw new RangeError('autoencoder: need at least two windows');
      const rand = mulberry32(seed);
      const x = tf.tensor2d(windows.subarray(0, count * width), [count, width]);
      const w1 = tf.variable(tf.tensor2d(glorot(rand, width, hidden), [width, hidden]));
      const b1 = tf.variable(tf.zeros([hidden]));
      const w2 = tf.variable(tf.tensor2d(glorot(rand, hidden, width), [hidden, width]));
      const b2 = tf.variable(tf.zeros([width]));
      const optimizer = tf.train.adam(learningRate);
      try {
        for (let e = 0; e < epochs; e++) {
          const loss = optimizer.minimize(() => {
            const h = tf.tanh(tf.add(tf.matMul(x, w1), b1));
            const y = tf.add(tf.matMul(h, w2), b2);
            return tf.mean(tf.square(tf.sub(y, x)));
          }, true);
          loss?.dispose();
        }
        const weights: AutoencoderWeights = {
          width,
          hidden,
          w1: Array.from(w1.dataSync()),
          b1: Array.from(b1.dataSync()),
          w2: Array.from(w2.dataSync()),
          b2: Array.from(b2.dataSync()),
        };
        if (![...weights.w1, ...weights.w2].every(Number.isFinite)) throw new Error('autoencoder: training diverged');
        return weights;
      } finally {
        optimizer.dispose();
        tf.dispose([x, w1, b1, w2, b2]);
      }
    },
  };
}
