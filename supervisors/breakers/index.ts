// supervisors/breakers: one circuit breaker (an xstate v5 machine), two executors of it, and
// the registry a node owns. See README.md for the decisions and figures.
export {
  BREAKERS, DEFAULT_FAILURE_RATE, DEFAULT_MINIMUM_CALLS, DEFAULT_WINDOW_SIZE, MAX_WINDOW_SIZE,
  namedBreakerParams, resolveBreakerParams,
} from './params.ts';
export type { BreakerDependency, BreakerFallback, BreakerParams, NamedBreaker, ResolvedBreakerParams } from './params.ts';
export {
  BREAKER_DELAYS, BREAKER_GUARDS, BREAKER_STATES, BREAKER_UPDATES, breakerMachine, contextFor, initialContext, permits, windowFailures,
} from './machine.ts';
export type { BreakerContext, BreakerEvent, BreakerInput, BreakerResult, BreakerState } from './machine.ts';
export { advanceRecord, compileBreakerConfig, initialRecord, stepRecord } from './step.ts';
export type { BreakerRecord } from './step.ts';
export { BREAKER_STATE_CODE, CircuitOpenError, emptyCounters } from './events.ts';
export type { BreakerCounters, BreakerListener, BreakerNotice } from './events.ts';
export { Breaker, CircuitBreaker, LeanBreaker, REJECTED, createBreaker } from './breaker.ts';
export type { BreakerOptions, BreakerSnapshot, BreakerView, CallOptions, TimeSource } from './breaker.ts';
export { BREAKER_COMMANDS, BreakerRegistry } from './registry.ts';
export type { BreakerCommand, BreakerMetricsRow } from './registry.ts';
