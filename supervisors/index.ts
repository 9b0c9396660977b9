// supervisors/: what keeps Vigil alive. Restart decisions (strategies, intensity, backoff)
// are pure here; actors/runtime hosts them over nact.
export { DEFAULT_BACKOFF, DEFAULT_RESTART_INTENSITY, DEFAULT_RESTART_PERIOD_MS } from './defaults.ts';
export { backoffDelay, resolveBackoff } from './backoff.ts';
export { RestartWindow } from './restart-window.ts';
export { STRATEGIES, restartTargets } from './strategy.ts';
export { Supervisor, resolveSupervision } from './supervisor.ts';
export type { RestartDecision, SupervisionPolicy } from './supervisor.ts';
export { flattenTree, renderTree, summarizeTree } from './tree.ts';
export type { ActorRow } from './tree.ts';
// Circuit breakers, retries, the degradation level and CPU priorities: each folder has its own face.
export * from './breakers/index.ts';
export * from './retry/index.ts';
export * from './degradation/index.ts';
export * from './cpu-priority/index.ts';
