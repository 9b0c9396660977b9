// The two-level cache: L1 in process (lru-cache, TTL per entry on the injected clock), L2
// Redis (optional). Read-through with an origin loader, explicit invalidation, write-through.
// Values are JSON in L2 and deep-frozen in L1: a caller that mutates a cached value gets a
// TypeError instead of silently changing what the next caller reads.
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Clock } from '../../actors/runtime/types.ts';
import { SystemClock } from '../../actors/runtime/index.ts';
import { RedisL2 } from './l2.ts';
import type { Invalidation } from './l2.ts';
import { CACHE_POLICIES } from './policies.ts';
import type { CacheKind, CacheRef } from './policies.ts';

export const DEFAULT_L1_MAX_ENTRIES = 50_000;

export interface CacheOptions {
  /** Redis URL for L2 (redis://127.0.0.1:6379); none: L1 only. */
  redisUrl?: string | undefined;
  /** Before every L2 key and the invalidation channel: one per deployment or test run. */
  prefix: string;
  log: Logger;
  clock?: Clock;
  l1MaxEntries?: number;
  /** Identifies this node on the invalidation channel (default: random). */
  instanceId?: string;
  commandTimeoutMs?: number;
  retryAfterMs?: number;
  maxPendingInvalidations?: number;
}

export interface KindCounters {
  l1Hits: number;
  l1Misses: number;
  l2Hits: number;
  l2Misses: number;
  loads: number;
}

export interface CacheStats {
  l1Entries: number;
  l2Configured: boolean;
  l2Up: boolean;
  l2Errors: number;
  l2Skipped: number;
  l2Downs: number;
  pendingInvalidations: number;
  loadErrors: number;
  byKind: Record<CacheKind, KindCounters>;
}

interface L1Entry {
  value: unknown;
  group: string | undefined;
}

interface Flight {
  promise: Promise<unknown>;
  group: string | undefined;
  /** invalidated while loading: hand the value to the waiting callers, cache nothing */
  stale: boolean;
}

export class TwoLevelCache {
  private readonly l1: LRUCache<string, L1Entry>;
  private readonly groups = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  private readonly l2: RedisL2 | undefined;
  private readonly counts = Object.fromEntries(
    Object.keys(CACHE_POLICIES).map((k) => [k, { l1Hits: 0, l1Misses: 0, l2Hits: 0, l2Misses: 0, loads: 0 }]),
  ) as Record<CacheKind, KindCounters>;
  private loadErrors = 0;

  constructor(options: CacheOptions) {
    const clock = options.clock ?? new SystemClock();
    this.l1 = new LRUCache<string, L1Entry>({
      max: options.l1MaxEntries ?? DEFAULT_L1_MAX_ENTRIES,
      perf: { now: () => clock.now() },
      ttlResolution: 0,
      dispose: (entry, key) => this.unindex(key, entry.group),
    });
    if (options.redisUrl) {
      this.l2 = new RedisL2({
        url: options.redisUrl,
        prefix: options.prefix,
        log: options.log,
        clock,
        instanceId: options.instanceId ?? randomUUID(),
        commandTimeoutMs: options.commandTimeoutMs,
        retryAfterMs: options.retryAfterMs,
        maxPendingInvalidations: options.maxPendingInvalidations,
        onPeerInvalidation: (change) => this.dropLocal(change),
        onResubscribed: () => this.dropLocal({ keys: [], groups: [], all: true }),
      });
    }
  }

  /**
   * Read-through: L1, then L2, then `load` (the origin). What the origin returns is kept in
   * both levels; `undefined` (not found) is not cached. Concurrent misses on one key share one
   * load. Errors of L2 never surface; errors of the origin do.
   */
  async get<T>(ref: CacheRef, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const counts = this.counts[ref.policy.kind];
    if (ref.policy.l1TtlMs > 0) {
      const hit = this.l1.get(ref.key);
      if (hit !== undefined) {
        counts.l1Hits++;
        return hit.value as T;
      }
      counts.l1Misses++;
    }
    const running = this.flights.get(ref.key);
    if (running) return running.promise as Promise<T | undefined>;
    const flight: Flight = { promise: Promise.resolve(undefined), group: ref.group, stale: false };
    flight.promise = this.fill(ref, load, flight, counts);
    this.flights.set(ref.key, flight);
    try {
      return (await flight.promise) as T | undefined;
    } finally {
      if (this.flights.get(ref.key) === flight) this.flights.delete(ref.key);
    }
  }

