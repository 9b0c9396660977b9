// Membership (pure): what a node announces in its heartbeat and who counts as alive. The
// heartbeats live in a NATS KV bucket whose entries lapse after `deadAfterMs` (the bucket's
// TTL, nats-membership.ts); this also checks the heartbeat's own time, so an entry the server
// has not yet expired is not mistaken for a live node.
import type { PlacedNode } from './placement.ts';

/** A node is dead when its heartbeat is older than this (the bound: ≤ 3 s). */
export const DEFAULT_DEAD_AFTER_MS = 3_000;
/** Three heartbeats per lapse: one lost heartbeat never kills a node. */
export const DEFAULT_HEARTBEAT_MS = 1_000;

export interface Heartbeat extends PlacedNode {
  /** where its gateway listens (`vigil ctl` prints it) */
  address: string;
  capacity: number;
  zone: string;
  pinnedTenants: string[];
  /** the sender's clock when it sent this heartbeat */
  at: number;
  /** draining: it holds shards only until they are handed off, and takes none */
  draining?: boolean;
  /** its degradation level (0-4; absent: 0): from DEGRADED_LEVEL on it takes no shards while a healthier node can */
  level?: number;
}

/** A node at this level or worse (L3: its store or its log is down) is placed no shards while a healthier node is there. */
export const DEGRADED_LEVEL = 3;

/** The live nodes among `beats` (key: node id), by id. */
export function liveNodes(beats: Iterable<Heartbeat>, now: number, deadAfterMs = DEFAULT_DEAD_AFTER_MS): Heartbeat[] {
  return [...beats].filter((b) => now - b.at < deadAfterMs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A span of time in which a node's own heartbeats did not reach its view (the bus was away from it). */
export interface ViewOutage {
  from: number;
  to: number;
}

/**
 * The heartbeats aged as a node whose view stood still over `outage` must age them: no one's
 * heartbeat could reach it then, so that time does not count against anyone. Without this, the
 * first node back after a partition heals or a JetStream election sees every other node's
 * heartbeat as old as the outage, finds itself alone and takes every shard.
 */
export function agedAcrossOutage(beats: readonly Heartbeat[], outage: ViewOutage): Heartbeat[] {
  return beats.map((b) => (b.at >= outage.to ? b : { ...b, at: b.at + (outage.to - Math.max(b.at, outage.from)) }));
}

/**
 * The nodes that may take shards: alive, not draining, not a gateway (capacity 0), and not
 * degraded (L3 or worse) unless every such node is (then a degraded node is better than none).
 */
export function placeable(live: readonly Heartbeat[]): Heartbeat[] {
  const willing = live.filter((b) => !b.draining && b.capacity > 0);
  const healthy = willing.filter((b) => (b.level ?? 0) < DEGRADED_LEVEL);
  return healthy.length > 0 ? healthy : willing;
}

/** Reads a heartbeat back (a malformed entry is not a member). */
export function parseHeartbeat(json: string): Heartbeat | undefined {
  try {
    const b = JSON.parse(json) as Partial<Heartbeat>;
    if (typeof b.id !== 'string' || typeof b.at !== 'number' || typeof b.address !== 'string') return undefined;
    return {
      id: b.id, address: b.address, at: b.at,
      capacity: typeof b.capacity === 'number' && b.capacity >= 0 ? b.capacity : 1, // 0: a gateway
      zone: typeof b.zone === 'string' ? b.zone : '',
      pinnedTenants: Array.isArray(b.pinnedTenants) ? b.pinnedTenants.filter((t): t is string => typeof t === 'string') : [],
      ...(b.draining === true ? { draining: true } : {}),
      ...(b.dedicated === true ? { dedicated: true } : {}),
      ...(typeof b.level === 'number' && b.level > 0 ? { level: b.level } : {}),
    };
  } catch {
    return undefined;
  }
}
