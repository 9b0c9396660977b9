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
export { BREAKERS } from './breaker-params.ts';
export type { BreakerDependency, BreakerFallback, BreakerParams } from './breaker-params.ts';
export { breakerMachine } from './breaker-machine.ts';
export type { BreakerContext, BreakerEvent, BreakerState } from './breaker-machine.ts';
export { CircuitBreaker, createBreaker } from './breaker.ts';
export type { BreakerView } from './breaker.ts';
export { DEFAULT_RETRY_JITTER, RETRY_POLICIES } from './retry-policies.ts';
export type { RetryBackoff, RetryPolicy, RetryTarget } from './retry-policies.ts';
export { isRetryable, retry, retryDelay } from './retry.ts';
export type { RetryDeps } from './retry.ts';
