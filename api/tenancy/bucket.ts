// The token bucket a tenant's ingestion draws from, in samples. The same rule runs in Redis
// (redis-bucket.ts, shared by every node) and in process (the fallback while Redis is away):
// - the bucket refills at `rate` per second up to `burst`;
// - a batch of `cost` samples is admitted when the bucket holds min(cost, burst): so a batch
//   larger than the burst still passes, from a full bucket, and leaves it in debt (negative),
//   which the following refill pays back. Over any window the samples admitted stay within
//   rate × window + burst, and no batch is refused for ever;
// - a refused batch learns how long until it would pass: Retry-After.
export interface BucketParams {
  /** samples per second */
  rate: number;
  /** most samples the bucket holds */
  burst: number;
}

export interface BucketState {
  tokens: number;
  /** ms of the last refill */
  at: number;
}

export interface TakeResult {
  ok: boolean;
  /** when refused: ms until this batch would be admitted (at least 1) */
  retryAfterMs: number;
  /** tokens left (negative: debt) */
  tokens: number;
}

/** Takes `cost` from the bucket at `now`; returns the new state and the answer. Pure. */
export function take(state: BucketState | undefined, p: BucketParams, cost: number, now: number): { state: BucketState; result: TakeResult } {
  let tokens = state?.tokens ?? p.burst;
  let at = state?.at ?? now;
  if (now > at) {
    tokens = Math.min(p.burst, tokens + ((now - at) * p.rate) / 1000);
    at = now;
  }
  tokens = Math.min(tokens, p.burst); // a burst lowered by a reload takes effect at once
  const need = Math.min(cost, p.burst);
  if (tokens >= need) return { state: { tokens: tokens - cost, at }, result: { ok: true, retryAfterMs: 0, tokens: tokens - cost } };
  return { state: { tokens, at }, result: { ok: false, retryAfterMs: Math.max(1, Math.ceil(((need - tokens) * 1000) / p.rate)), tokens } };
}

/** In-process buckets by tenant, on an injected clock. */
export class LocalBuckets {
  private readonly states = new Map<string, BucketState>();

  constructor(private readonly now: () => number) {}

  take(tenant: string, p: BucketParams, cost: number): TakeResult {
    const { state, result } = take(this.states.get(tenant), p, cost, this.now());
    this.states.set(tenant, state);
    return result;
  }

  /**
   * Takes `cost` whatever the bucket holds (the shared bucket admitted it), down to at most
   * one burst of debt: the local bucket shadows what this node takes while Redis decides,
   * so a switch to it gives no fresh burst (a flapping Redis would otherwise hand out one
   * per flap).
   */
  charge(tenant: string, p: BucketParams, cost: number): void {
    const { state } = take(this.states.get(tenant), p, 0, this.now());
    this.states.set(tenant, { tokens: Math.max(-p.burst, state.tokens - cost), at: state.at });
  }
}