  /**
   * Write-through: the origin first (`write`), then both levels, then the other nodes drop
   * their L1 copy. If the origin fails, the entry is dropped and the error is the caller's.
   */
  async writeThrough<T>(ref: CacheRef, value: T, write: (value: T) => Promise<void>): Promise<void> {
    try {
      await write(value);
    } catch (err) {
      await this.invalidate(ref);
      throw err;
    }
    const frozen = deepFreeze(value);
    this.markStale(ref.key, undefined);
    this.putL1(ref, frozen);
    if (!this.l2) return;
    const stored = await this.l2.set(ref.key, JSON.stringify(value), ref.policy.l2TtlMs, ref.group);
    // Peers drop their L1 copy and read the new value from L2; if L2 did not take it, the
    // older value there must not be read later either: invalidating records it for replay.
    if (stored) await this.l2.announce([ref.key]);
    else await this.l2.invalidate({ keys: [ref.key], groups: [] });
  }

  /** Drops entries in both levels and on the other nodes (an incident changed). */
  async invalidate(...refs: CacheRef[]): Promise<void> {
    const change: Invalidation = { keys: refs.map((r) => r.key), groups: [] };
    this.dropLocal(change);
    await this.l2?.invalidate(change);
  }

  /** Drops a whole group, e.g. cacheGroups.topology(tenant) when the tenant's topology changed. */
  async invalidateGroup(...groups: string[]): Promise<void> {
    const change: Invalidation = { keys: [], groups };
    this.dropLocal(change);
    await this.l2?.invalidate(change);
  }

  stats(): CacheStats {
    const c = this.l2?.counters;
    return {
      l1Entries: this.l1.size,
      l2Configured: this.l2 !== undefined,
      l2Up: this.l2?.up ?? false,
      l2Errors: c?.errors ?? 0,
      l2Skipped: c?.skipped ?? 0,
      l2Downs: c?.downs ?? 0,
      pendingInvalidations: this.l2?.pendingInvalidations ?? 0,
      loadErrors: this.loadErrors,
      byKind: structuredClone(this.counts),
    };
  }

  /** Drops this process's L1 only (tests and benchmarks). */
  clearLocal(): void {
    this.l1.clear();
  }

  async close(): Promise<void> {
    this.l1.clear();
    await this.l2?.close();
  }

  private async fill<T>(ref: CacheRef, load: () => Promise<T | undefined>, flight: Flight, counts: KindCounters): Promise<T | undefined> {
    if (this.l2) {
      const text = await this.l2.get(ref.key);
      if (text !== undefined) {
        const parsed = parse(text);
        if (parsed.ok) {
          counts.l2Hits++;
          const value = deepFreeze(parsed.value) as T;
          if (!flight.stale) this.putL1(ref, value);
          return value;
        }
      }
      counts.l2Misses++;
    }
    counts.loads++;
    let value: T | undefined;
    try {
      value = await load();
    } catch (err) {
      this.loadErrors++;
      throw err;
    }
    if (value === undefined || flight.stale) return value;
    const frozen = deepFreeze(value);
    this.putL1(ref, frozen);
    if (this.l2) void this.l2.set(ref.key, JSON.stringify(value), ref.policy.l2TtlMs, ref.group);
    return frozen;
  }

  private putL1(ref: CacheRef, value: unknown): void {
    if (ref.policy.l1TtlMs <= 0) return;
    this.l1.set(ref.key, { value, group: ref.group }, { ttl: ref.policy.l1TtlMs });
    if (ref.group) {
      let keys = this.groups.get(ref.group);
      if (!keys) this.groups.set(ref.group, (keys = new Set()));
      keys.add(ref.key);
    }
  }

  private unindex(key: string, group: string | undefined): void {
    if (!group) return;
    const keys = this.groups.get(group);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.groups.delete(group);
  }

  private dropLocal(change: Invalidation): void {
    if (change.all) {
      this.l1.clear();
      for (const f of this.flights.values()) f.stale = true;
      return;
    }
    for (const key of change.keys) {
      this.l1.delete(key);
      this.markStale(key, undefined);
    }
    for (const group of change.groups) {
      for (const key of [...(this.groups.get(group) ?? [])]) this.l1.delete(key);
      this.markStale(undefined, group);
    }
  }

  private markStale(key: string | undefined, group: string | undefined): void {
    if (key !== undefined) {
      const f = this.flights.get(key);
      if (f) f.stale = true;
    }
    if (group !== undefined) for (const f of this.flights.values()) if (f.group === group) f.stale = true;
  }
}

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
