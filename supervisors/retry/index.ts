// supervisors/retry: the design's retry table as named policies, and the runner.
export { DEFAULT_RETRY_DEADLINES, DEFAULT_RETRY_JITTER, RETRY_POLICIES, defineRetryPolicy } from './policies.ts';
export type { RetryBackoff, RetryPolicy, RetryTarget } from './policies.ts';
export { HttpStatusError, PERMANENT_ERROR_CODES, isRetryable, receiverFailed, retry, retryDelay } from './retry.ts';
export type { RetryDeps } from './retry.ts';
