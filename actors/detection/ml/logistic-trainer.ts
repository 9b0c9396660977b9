// Trains a weighted logistic regression with tfjs: full-batch Adam on the weighted binary
// cross-entropy plus an L2 penalty on the weights (not the bias), from zero weights, so the
// same data give the same model on a given backend. Features are standardised first (the
// returned mean and scale go with the weights). Used offline, by the NAB bench, to train the
// Robust tier's rescorer; never on a detector's per-sample path.
import type { Tf } from './load-tf.ts';

export interface LogisticOptions {
  epochs: number;
  learningRate: number;
  /** L2 penalty on the standardised weights */
  l2: number;
}

export interface LogisticModel {
  mean: number[];
  scale: number[];
  w: number[];
  b: number;
}

export const DEFAULT_LOGISTIC: LogisticOptions = { epochs: 400, learningRate: 0.05, l2: 0.01 };

/** `x`: `count` rows of `dims` features; `y` in {0, 1}; `weight` ≥ 0 per row. */
export function fitLogistic(tf: Tf, x: Float32Array, dims: number, y: Float32Array, weight: Float32Array, options: Partial<LogisticOptions> = {}): LogisticModel {
  const { epochs, learningRate, l2 } = { ...DEFAULT_LOGISTIC, ...options };
  const count = y.length;
  if (count < 2 || x.length !== count * dims || weight.length !== count) throw new RangeError('logistic: malformed training set');
  const mean = new Array<number>(dims).fill(0);
  const scale = new Array<number>(dims).fill(0);
  let total = 0;
  for (let r = 0; r < count; r++) total += weight[r] as number;
  if (!(total > 0)) throw new RangeError('logistic: no weight');
  for (let r = 0; r < count; r++) for (let d = 0; d < dims; d++) mean[d] = (mean[d] as number) + ((weight[r] as number) * (x[r * dims + d] as number)) / total;
  for (let r = 0; r < count; r++) for (let d = 0; d < dims; d++) scale[d] = (scale[d] as number) + ((weight[r] as number) * ((x[r * dims + d] as number) - (mean[d] as number)) ** 2) / total;
  // a constant feature gets unit scale (its weight then stays at zero under the penalty)
  for (let d = 0; d < dims; d++) scale[d] = (scale[d] as number) > 1e-12 ? Math.sqrt(scale[d] as number) : 1;
  const xs = new Float32Array(count * dims);
  for (let r = 0; r < count; r++) for (let d = 0; d < dims; d++) xs[r * dims + d] = ((x[r * dims + d] as number) - (mean[d] as number)) / (scale[d] as number);
  const X = tf.tensor2d(xs, [count, dims]);
  const Y = tf.tensor2d(y, [count, 1]);
  const W = tf.tensor2d(weight, [count, 1]);
  const w = tf.variable(tf.zeros([dims, 1]));
  const b = tf.variable(tf.zeros([1]));
  const optimizer = tf.train.adam(learningRate);
  try {
    for (let e = 0; e < epochs; e++) {
      const loss = optimizer.minimize(() => {
        const logits = tf.add(tf.matMul(X, w), b);
        // numerically stable weighted cross-entropy: max(l, 0) − l·y + log(1 + e^−|l|)
        const ce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, Y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
        return tf.add(tf.div(tf.sum(tf.mul(ce, W)), total), tf.mul(l2, tf.sum(tf.square(w))));
      }, true);
      loss?.dispose();
    }
    const wv = Array.from(w.dataSync());
    const bv = (b.dataSync()[0] as number) ?? 0;
    if (!wv.every(Number.isFinite) || !Number.isFinite(bv)) throw new Error('logistic: training diverged');
    return { mean, scale, w: wv, b: bv };
  } finally {
    optimizer.dispose();
    tf.dispose([X, Y, W, w, b]);
  }
}
