// Exponential restart backoff: the n-th restart within the window waits initial·factor^(n-1), capped.
import { VigilError } from '../protocols/index.ts';
import type { BackoffOptions } from '../actors/runtime/types.ts';
import { DEFAULT_BACKOFF } from './defaults.ts';

/** Fills in defaults and rejects nonsense (negative delays, shrinking factors). */
export function resolveBackoff(partial: Partial<BackoffOptions> = {}): BackoffOptions {
  const b: BackoffOptions = { ...DEFAULT_BACKOFF, ...stripUndefined(partial) };
  if (!(b.initialMs >= 0) || !(b.maxMs >= 0) || !(b.factor >= 1) || !Number.isFinite(b.factor)) {
    throw new VigilError('CONFIG_INVALID', `backoff needs initialMs>=0, maxMs>=0, factor>=1 (got ${JSON.stringify(b)})`);
  }
  return b;
}

/** Delay before restart number `attempt` (1-based). */
export function backoffDelay(attempt: number, b: BackoffOptions): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = b.initialMs * Math.pow(b.factor, n - 1);
  return Math.min(b.maxMs, raw);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
