// What a breaker tells its owner: an event for every state change, rejection and fallback
// (never for an ordinary call), and counters the node exposes in /metrics.
import { VigilError } from '../../protocols/index.ts';
import type { BreakerState } from './machine.ts';

export type BreakerNotice =
  | { type: 'state'; breaker: string; from: BreakerState; to: BreakerState; at: number }
  | { type: 'rejected'; breaker: string; state: BreakerState; at: number }
  /** the caller answered from its fallback: the circuit refused the call, or the call failed */
  | { type: 'fallback'; breaker: string; reason: 'rejected' | 'failed'; at: number };

export type BreakerListener = (notice: BreakerNotice) => void;

/** Monotonic counts since the breaker was made. */
export interface BreakerCounters {
  /** calls let through */
  permitted: number;
  succeeded: number;
  failed: number;
  /** answered, but slower than slowCallMs (counted as failures by the machine) */
  slow: number;
  rejected: number;
  fallbacks: number;
  /** state changes */
  transitions: number;
}

export function emptyCounters(): BreakerCounters {
  return { permitted: 0, succeeded: 0, failed: 0, slow: 0, rejected: 0, fallbacks: 0, transitions: 0 };
}

/** A number per state for a gauge (`vigil_breaker_state`). */
export const BREAKER_STATE_CODE: Readonly<Record<BreakerState, number>> = Object.freeze({
  closed: 0, open: 1, halfOpen: 2, forcedOpen: 3, disabled: 4,
});

/** A call the circuit refused. UNAVAILABLE, so the gateway answers 503; not retried (isRetryable). */
export class CircuitOpenError extends VigilError {
  constructor(readonly breaker: string, readonly state: BreakerState) {
    super('UNAVAILABLE', `${breaker}: circuit ${state}`);
    this.name = 'CircuitOpenError';
  }
}
