// Host glue, not kernel: loads tfjs (gpu → node → wasm → cpu) and installs the autoencoder
// trainer as the process runtime, so every Robust detector created afterwards trains its
// residual model. Call once at start-up (the node, `vigil detect`, the benches); it never
// throws: if tfjs cannot load, the tier stays statistical (L1).
import { createAutoencoderTrainer, loadTf, type TfBackend, type TfLog, type TrainOptions } from '../ml/index.ts';
import { configureRobust } from './runtime.ts';
import { TrainingQueue } from './training-queue.ts';
import { autoencoderModel, type ResidualModel } from './residual-model.ts';

export interface EnableOptions {
  log?: TfLog;
  train?: Partial<TrainOptions>;
  /** 'inline' (default): train at the training sample, exact replay (NAB, tests, `vigil detect`);
   * 'queued': submit to the returned queue, which the host drains off the hot path (a node
   * with thousands of series) */
  schedule?: 'inline' | 'queued';
  /** wraps every model built from trained weights (a node's fault gate: an injected model fault throws) */
  wrap?: (model: ResidualModel) => ResidualModel;
}

export async function enableRobustModel(options: EnableOptions = {}): Promise<{ backend: TfBackend; queue?: TrainingQueue } | undefined> {
  try {
    const { tf, backend } = await loadTf(options.log ? { log: options.log } : {});
    const trainer = createAutoencoderTrainer(tf, options.train);
    const { wrap } = options;
    const build = wrap ? { build: (w: Parameters<typeof autoencoderModel>[0]) => wrap(autoencoderModel(w)) } : {};
    if (options.schedule === 'queued') {
      const queue = new TrainingQueue(trainer);
      configureRobust({ trainer, queue, ...build });
      return { backend, queue };
    }
    configureRobust({ trainer, ...build });
    return { backend };
  } catch (err) {
    options.log?.warn({ reason: (err as Error).message }, 'robust: tfjs unavailable, statistical scoring only (L1)');
    return undefined;
  }
}
