// Retry policies from the design (§1): retries after the first attempt, the backoff between
// them, and the time one attempt may take (the table's "timeout": per attempt, since the
// webhook schedule alone waits 155 s against its 30 s). Exponential backoff gets ±jitter (from
// the seeded Rng) and a cap, so many clients retrying at once spread out instead of hammering
// in step. The overall deadline is ours (the table has none): past it the caller takes its
// fallback (spill, statistical score, queue) instead of waiting on.

import { VigilError } from '../../protocols/index.ts';

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
  /** the whole run's time limit, waits included (a call may pass a tighter one); none if absent */
  readonly deadlineMs?: number;
}

export type RetryTarget = 'api_call' | 'database_write' | 'bus_publish' | 'ml_inference' | 'external_webhook';

/** ±10 %: enough to break lock-step, small enough to keep the designed schedule recognisable. */
export const DEFAULT_RETRY_JITTER = 0.1;

/** Overall deadlines: an API call within a minute; a write past 30 s is an outage (spill it);
 * the bus gets two minutes (its own schedule waits ~43 s); inference falls back to statistics
 * after 10 s; a webhook goes back to its queue after 10 minutes. */
export const DEFAULT_RETRY_DEADLINES: Readonly<Record<RetryTarget, number>> = Object.freeze({
  api_call: 60_000,
  database_write: 30_000,
  bus_publish: 120_000,
  ml_inference: 10_000,
  external_webhook: 600_000,
});

const D = DEFAULT_RETRY_DEADLINES;

export const RETRY_POLICIES: Readonly<Record<RetryTarget, RetryPolicy>> = Object.freeze({
  // 1 s, 2 s, 4 s
  api_call: { name: 'api_call', retries: 3, backoff: { kind: 'exponential', initialMs: 1_000, factor: 2, maxMs: 4_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 30_000, deadlineMs: D.api_call },
  // 100, 200, 300, 400, 500 ms
  database_write: { name: 'database_write', retries: 5, backoff: { kind: 'linear', stepMs: 100 }, attemptTimeoutMs: 10_000, deadlineMs: D.database_write },
  // 100 ms doubling, capped at 10 s (a durable log that is down for longer is an outage, not a blip)
  bus_publish: { name: 'bus_publish', retries: 10, backoff: { kind: 'exponential', initialMs: 100, factor: 2, maxMs: 10_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 60_000, deadlineMs: D.bus_publish },
  // 500 ms, 500 ms
  ml_inference: { name: 'ml_inference', retries: 2, backoff: { kind: 'fixed', delayMs: 500 }, attemptTimeoutMs: 5_000, deadlineMs: D.ml_inference },
  // 5, 10, 20, 40, 80 s
  external_webhook: { name: 'external_webhook', retries: 5, backoff: { kind: 'exponential', initialMs: 5_000, factor: 2, maxMs: 80_000, jitter: DEFAULT_RETRY_JITTER }, attemptTimeoutMs: 30_000, deadlineMs: D.external_webhook },
});

/** A custom policy, checked (CONFIG_INVALID names the bad field). */
export function defineRetryPolicy(p: RetryPolicy): RetryPolicy {
  const bad: string[] = [];
  if (!Number.isInteger(p.retries) || p.retries < 0) bad.push('retries must be an integer >= 0');
  if (!(p.attemptTimeoutMs > 0)) bad.push('attemptTimeoutMs must be > 0');
  if (p.deadlineMs !== undefined && !(p.deadlineMs > 0)) bad.push('deadlineMs must be > 0');
  const b = p.backoff;
  if (b.kind === 'exponential' && !(b.initialMs >= 0 && b.factor >= 1 && b.maxMs >= b.initialMs && b.jitter >= 0 && b.jitter < 1)) {
    bad.push('exponential backoff needs initialMs >= 0, factor >= 1, maxMs >= initialMs, 0 <= jitter < 1');
  }
  if (b.kind === 'linear' && !(b.stepMs >= 0)) bad.push('linear backoff needs stepMs >= 0');
  if (b.kind === 'fixed' && !(b.delayMs >= 0)) bad.push('fixed backoff needs delayMs >= 0');
  if (bad.length > 0) throw new VigilError('CONFIG_INVALID', `retry policy ${p.name}: ${bad.join('; ')}`);
  return Object.freeze({ ...p, backoff: Object.freeze({ ...p.backoff }) });
}
