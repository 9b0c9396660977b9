// Running an operation under a RetryPolicy, on the injected Clock and seeded Rng so the
// simulator replays the same schedule. Client errors (bad input, auth, not found...) are not
// retried: trying again cannot fix them.
import { VigilError, type ErrorCode } from '../protocols/index.ts';
import type { Clock, Rng } from '../actors/runtime/types.ts';
import type { RetryPolicy } from './retry-policies.ts';

const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT',
  'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'CONFIG_INVALID',
]);

/** Default: everything is worth retrying except a VigilError with a client-side code. */
export function isRetryable(err: unknown): boolean {
  return !(err instanceof VigilError && PERMANENT.has(err.code));
}

/** Delay before retry number `retry` (1-based). Jitter only with an rng (exponential only). */
export function retryDelay(policy: RetryPolicy, retry: number, rng?: Rng): number {
  const n = Math.max(1, Math.floor(retry));
  const b = policy.backoff;
  switch (b.kind) {
    case 'fixed':
      return b.delayMs;
    case 'linear':
      return b.stepMs * n;
    case 'exponential': {
      const nominal = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, n - 1));
      const spread = rng && b.jitter > 0 ? 1 + b.jitter * (2 * rng.next() - 1) : 1;
      return Math.round(Math.min(b.maxMs, nominal * spread));
    }
  }
}

export interface RetryDeps {
  clock: Clock;
  rng?: Rng;
  retryable?: (err: unknown) => boolean;
  /** told before each wait, e.g. to log or count retries */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `attempt` until it succeeds, a permanent error occurs, or the retries are spent.
 * Each attempt gets an AbortSignal that fires at its timeout (the attempt then counts as a
 * TIMEOUT failure). Gives up with VigilError('UNAVAILABLE') carrying the last error as cause.
 */
export async function retry<T>(
  policy: RetryPolicy,
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  deps: RetryDeps,
): Promise<T> {
  const retryable = deps.retryable ?? isRetryable;
  let lastError: unknown;
  for (let n = 1; n <= policy.retries + 1; n++) {
    try {
      return await withTimeout(policy, n, attempt, deps.clock);
    } catch (err) {
      lastError = err;
      if (!retryable(err)) throw err;
      if (n > policy.retries) break;
      const delayMs = retryDelay(policy, n, deps.rng);
      deps.onRetry?.({ attempt: n, delayMs, error: err });
      await sleep(deps.clock, delayMs);
    }
  }
  throw new VigilError('UNAVAILABLE', `${policy.name}: gave up after ${policy.retries + 1} attempts`, { cause: lastError });
}

function withTimeout<T>(
  policy: RetryPolicy,
  n: number,
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  clock: Clock,
): Promise<T> {
  const abort = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const err = new VigilError('TIMEOUT', `${policy.name}: attempt ${n} took over ${policy.attemptTimeoutMs} ms`);
      abort.abort(err);
      reject(err);
    }, policy.attemptTimeoutMs);
    let run: Promise<T>;
    try {
      run = attempt(n, abort.signal);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
