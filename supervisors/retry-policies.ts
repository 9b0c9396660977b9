// Retry policies from the design (§1): retries after the first attempt, the backoff between
// them, and the time one attempt may take. Exponential backoff gets ±jitter (from the seeded
// Rng) and a cap, so many clients retrying at once spread out instead of hammering in step.

export type RetryBackoff =
  | { kind: 'exponential'; initialMs: number; factor: number; maxMs: number; jitter: number }
  | { kind: 'linear'; stepMs: number }
  | { kind: 'fixed'; delayMs: number };

export interface RetryPolicy {
  readonly name: string;
  /** retries after the first attempt */
  readonly retries: number;
  readonly backoff: RetryBackoff;
  /** one attempt's time limit */
  readonly attemptTimeoutMs: number;
}

export type RetryTarget = 'api_call' | 'database_write' | 'bus_publish' | 'ml_inference' | 'external_webhook';

/** ±10 %: enough to break lock-step, small enough to keep the designed schedule recognisable. */
export const DEFAULT_RETRY_JITTER = 0.1;

export const RETRY_POLICIES: Readonly<Record<RetryTarget, RetryPolicy>> = Object.freeze({
  // 1 s, 2 s, 4 s
  api_call: { name: 'api_call', retries: 3, backoff: { kind: 'exponential', initialMs: 1_000, factor: 2, maxMs: 4_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 30_000 },
  // 100, 200, 300, 400, 500 ms
  database_write: { name: 'database_write', retries: 5, backoff: { kind: 'linear', stepMs: 100 }, attemptTimeoutMs: 10_000 },
  // 100 ms doubling, capped at 10 s (a durable log that is down for longer is an outage, not a blip)
  bus_publish: { name: 'bus_publish', retries: 10, backoff: { kind: 'exponential', initialMs: 100, factor: 2, maxMs: 10_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 60_000 },
  // 500 ms, 500 ms
  ml_inference: { name: 'ml_inference', retries: 2, backoff: { kind: 'fixed', delayMs: 500 }, attemptTimeoutMs: 5_000 },
  // 5, 10, 20, 40, 80 s
  external_webhook: { name: 'external_webhook', retries: 5, backoff: { kind: 'exponential', initialMs: 5_000, factor: 2, maxMs: 80_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 30_000 },
});
