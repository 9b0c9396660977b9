// Leases with fencing (pure). A node owns a shard only while it holds the shard's lease: a KV
// entry created by revision (create fails while another holds it) and renewed by revision
// (update with the last revision seen). The revision of the create is the fencing token: it
// grows with every new owner, so a write carrying an older token is refused.
//
// Timing: the server drops a lease entry `ttlMs` after its last renewal arrived. The holder
// counts its lease from when it SENT the renewal, minus a margin, so it stops before the server
// could let another node create the entry: the old owner's validity ends before the new
// owner's can begin (on clocks that run at the same rate, as on one machine or with NTP).

export const DEFAULT_LEASE_TTL_MS = 3_000;
/** The holder gives up this long before the server could expire its entry. */
export const DEFAULT_LEASE_MARGIN_MS = 500;

export interface Lease {
  shard: number;
  node: string;
  /** revision of the create: the fencing token */
  token: number;
  /** revision of the last renewal (what the next update must name) */
  revision: number;
  /** the holder's clock when it sent the create or last renewal that succeeded */
  renewedAt: number;
}

/** Until when (holder's clock) the holder may act on `lease`. */
export function validUntil(lease: Lease, ttlMs = DEFAULT_LEASE_TTL_MS, marginMs = DEFAULT_LEASE_MARGIN_MS): number {
  return lease.renewedAt + ttlMs - marginMs;
}

export function isValid(lease: Lease | undefined, now: number, ttlMs = DEFAULT_LEASE_TTL_MS, marginMs = DEFAULT_LEASE_MARGIN_MS): boolean {
  return lease !== undefined && now < validUntil(lease, ttlMs, marginMs);
}

/**
 * Whether a write fenced with `token` may be applied, given the newest token the guarded
 * resource has seen for the shard: tokens only grow, so an older one is a stale owner.
 */
export function fencingAccepts(newestSeen: number | undefined, token: number): boolean {
  return newestSeen === undefined || token >= newestSeen;
}

/** What a lease entry holds (the token travels with it, so a reader can fence by it). */
export interface LeaseValue {
  node: string;
  token: number;
}

export function parseLeaseValue(json: string): LeaseValue | undefined {
  try {
    const v = JSON.parse(json) as Partial<LeaseValue>;
    return typeof v.node === 'string' && typeof v.token === 'number' ? { node: v.node, token: v.token } : undefined;
  } catch {
    return undefined;
  }
}
