// Loads TensorFlow.js with the fastest backend this machine has: tfjs-node-gpu → tfjs-node →
// wasm → cpu (DESIGN.md §4). The native packages are optional (their install downloads
// libtensorflow and may be dropped), so every step is a guarded dynamic import: a missing or
// broken package moves on to the next step and loadTf() itself never throws.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;
export type TfBackend = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type LoadedTf = { tf: Tf; backend: TfBackend };

/** The slice of a pino logger the loader uses (pino's Logger satisfies it). */
export type TfLog = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };

export type LoadTfOptions = {
  log?: TfLog;
  /** skip steps (e.g. ['tensorflow-gpu', 'tensorflow'] to force a portable backend) */
  skip?: readonly TfBackend[];
};

// Native packages are imported by a computed name so TypeScript does not need their types
// and the import stays a run-time question.
const NATIVE: ReadonlyArray<{ backend: 'tensorflow-gpu' | 'tensorflow'; pkg: string }> = [
  { backend: 'tensorflow-gpu', pkg: '@tensorflow/tfjs-node-gpu' },
  { backend: 'tensorflow', pkg: '@tensorflow/tfjs-node' },
];

let loaded: Promise<LoadedTf> | undefined;

/** Loads tfjs once per process (later calls share the first result) and logs the backend. */
export function loadTf(options: LoadTfOptions = {}): Promise<LoadedTf> {
  loaded ??= pick(options).then((result) => {
    options.log?.info({ backend: result.backend }, 'tfjs backend loaded');
    return result;
  });
  return loaded;
}

async function pick(options: LoadTfOptions): Promise<LoadedTf> {
  const skip = new Set(options.skip ?? []);
  for (const { backend, pkg } of NATIVE) {
    if (skip.has(backend)) continue;
    const tf = await tryNative(pkg, options.log);
    if (tf) return { tf, backend };
  }
  const tf: Tf = await import('@tensorflow/tfjs');
  if (!skip.has('wasm') && (await tryWasm(tf, options.log))) return { tf, backend: 'wasm' };
  await tf.setBackend('cpu');
  await tf.ready();
  return { tf, backend: 'cpu' };
}

async function tryNative(pkg: string, log?: TfLog): Promise<Tf | undefined> {
  try {
    const tf = (await import(pkg)) as Tf;
    await tf.ready();
    return tf;
  } catch (err) {
    log?.info({ pkg, reason: (err as Error).message.split('\n')[0] }, 'tfjs native backend unavailable');
    return undefined;
  }
}

async function tryWasm(tf: Tf, log?: TfLog): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm binaries are read from the package's dist folder, not fetched.
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(join(dist, '/'));
    return (await tf.setBackend('wasm')) && tf.getBackend() === 'wasm';
  } catch (err) {
    log?.warn({ reason: (err as Error).message.split('\n')[0] }, 'tfjs wasm backend unavailable');
    return false;
  }
}
