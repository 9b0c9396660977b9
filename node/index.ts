// node/: the composition root (DESIGN.md §3). It wires the gateway (api/), the cluster layer,
// the actors and the stores into one node. Only entrypoints import it: cli/, test/, bench/, sim/.
export { startNode, CORRELATION_TICK_MS, DEFAULT_SEED } from './compose.ts';
export type { NodeHandle, NodeOptions } from './compose.ts';
export { NodeEngine, batchId, DEFAULT_MAX_WRITER_DEPTH, DEFAULT_STATUS_TIMEOUT_MS } from './engine.ts';
export type { NodeEngineParts } from './engine.ts';
export { ownerRouted, answerOwnerCall, OWNER_METHODS, DESK_METHODS, RUN_METHODS } from './owner-route.ts';
export type { OwnerCall, OwnerAnswer, OwnerLink } from './owner-route.ts';
export { NODE_V8_FLAGS, missingV8Flags, v8FlagsFor, type NodeRole } from './runtime-flags.ts';
