// The model channel: keeps a history of clipped standardised residuals, (re)trains the
// residual model on it at fixed sample counts (deterministic: the same stream trains the
// same model), and turns the model's reconstruction error into a surprise through its own
// tail. Inference goes through the guard; training failures keep the previous model.
import { reconstructionError, type AutoencoderWeights } from '../ml/index.ts';
import { ExceedanceTail } from './exceedance-tail.ts';
import { InferenceGuard, type Degradation, type GuardOptions, type InferenceGuardState } from './inference-guard.ts';
import { ROBUST } from './params.ts';
import { autoencoderModel, type ModelRuntime, type ResidualModel } from './residual-model.ts';

/** residuals are clipped to ±CLIP scales and divided by it, so inputs stay in [-1, 1] */
const CLIP = 8;
/** training windows start every STRIDE samples of the history */
const STRIDE = 4;

export interface ModelChannelState {
  /** the Float32 error history as base64 of its bytes: exact, and ~4× smaller than JSON numbers */
  history: string;
  filled: number;
  next: number;
  /** the weights as `width:hidden:` + base64 of w1, b1, w2, b2 as Float64 (exact whatever
   * the trainer produced, half the size of JSON numbers); null before the first training */
  weights: string | null;
  errorScale: number;
  tail: number[];
  trainings: number;
  trainFailures: number;
  /** the guard's counts and own breaker (version 1 snapshots hold a number array) */
  guard: InferenceGuardState | number[];
}

export class ModelChannel {
  private readonly history = new Float32Array(ROBUST.modelHistory);
  private filled = 0;
  private next = 0;
  private readonly window = new Float64Array(ROBUST.modelWidth);
  weights: AutoencoderWeights | null = null;
  private model: ResidualModel | undefined;
  private errorScale = 0;
  private readonly tail = new ExceedanceTail();
  trainings = 0;
  trainFailures = 0;
  readonly guard: InferenceGuard;

  constructor(
    private readonly runtime: ModelRuntime,
    guard: GuardOptions = {},
  ) {
    this.guard = new InferenceGuard(guard);
  }

  /** Records residual `z` of sample `n` and returns the model's surprise (undefined: L1). */
  surprise(z: number, n: number): number | undefined {
    const c = z > CLIP ? 1 : z < -CLIP ? -1 : z / CLIP;
    this.history[this.next] = c;
    this.next = (this.next + 1) % this.history.length;
    if (this.filled < this.history.length) this.filled++;
    if (n >= ROBUST.modelFirstTrain && (n - ROBUST.modelFirstTrain) % ROBUST.modelRetrain === 0) this.train();
    if (this.model === undefined || this.filled < this.window.length) return undefined;
    const len = this.history.length;
    for (let i = 0; i < this.window.length; i++) this.window[i] = this.history[(this.next - this.window.length + i + len) % len] as number;
    const err = this.guard.run(this.model, this.window, n);
    if (err === undefined) return undefined;
    // error in units of its own running mean (clipped feed, so a burst cannot blow it up)
    if (this.errorScale === 0) this.errorScale = err > 0 ? err : 1e-12;
    const x = err / this.errorScale;
    const s = this.tail.surprise(x);
    this.tail.learn(x);
    this.errorScale += ROBUST.scaleAlpha * (Math.min(err, ROBUST.scaleClip * this.errorScale) - this.errorScale);
    return s * ROBUST.modelWeight;
  }

  degradation(): Degradation {
    return this.guard.level(this.model);
  }

  private train(): void {
    const { trainer, queue } = this.runtime;
    if (trainer === undefined && queue === undefined) return;
    const width = this.window.length;
    const len = this.history.length;
    const start = this.filled < len ? 0 : this.next;
    const count = Math.floor((this.filled - width) / STRIDE) + 1;
    if (count < 2) return;
    const batch = new Float32Array(count * width);
    for (let w = 0; w < count; w++) for (let i = 0; i < width; i++) batch[w * width + i] = this.history[(start + w * STRIDE + i) % len] as number;
    const seed = ++this.trainings;
    if (queue !== undefined) {
      queue.submit({ batch, width, seed, install: (w) => this.install(w, batch), fail: () => this.trainFailures++ });
      return;
    }
    try {
      this.install((trainer as NonNullable<typeof trainer>).fit(batch, width, seed), batch);
    } catch {
      this.trainFailures++;
    }
  }

  /** Installs new weights; the error unit starts at the trained weights' mean error on the
   * windows they were trained on (not at the first live error, which may be tiny and make
   * every later ordinary error look enormous). Computed from the weights with the plain
   * forward pass, off the guarded path: a faulty injected model fails in the guard, not here. */
  private install(weights: AutoencoderWeights, batch?: Float32Array): void {
    this.weights = weights;
    this.model = (this.runtime.build ?? autoencoderModel)(weights);
    this.errorScale = 0;
    if (batch === undefined) return;
    const width = this.window.length;
    const count = Math.floor(batch.length / width);
    const hidden = new Float64Array(weights.hidden);
    let sum = 0;
    for (let w = 0; w < count; w++) {
      for (let i = 0; i < width; i++) this.window[i] = batch[w * width + i] as number;
      sum += reconstructionError(weights, this.window, hidden);
    }
    const mean = sum / count;
    if (mean > 0 && Number.isFinite(mean)) this.errorScale = mean;
  }

  state(): ModelChannelState {
    return {
      history: Buffer.from(this.history.buffer, this.history.byteOffset, this.history.byteLength).toString('base64'),
      filled: this.filled,
      next: this.next,
      weights: this.weights === null ? null : packWeights(this.weights),
      errorScale: this.errorScale,
      tail: this.tail.state(),
      trainings: this.trainings,
      trainFailures: this.trainFailures,
      guard: this.guard.state(),
    };
  }

  restore(s: ModelChannelState): this {
    const bytes = Buffer.from(s.history, 'base64');
    if (bytes.byteLength !== this.history.byteLength) throw new RangeError(`robust: model history of ${bytes.byteLength} bytes, expected ${this.history.byteLength}`);
    new Uint8Array(this.history.buffer, this.history.byteOffset, this.history.byteLength).set(bytes);
    this.filled = s.filled;
    this.next = s.next;
    if (s.weights !== null) this.install(unpackWeights(s.weights));
    this.errorScale = s.errorScale;
    this.tail.restore(s.tail);
    this.trainings = s.trainings;
    this.trainFailures = s.trainFailures;
    this.guard.restore(s.guard);
    return this;
  }
}

function packWeights(w: AutoencoderWeights): string {
  const all = Float64Array.from([...w.w1, ...w.b1, ...w.w2, ...w.b2]);
  return `${w.width}:${w.hidden}:${Buffer.from(all.buffer).toString('base64')}`;
}

function unpackWeights(packed: string): AutoencoderWeights {
  const [width, hidden, data] = packed.split(':') as [string, string, string];
  const wd = Number(width);
  const hd = Number(hidden);
  const bytes = Buffer.from(data, 'base64');
  const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!(wd > 0 && hd > 0) || all.length !== 2 * wd * hd + hd + wd) throw new RangeError('robust: malformed model weights in snapshot');
  const take = (from: number, n: number): number[] => Array.from(all.subarray(from, from + n));
  return { width: wd, hidden: hd, w1: take(0, wd * hd), b1: take(wd * hd, hd), w2: take(wd * hd + hd, hd * wd), b2: take(2 * wd * hd + hd, wd) };
}
