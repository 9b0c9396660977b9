// Face of the ML support for detection: the tfjs loader (gpu → node → wasm → cpu).
export { loadTf, type Tf, type TfBackend, type LoadedTf, type LoadTfOptions, type TfLog } from './load-tf.ts';
