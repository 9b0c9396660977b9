// What a tenant's next batch can find at most, known without asking Redis: the bound a node
// learns each time the shared bucket answers it, and the refusals it makes certain. Pure.
//
// The bucket (bucket.ts) admits a batch of n when the node's prepaid tokens P cover it, or when
// the shared bucket S holds min(n − P, burst). After an answer at `at`, S only refills at the
// rate up to the burst; every other change lowers it (other nodes' batches, this node's debts)
// or moves tokens from S into P (a block taken, prepaid.ts). So from `at` on, with S0 what S
// held then and P0 what P held or had asked for then:
//   S ≤ min(burst, S0 + rate·Δ),   S + P ≤ S0 + P0 + rate·Δ,   P ≤ max(P0, S0 + P0 + rate·Δ)
// (P grows only by blocks moved out of S, each leaving S ≥ 0). A batch of n passes by the first
// rule only if P ≥ n, by the second only if S + P ≥ n or S ≥ burst: when the last two bounds
// are under n and the first under the burst, it is refused, whatever happened since. The
// refusal process (api/refusals) refuses by this a batch too large to pass, which the block of
// an empty bucket cannot do (a smaller batch could pass).

/** An upper bound on a tenant's tokens, from one answer of its shared bucket. */
export interface TokenBound {
  tenant: string;
  /** when the bucket was asked, Unix ms (wall clock: the same in every process of the host) */
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
 * When a batch of `samples` cannot pass at `now` (Unix ms): the ms until it first could, by the
 * bound (at least 1). Undefined when it might pass: only the bucket can say then.
 */
export function certainRefusal(b: TokenBound, samples: number, now: number): number | undefined {
  const grown = (b.rate * Math.max(0, now - b.at)) / 1000;
  const sum = b.tokens + b.prepaid + grown;
  const shared = Math.min(b.burst, b.tokens + grown);
  if (b.prepaid >= samples || sum >= samples || shared >= b.burst || b.rate <= 0) return undefined;
  // the sooner of: the sum reaching the batch, the shared bucket reaching its burst
  return Math.max(1, Math.ceil((Math.min(samples - sum, b.burst - shared) * 1000) / b.rate));
}
