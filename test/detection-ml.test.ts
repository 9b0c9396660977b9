// The tfjs loader and the autoencoder it trains: the loader never throws and picks a real
// backend (native packages are absent here, so wasm or cpu), logging it once; training is
// reproducible for a seed; the plain-JS evaluation agrees with tfjs's own forward pass; a
// window unlike the training data reconstructs worse than one like it.
import assert from 'node:assert/strict';
import { createAutoencoderTrainer, loadTf, mulberry32, reconstructionError, type LoadedTf } from '../actors/detection/ml/index.ts';
import { createRobust, ROBUST } from '../actors/detection/robust/index.ts';

const WIDTH = 16;

/** Windows of a noisy sine, the shape the model should learn. */
function sineWindows(count: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(count * WIDTH);
  for (let w = 0; w < count; w++) {
    const phase = random() * 2 * Math.PI;
    for (let i = 0; i < WIDTH; i++) out[w * WIDTH + i] = 0.5 * Math.sin(phase + i / 2) + 0.02 * (random() - 0.5);
  }
  return out;
}

describe('tfjs loader', () => {
  let loaded: LoadedTf;
  const lines: Array<{ obj: object; msg: string }> = [];

  before(async () => {
    const log = { info: (obj: object, msg: string) => lines.push({ obj, msg }), warn: (obj: object, msg: string) => lines.push({ obj, msg }) };
    loaded = await loadTf({ log });
  });

  it('loads a working backend without throwing when the native packages are missing', () => {
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(loaded.backend));
    assert.equal(loaded.tf.getBackend(), loaded.backend === 'tensorflow-gpu' ? 'tensorflow' : loaded.backend);
    const x = loaded.tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(loaded.tf.matMul(x, x).arraySync(), [
      [7, 10],
      [15, 22],
    ]);
  });

  it('logs the chosen backend once, and later calls share the first load', async () => {
    const chosen = lines.filter((l) => l.msg === 'tfjs backend loaded');
    assert.equal(chosen.length, 1);
    assert.deepEqual(chosen[0]?.obj, { backend: loaded.backend });
    const again = await loadTf();
    assert.equal(again.backend, loaded.backend);
    assert.equal(lines.filter((l) => l.msg === 'tfjs backend loaded').length, 1);
  });
});

describe('dense autoencoder trained by tfjs', () => {
  let loaded: LoadedTf;
  before(async () => {
    loaded = await loadTf();
  });

  it('trains reproducibly for a seed, and differently for another seed', () => {
    const trainer = createAutoencoderTrainer(loaded.tf, { epochs: 20 });
    const batch = sineWindows(64, 1);
    const a = trainer.fit(batch, WIDTH, 7);
    const b = trainer.fit(batch, WIDTH, 7);
    const c = trainer.fit(batch, WIDTH, 8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.w1, c.w1);
    assert.equal(a.w1.length, WIDTH * a.hidden);
    assert.equal(a.w2.length, WIDTH * a.hidden);
  });

  it('the plain-JS forward pass matches tfjs', () => {
    const { tf } = loaded;
    const w = createAutoencoderTrainer(tf, { epochs: 10 }).fit(sineWindows(32, 2), WIDTH, 3);
    const x = sineWindows(1, 99);
    const y = tf.tidy(() => {
      const h = tf.tanh(tf.add(tf.matMul(tf.tensor2d(x, [1, WIDTH]), tf.tensor2d(w.w1, [WIDTH, w.hidden])), tf.tensor1d(w.b1)));
      return tf.add(tf.matMul(h, tf.tensor2d(w.w2, [w.hidden, WIDTH])), tf.tensor1d(w.b2)).dataSync();
    });
    let mse = 0;
    for (let i = 0; i < WIDTH; i++) mse += ((y[i] as number) - (x[i] as number)) ** 2;
    mse /= WIDTH;
    assert.ok(Math.abs(reconstructionError(w, x, new Float64Array(w.hidden)) - mse) < 1e-5);
  });

  it('reconstructs windows like its training data better than unlike ones', () => {
    const w = createAutoencoderTrainer(loaded.tf).fit(sineWindows(128, 3), WIDTH, 1);
    const h = new Float64Array(w.hidden);
    const like = sineWindows(20, 4);
    let likeErr = 0;
    for (let k = 0; k < 20; k++) likeErr += reconstructionError(w, like.subarray(k * WIDTH, (k + 1) * WIDTH), h) / 20;
    const random = mulberry32(5);
    const noise = Float32Array.from({ length: WIDTH }, () => random() * 2 - 1);
    const square = Float32Array.from({ length: WIDTH }, (_, i) => (i % 4 < 2 ? 0.8 : -0.8));
    assert.ok(reconstructionError(w, noise, h) > 3 * likeErr, `noise ${reconstructionError(w, noise, h)} vs sine ${likeErr}`);
    assert.ok(reconstructionError(w, square, h) > 3 * likeErr, `square ${reconstructionError(w, square, h)} vs sine ${likeErr}`);
  });

  it('batched training (many series in one graph) matches training each alone', () => {
    const trainer = createAutoencoderTrainer(loaded.tf, { epochs: 15 });
    const batches = [sineWindows(40, 6), sineWindows(40, 7), sineWindows(40, 8)];
    const many = trainer.fitMany?.(batches, WIDTH, [1, 2, 3]) ?? [];
    assert.equal(many.length, 3);
    batches.forEach((b, j) => {
      const alone = trainer.fit(b, WIDTH, j + 1);
      const m = many[j];
      assert.ok(m !== undefined);
      for (let i = 0; i < alone.w1.length; i++) assert.ok(Math.abs((alone.w1[i] as number) - (m.w1[i] as number)) < 1e-3, `w1[${i}] of model ${j}`);
    });
  });

  it('refuses a batch too small to learn from', () => {
    const trainer = createAutoencoderTrainer(loaded.tf);
    assert.throws(() => trainer.fit(new Float32Array(WIDTH), WIDTH, 1), RangeError);
  });
});

describe('Robust tier with the tfjs trainer', () => {
  it('trains at its schedule, scores on the model (L0), and a throwing model falls back (L1)', async () => {
    const { tf } = await loadTf();
    const trainer = createAutoencoderTrainer(tf);
    const random = mulberry32(21);
    const values = Array.from({ length: ROBUST.modelFirstTrain + 600 }, (_, i) => 50 + 5 * Math.sin((2 * Math.PI * i) / 288) + (random() - 0.5));
    const healthy = createRobust({}, { runtime: { trainer } });
    let broken = 0;
    const faulty = createRobust({}, { runtime: { trainer, build: () => ({ error: () => { broken++; throw new Error('inference failed'); } }) } });
    for (let i = 0; i < values.length; i++) {
      const a = healthy.update(1.4e12 + i * 300_000, values[i] as number);
      const b = faulty.update(1.4e12 + i * 300_000, values[i] as number);
      assert.ok(a >= 0 && a <= 1 && b >= 0 && b <= 1);
    }
    assert.equal(healthy.modelHealth.trainings, 1);
    assert.equal(healthy.degradation, 'L0');
    assert.equal(faulty.degradation, 'L1');
    // 5 failed calls open its ml_inference breaker; then one probe per ~31 samples (30 samples open)
    assert.ok(broken >= 5 && broken <= 5 + Math.ceil(600 / 31), `${broken} model calls`);
  });
});
