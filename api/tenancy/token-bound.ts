// What a tenant's next batch can find at most, known without asking Redis: the bound a node
// learns each time the shared bucket answers it, and the refusals it makes certain. Pure.
//
// The bucket (bucket.ts) admits a batch of n when the node's prepaid tokens P cover it, or when
// the shared bucket S holds min(n − P, burst). After an answer at `at`, S only refills at the
// rate up to the burst (Δ as Redis' clock counts it: REFILL_RESOLUTION_MS, CLOCK_DRIFT); every
// other change lowers it (other nodes' batches, this node's debts) or moves tokens from S into P
// (a block taken, prepaid.ts). So from `at` on, with S0 what S held then and P0 what P held or
// had asked for then:
//   S ≤ min(burst, S0 + rate·Δ),   S + P ≤ S0 + P0 + rate·Δ,   P ≤ max(P0, S0 + P0 + rate·Δ)
// (P grows only by blocks moved out of S, each leaving S ≥ 0). A batch of n passes by the first
// rule only if P ≥ n, by the second only if S + P ≥ n or S ≥ burst: when the last two bounds
// are under n and the first under the burst, it is refused, whatever happened since. The
// refusal process (api/refusals) refuses by this a batch too large to pass, which the block of
// an empty bucket cannot do (a smaller batch could pass).

/** An upper bound on a tenant's tokens, from one answer of its shared bucket. */
export interface TokenBound {
  tenant: string;
  /** when the bucket was asked, in `hostMs` */
  at: number;
  /** what the shared bucket held after its answer (negative: debt) */
  tokens: number;
  /** what the node held for the tenant then, with what it had asked for and not yet been answered */
  prepaid: number;
  rate: number;
  burst: number;
  /** the tenant's quota as refusals word it (quotas.ts) */
  quota: string;
}

/**
 * Redis counts a refill in whole milliseconds of its own clock (redis-bucket.ts), which can
 * credit up to 1 ms more than elapsed here; a bound allows that much more refill.
 */
export const REFILL_RESOLUTION_MS = 1;
/** How far Redis' clock may run ahead of this host's over a bound's life (NTP slews at most 0.05%). */
export const CLOCK_DRIFT = 0.001;

/**
 * Milliseconds of the host's monotonic clock (CLOCK_MONOTONIC, which every process of the host
 * reads alike and no wall-clock step moves): the clock a bound crosses processes in.
 */
export function hostMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * When a batch of `samples` cannot pass at `now` (`hostMs`): the ms until it first could, by the
 * bound (at least 1). Undefined when it might pass: only the bucket can say then.
 */
export function certainRefusal(b: TokenBound, samples: number, now: number): number | undefined {
  const grown = (b.rate * (Math.max(0, now - b.at) * (1 + CLOCK_DRIFT) + REFILL_RESOLUTION_MS)) / 1000;
  const sum = b.tokens + b.prepaid + grown;
  const shared = Math.min(b.burst, b.tokens + grown);
  if (b.prepaid >= samples || sum >= samples || shared >= b.burst || b.rate <= 0) return undefined;
  // the sooner of: the sum reaching the batch, the shared bucket reaching its burst
  return Math.max(1, Math.ceil((Math.min(samples - sum, b.burst - shared) * 1000) / b.rate));
}
