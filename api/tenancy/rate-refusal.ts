// The 429 a tenant over its ingestion rate gets, in one place: the gateway's quota gate
// builds it, and so does the refusal process (api/refusals), which answers a flooding
// tenant's connections off the gateway's event loop and must say the same thing.
import { QuotaError } from '../../protocols/index.ts';

/** What every refusal of an empty bucket says: why the request came too early. */
export const EMPTY_BUCKET = 'its bucket is empty';

/** What the refusal of a batch the bucket cannot hold yet says. */
export function batchTooLarge(samples: number, burst: number): string {
  return `this batch of ${samples} samples needs ${Math.min(samples, burst)} tokens`;
}

/**
 * The refusal of `tenant` whose bucket (`quota`: its rate and burst, as the gate words them)
 * holds enough again in `retryAfterMs`. Retry-After is whole seconds, at least one.
 */
export function rateRefusal(tenant: string, quota: string, why: string, retryAfterMs: number): QuotaError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  // no stack trace: a 429 is a decision, never logged with one, and a flood is made of them
  // (capturing one was a fifth of the refusal process's time per refusal)
  const depth = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new QuotaError(`tenant ${tenant}: ingestion rate quota exceeded${quota}: ${why}; retry after ${seconds} s`, seconds);
  } finally {
    Error.stackTraceLimit = depth;
  }
}
