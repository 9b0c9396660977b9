// The process-wide model runtime the Robust tier uses unless a detector is given its own.
// Empty until the host loads tfjs (configureRobust({ trainer })): a kernel does no I/O, so it
// cannot load tfjs itself; without a trainer the tier runs statistically (L1).
import type { ModelRuntime } from './residual-model.ts';

let current: ModelRuntime = {};

export function configureRobust(runtime: ModelRuntime): void {
  current = runtime;
}

export function robustRuntime(): ModelRuntime {
  return current;
}
