// Circuit breaker parameters from the design (§1): failures to open, successes in half-open
// to close, time open before half-open, and what the caller falls back to meanwhile.

export interface BreakerParams {
  /** consecutive failures (while closed) that open the circuit */
  failureThreshold: number;
  /** successful trial calls (while half-open) that close it again */
  successThreshold: number;
  /** how long it stays open before letting trial calls through */
  resetTimeoutMs: number;
}

export type BreakerDependency = 'ml_inference' | 'graph_db' | 'external_integrations';
export type BreakerFallback = 'statistical_detection' | 'cached_topology' | 'queue_for_retry';

export const BREAKERS: Readonly<Record<BreakerDependency, Readonly<BreakerParams & { fallback: BreakerFallback }>>> = Object.freeze({
  ml_inference: { failureThreshold: 5, successThreshold: 2, resetTimeoutMs: 30_000, fallback: 'statistical_detection' },
  graph_db: { failureThreshold: 3, successThreshold: 1, resetTimeoutMs: 60_000, fallback: 'cached_topology' },
  external_integrations: { failureThreshold: 10, successThreshold: 3, resetTimeoutMs: 120_000, fallback: 'queue_for_retry' },
});
