// Host glue, not kernel: loads tfjs (gpu → node → wasm → cpu) and installs the autoencoder
// trainer as the process runtime, so every Robust detector created afterwards trains its
// residual model. Call once at start-up (the node, `vigil detect`, the benches); it never
// throws: if tfjs cannot load, the tier stays statistical (L1).
import { createAutoencoderTrainer, loadTf, type TfBackend, type TfLog, type TrainOptions } from '../ml/index.ts';
import { configureRobust } from './runtime.ts';

export async function enableRobustModel(options: { log?: TfLog; train?: Partial<TrainOptions> } = {}): Promise<TfBackend | undefined> {
  try {
    const { tf, backend } = await loadTf(options.log ? { log: options.log } : {});
    configureRobust({ trainer: createAutoencoderTrainer(tf, options.train) });
    return backend;
  } catch (err) {
    options.log?.warn({ reason: (err as Error).message }, 'robust: tfjs unavailable, statistical scoring only (L1)');
    return undefined;
  }
}
