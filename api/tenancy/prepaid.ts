// Tokens a node has already taken from a tenant's shared bucket, ahead of the batches that will
// spend them ("a block"). A tenant within its rate then meets Redis about once per block instead
// of once per batch, and never on its batch's path: the next block is asked for while half of the
// last one is left. Every token spent here was taken from the shared bucket first, so the cluster
// still admits at most rate x time + burst; a block held on one node while another is refused
// moves admission in time by at most one block, which is why a block is a short time of the rate
// split among the nodes. Pure: the gate (quotas.ts) does the asking.
import type { BucketParams } from './bucket.ts';

/** A block is this much of the tenant's rate, split among the nodes sharing it. */
export const DEFAULT_QUOTA_BLOCK_MS = 100;

/**
 * The block a node asks for: `blockMs` of the rate over `nodes`, at least the batch just seen (so a
 * tenant's usual batch fits in one block) and at most half the burst (the rest stays shared).
 * 0: the tenant is too small for blocks; every batch asks the shared bucket.
 */
export function blockSize(p: BucketParams, nodes: number, blockMs: number, lastBatch: number): number {
  if (blockMs <= 0) return 0;
  const size = Math.floor(Math.min(p.burst / 2, Math.max((p.rate * blockMs) / 1000 / Math.max(1, nodes), lastBatch)));
  return size >= 1 ? size : 0;
}

/** The tokens held by tenant. */
export class PrepaidTokens {
  private readonly held = new Map<string, number>();

  /** Spends `cost` if the tenant holds that many; false (and nothing spent) otherwise. */
  spend(tenant: string, cost: number): boolean {
    const left = this.held.get(tenant) ?? 0;
    if (left < cost) return false;
    this.held.set(tenant, left - cost);
    return true;
  }

  /** Everything the tenant holds, now no longer held (a batch larger than it pays the rest to the shared bucket). */
  takeAll(tenant: string): number {
    const left = this.held.get(tenant) ?? 0;
    this.held.delete(tenant);
    return left;
  }

  add(tenant: string, tokens: number): void {
    if (tokens > 0) this.held.set(tenant, (this.held.get(tenant) ?? 0) + tokens);
  }

  left(tenant: string): number {
    return this.held.get(tenant) ?? 0;
  }

  /** Drops every block (a quota changed: the new one applies from the next batch). */
  clear(): void {
    this.held.clear();
  }
}
