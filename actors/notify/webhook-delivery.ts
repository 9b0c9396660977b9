// One webhook delivery, as both senders make it: the on-call and SRE notices (webhook.ts) and
// the requests of runbook steps (actors/automation/deliveries.ts). The attempts run under a
// retry policy (external_webhook by default: 5 retries at 5, 10, 20, 40, 80 s, 30 s per
// attempt), each through the receiver's breaker (external_integrations), which counts only
// what speaks against the receiver (receiverFailed). What to do with a delivery that did not
// go through (queue it, drop it, fail a step) is the caller's: the outcome says which case it is.
import type { Clock, Rng } from '../runtime/index.ts';
import { VigilError } from '../../protocols/index.ts';
import {
  CircuitOpenError, RETRY_POLICIES, isRetryable, receiverFailed, retry, type Breaker, type RetryDeps, type RetryPolicy,
} from '../../supervisors/index.ts';

export type WebhookOutcome<T> =
  | { type: 'sent'; answer: T; attempts: number }
  /** the receiver's circuit is open: nothing more was sent (the breaker's fallback is the caller's queue) */
  | { type: 'held'; attempts: number; error: CircuitOpenError }
  /** not worth another try: the receiver refused it (a 4xx other than 408/425/429), the request's own fault, a cancel */
  | { type: 'refused'; attempts: number; error: unknown }
  /** the retries are spent or the policy's deadline passed (a VigilError UNAVAILABLE or TIMEOUT, the last error its cause) */
  | { type: 'spent'; attempts: number; error: unknown };

export interface WebhookDeliveryOptions {
  clock: Clock;
  /** jitter for the backoff (absent: the nominal delays) */
  rng?: Rng;
  /** the receiver's breaker (absent: unguarded) */
  breaker?: Breaker;
  policy?: RetryPolicy;
  /** which errors are worth another attempt (default: isRetryable) */
  retryable?: (err: unknown) => boolean;
  /** the caller gave up (a cancelled run): no further attempt, the one in flight aborted; not the receiver's fault */
  cancel?: AbortSignal;
  onRetry?: RetryDeps['onRetry'];
}

/** The error a cancelled delivery ends with (BAD_REQUEST: not retried, not counted by the breaker). */
function cancelled(cause?: unknown): VigilError {
  return new VigilError('BAD_REQUEST', 'cancelled', cause === undefined ? undefined : { cause });
}

/**
 * Sends with retries, each attempt (`send`, given the attempt's abort signal) through the
 * breaker. Resolves with the outcome, never rejects. `attempts` counts the sends the breaker
 * let through.
 */
export async function deliverWebhook<T>(send: (signal: AbortSignal) => Promise<T>, o: WebhookDeliveryOptions): Promise<WebhookOutcome<T>> {
  const { breaker, cancel } = o;
  const retryable = o.retryable ?? isRetryable;
  let attempts = 0;
  const once = async (attemptSignal: AbortSignal): Promise<T> => {
    attempts++;
    try {
      return await send(cancel ? AbortSignal.any([attemptSignal, cancel]) : attemptSignal);
    } catch (err) {
      // a cancel says nothing about the receiver (not a breaker failure, not retried)
      if (cancel?.aborted) throw cancelled(err);
      throw err;
    }
  };
  try {
    const answer = await retry(o.policy ?? RETRY_POLICIES.external_webhook, (_n, signal) => {
      if (cancel?.aborted) throw cancelled();
      return breaker ? breaker.call(() => once(signal), { countsAsFailure: receiverFailed }) : once(signal);
    }, {
      clock: o.clock,
      retryable,
      ...(o.rng ? { rng: o.rng } : {}),
      ...(o.onRetry ? { onRetry: o.onRetry } : {}),
    });
    return { type: 'sent', answer, attempts };
  } catch (err) {
    if (err instanceof CircuitOpenError) return { type: 'held', attempts, error: err };
    return retryable(err) ? { type: 'spent', attempts, error: err } : { type: 'refused', attempts, error: err };
  }
}
