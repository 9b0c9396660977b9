// Running an operation under a RetryPolicy, on the injected Clock and seeded Rng so the
// simulator replays the same schedule. Each attempt has its own timeout and the whole run a
// deadline. Errors trying again cannot fix (bad input, auth, not found, a circuit that is
// open) are not retried.
import { VigilError, type ErrorCode } from '../../protocols/index.ts';
import type { Clock, Rng } from '../../actors/runtime/types.ts';
import { CircuitOpenError } from '../breakers/events.ts';
import type { RetryPolicy } from './policies.ts';

/** VigilError codes that are the request's fault, not the dependency's. */
export const PERMANENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT',
  'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'CONFIG_INVALID',
]);

/**
 * A non-2xx answer of an HTTP dependency (a webhook, a runbook's request): `status` is what
 * isRetryable and the breakers read; `body` the answer's parsed body when it had one.
 */
export class HttpStatusError extends Error {
  constructor(readonly status: number, readonly body?: unknown, url?: string) {
    super(url === undefined ? `HTTP ${status}` : `webhook ${url} answered ${status}`);
    this.name = 'HttpStatusError';
  }
}

/** HTTP 4xx answers worth another try: request timeout, too early, too many requests. */
const RETRIABLE_CLIENT_STATUS: ReadonlySet<number> = new Set([408, 425, 429]);

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; statusCode?: unknown };
  const s = e.status ?? e.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Default: everything is worth retrying (network errors, 5xx, TIMEOUT, UNAVAILABLE,
 * QUOTA_EXCEEDED) except a client-side VigilError code, an HTTP 4xx other than 408/425/429
 * (a webhook's answer), and a call an open circuit refused (the breaker is failing fast on
 * purpose; retrying within its reset timeout would only hammer it).
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof CircuitOpenError) return false;
  if (err instanceof VigilError) return !PERMANENT_ERROR_CODES.has(err.code);
  const status = httpStatus(err);
  if (status !== undefined && status >= 400 && status < 500) return RETRIABLE_CLIENT_STATUS.has(status);
  return true;
}

/**
 * Whether an outbound call's error speaks against the receiver, so its breaker counts it: a
 * 5xx, 408/425/429, a timeout or a network error. A refusal (another 4xx, a 3xx) says the
 * receiver is up, and a request's own fault (a client-side VigilError code) says nothing of it.
 */
export function receiverFailed(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || RETRIABLE_CLIENT_STATUS.has(err.status);
  return isRetryable(err);
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
  /** a tighter overall limit than the policy's deadlineMs, from now */
  deadlineMs?: number;
  /** a tighter limit per attempt than the policy's attemptTimeoutMs */
  attemptTimeoutMs?: number;
  /** told before each wait, e.g. to log or count retries */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `attempt` until it succeeds, a permanent error occurs, the retries are spent or the
 * deadline comes. Each attempt gets an AbortSignal that fires at its timeout (the attempt then
 * counts as a TIMEOUT failure), cut short by the deadline. Gives up with
 * VigilError('UNAVAILABLE') when the retries are spent and VigilError('TIMEOUT') at the
 * deadline (also when the next wait would pass it), the last error as cause.
 */
export async function retry<T>(
  policy: RetryPolicy,
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  deps: RetryDeps,
): Promise<T> {
  const retryable = deps.retryable ?? isRetryable;
  const { clock } = deps;
  const deadline = clock.now() + Math.min(policy.deadlineMs ?? Infinity, deps.deadlineMs ?? Infinity);
  const pastDeadline = (n: number, cause: unknown): VigilError =>
    new VigilError('TIMEOUT', `${policy.name}: deadline passed after ${n} attempt${n === 1 ? '' : 's'}`, { cause });
  let lastError: unknown;
  for (let n = 1; n <= policy.retries + 1; n++) {
    const left = deadline - clock.now();
    if (left <= 0) throw pastDeadline(n - 1, lastError);
    const limit = Math.min(policy.attemptTimeoutMs, deps.attemptTimeoutMs ?? Infinity, left);
    try {
      return await withTimeout(policy, n, limit, attempt, clock);
    } catch (err) {
      lastError = err;
      if (!retryable(err)) throw err;
      if (clock.now() >= deadline) throw pastDeadline(n, err);
      if (n > policy.retries) break;
      const delayMs = retryDelay(policy, n, deps.rng);
      if (clock.now() + delayMs >= deadline) throw pastDeadline(n, err);
      deps.onRetry?.({ attempt: n, delayMs, error: err });
      await sleep(clock, delayMs);
    }
  }
  throw new VigilError('UNAVAILABLE', `${policy.name}: gave up after ${policy.retries + 1} attempts`, { cause: lastError });
}

function withTimeout<T>(
  policy: RetryPolicy,
  n: number,
  limitMs: number,
  attempt: (n: number, signal: AbortSignal) => Promise<T>,
  clock: Clock,
): Promise<T> {
  const abort = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const err = new VigilError('TIMEOUT', `${policy.name}: attempt ${n} took over ${limitMs} ms`);
      abort.abort(err);
      reject(err);
    }, limitMs);
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
