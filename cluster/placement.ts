// Placement (pure): which live node should own each shard, and which moves to make this round.
// Rendezvous (HRW) hashing: a shard goes to the node with the highest weight for the pair
// (shard, node), so a join or a leave moves only the shards whose top node changed. Zones
// first (the shard's zone is the HRW winner among zones), then the node within the zone, so
// shards spread over zones before nodes. A node that pins tenants is dedicated: it takes the
// shards of its pinned tenants and no other. A node kept for large tenants (`dedicated`) takes
// the large tenants that name no nodes (`dedicate`), one to a node while there are enough, and
// no other shard: without one it is a spare. At most a fraction of the shards is moved away
// from a live owner per round (default 10%), so a rolling restart causes no storm; a shard
// whose owner is gone is placed at once (that is failover, not a move). A node of capacity 0 is
// a gateway: it takes requests and owns no shard, so its event loop only answers clients.
import { fnv1a } from '../protocols/index.ts';

export const DEFAULT_MOVE_FRACTION = 0.1;

export interface PlacedNode {
  id: string;
  /** relative weight (default 1): a node of capacity 2 takes about twice the shards; 0 takes none (a gateway) */
  capacity?: number;
  zone?: string;
  /** tenants whose shards this node hosts exclusively (a dedicated node takes no others) */
  pinnedTenants?: readonly string[];
  /** kept for large tenants that name no nodes (`dedicate` gives them out); takes no other shard */
  dedicated?: boolean;
}

/** A node that pins tenants or is kept for large ones: it takes no shared shard while a shared node is live. */
export function keptForOthers(n: PlacedNode): boolean {
  return (n.pinnedTenants ?? []).length > 0 || n.dedicated === true;
}

/** A hash in (0, 1] for a pair of names: stable across processes and versions. */
function unit(a: string, b: string): number {
  // FNV-1a, then murmur3's finalizer: names that differ in one last character still spread
  let h = fnv1a(`${a}\u0000${b}`);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) + 1) / 4294967297;
}

/** The HRW weight of `node` for `shard`; capacity-weighted (-c / ln u keeps the split proportional). */
export function weight(shard: number, node: string, capacity = 1): number {
  return -capacity / Math.log(unit(String(shard), node));
}

function top<T>(items: readonly T[], score: (t: T) => number): T | undefined {
  let best: T | undefined;
  let bestScore = -Infinity;
  for (const t of items) {
    const s = score(t);
    if (s > bestScore) { best = t; bestScore = s; }
  }
  return best;
}

/** The node `shard` belongs on among `nodes` (zones first); undefined when there is none. */
export function ownerOf(shard: number, nodes: readonly PlacedNode[]): string | undefined {
  const zones = [...new Set(nodes.map((n) => n.zone ?? ''))].sort();
  const zone = zones.length > 1 ? top(zones, (z) => weight(shard, `zone:${z}`, nodes.filter((n) => (n.zone ?? '') === z).reduce((c, n) => c + (n.capacity ?? 1), 0))) : zones[0];
  return top(nodes.filter((n) => (n.zone ?? '') === zone), (n) => weight(shard, n.id, n.capacity ?? 1))?.id;
}

/**
 * The desired owner of every shard: pinned shards (`shardOfTenant` of a pinned tenant) to the
 * nodes that pin them, the rest to the nodes that pin nothing (or to all nodes when every live
 * node is dedicated, so no shard is left without an owner).
 */
export function placeShards(shards: number, everyNode: readonly PlacedNode[], shardOfTenant: (tenant: string) => number): Map<number, string> {
  const out = new Map<number, string>();
  // gateways own nothing, even when no other node is live: their shards then wait for an owner
  const nodes = everyNode.filter((n) => (n.capacity ?? 1) > 0);
  if (nodes.length === 0) return out;
  const pinnedBy = new Map<number, PlacedNode[]>();
  for (const n of nodes) {
    for (const t of n.pinnedTenants ?? []) {
      const s = shardOfTenant(t);
      const list = pinnedBy.get(s) ?? [];
      list.push(n);
      pinnedBy.set(s, list);
    }
  }
  const shared = nodes.filter((n) => !keptForOthers(n));
  const pool = shared.length > 0 ? shared : nodes;
  for (let shard = 0; shard < shards; shard++) {
    const owner = ownerOf(shard, pinnedBy.get(shard) ?? pool);
    if (owner !== undefined) out.set(shard, owner);
  }
  return out;
}

/**
 * Gives each of `tenants` (large tenants that name no nodes) a node kept for them (`dedicated`):
 * the one that already holds its shard (`current`) if no other of these tenants took it, else
 * among the nodes with the fewest pinned tenants the HRW winner for its shard. So each gets a
 * node of its own while there are enough, and a tenant moves only when its node is gone.
 * Returns `nodes` with those tenants added to their pins (unchanged without such a node).
 */
export function dedicate(nodes: readonly PlacedNode[], tenants: readonly string[], shardOfTenant: (tenant: string) => number, current: ReadonlyMap<number, string> = new Map()): PlacedNode[] {
  const pool = nodes.filter((n) => n.dedicated === true && (n.capacity ?? 1) > 0);
  const pinned = new Set(nodes.flatMap((n) => n.pinnedTenants ?? []));
  const left = [...new Set(tenants)].filter((t) => !pinned.has(t)).sort();
  if (pool.length === 0 || left.length === 0) return [...nodes];
  const given = new Map(pool.map((n) => [n.id, [...(n.pinnedTenants ?? [])]]));
  const give = (t: string, node: string): void => { given.get(node)?.push(t); };
  const rest: string[] = [];
  for (const t of left) {
    const holder = current.get(shardOfTenant(t));
    if (holder !== undefined && given.get(holder)?.length === 0) give(t, holder);
    else rest.push(t);
  }
  for (const t of rest) {
    const fewest = Math.min(...pool.map((n) => (given.get(n.id) as string[]).length));
    give(t, ownerOf(shardOfTenant(t), pool.filter((n) => (given.get(n.id) as string[]).length === fewest)) as string);
  }
  return nodes.map((n) => (given.has(n.id) ? { ...n, pinnedTenants: given.get(n.id) as string[] } : n));
}

export interface Move {
  shard: number;
  /** undefined: the shard has no live owner (it is placed at once) */
  from: string | undefined;
  to: string;
}

/**
 * This round's moves from `current` (shard → owner, live or not) towards `desired`. Shards with
 * no live owner move at once; shards held by a live node that should move go at most
 * `ceil(fraction × shards)` per round, lowest shard first (every node computes the same list).
 */
export function planMoves(shards: number, current: ReadonlyMap<number, string>, desired: ReadonlyMap<number, string>, live: ReadonlySet<string>, fraction = DEFAULT_MOVE_FRACTION): Move[] {
  const orphans: Move[] = [];
  const moves: Move[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const to = desired.get(shard);
    if (to === undefined) continue;
    const from = current.get(shard);
    if (from === to) continue;
    if (from === undefined || !live.has(from)) orphans.push({ shard, from: undefined, to });
    else moves.push({ shard, from, to });
  }
  const budget = Math.max(1, Math.ceil(fraction * shards));
  return [...orphans, ...moves.slice(0, budget)];
}

/** How many shards each node holds (every live node listed, 0 when it holds none). */
export function countByNode(owners: ReadonlyMap<number, string>, nodes: Iterable<string> = []): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of nodes) out.set(n, 0);
  for (const n of owners.values()) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
}
