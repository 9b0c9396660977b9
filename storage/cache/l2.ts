// The cache's second level: Redis through ioredis, wrapped so that Redis being down, slow or
// gone never reaches a caller. Every method resolves (a miss, or false) instead of throwing.
// - Commands fail fast: no offline queue (nothing piles up while Redis is away), no retries,
//   a short command timeout.
// - A circuit breaker (supervisors' CircuitBreaker) stops sending after a few failures, so a
//   hung Redis costs at most a few timeouts; half-open runs a recovery probe, never a caller's read.
// - Invalidations that could not reach Redis are remembered (bounded; past the bound the whole
//   prefix is dropped) and replayed before L2 is read again, so no node reads a stale entry
//   that was invalidated while Redis was unreachable.
// - Invalidations are also published on a channel so other nodes drop their L1 copies; a node
//   whose subscription reconnects drops its whole L1 (it may have missed messages).
// - Up/down transitions are logged once each; counters feed /metrics.
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../../actors/runtime/types.ts';
import { CircuitBreaker } from '../../supervisors/index.ts';

export const DEFAULT_L2_COMMAND_TIMEOUT_MS = 100;
export const DEFAULT_L2_CONNECT_TIMEOUT_MS = 1_000;
/** Reconnect delay grows by this per attempt, up to the max. */
export const DEFAULT_L2_RECONNECT_STEP_MS = 100;
export const DEFAULT_L2_RECONNECT_MAX_MS = 2_000;
/** Consecutive command failures that stop L2 use, and how long before a probe. */
export const DEFAULT_L2_FAILURE_THRESHOLD = 3;
export const DEFAULT_L2_RETRY_AFTER_MS = 1_000;
export const DEFAULT_MAX_PENDING_INVALIDATIONS = 10_000;
const DELETE_CHUNK = 500;

export interface L2Options {
  url: string;
  /** Put before every key: one per deployment (or test run), e.g. "vigil:prod:". */
  prefix: string;
  log: Logger;
  clock: Clock;
  instanceId: string;
  commandTimeoutMs?: number;
  retryAfterMs?: number;
  maxPendingInvalidations?: number;
  /** Another node invalidated these: drop them from L1. */
  onPeerInvalidation: (change: Invalidation) => void;
  /** The subscription (re)connected: messages may have been missed, drop all of L1. */
  onResubscribed: () => void;
}

export interface Invalidation {
  keys: string[];
  groups: string[];
  /** every key under the prefix */
  all?: boolean;
}

export interface L2Counters {
  hits: number;
  misses: number;
  /** commands that failed or timed out */
  errors: number;
  /** operations not sent because L2 was down */
  skipped: number;
  /** times L2 went from up to down */
  downs: number;
}

export class RedisL2 {
  readonly counters: L2Counters = { hits: 0, misses: 0, errors: 0, skipped: 0, downs: 0 };
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly breaker: CircuitBreaker;
  private readonly channel: string;
  private readonly pendingKeys = new Set<string>();
  private readonly pendingGroups = new Set<string>();
  private readonly maxPending: number;
  private pendingAll = false;
  /** set on every disconnect and breaker trip; cleared by a successful recovery probe */
  private needsRecovery = true;
  private recovering = false;
  private failureStreak = 0;
  private wasUp = false;
  private downLogged = false;
  private downSince: number;
  private lastError = '';
  private closed = false;

  constructor(private readonly o: L2Options) {
    this.maxPending = o.maxPendingInvalidations ?? DEFAULT_MAX_PENDING_INVALIDATIONS;
    this.channel = `${o.prefix}invalidate`;
    this.downSince = o.clock.now();
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: o.commandTimeoutMs ?? DEFAULT_L2_COMMAND_TIMEOUT_MS,
      connectTimeout: DEFAULT_L2_CONNECT_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * DEFAULT_L2_RECONNECT_STEP_MS, DEFAULT_L2_RECONNECT_MAX_MS),
    };
    this.redis = new Redis(o.url, options);
    this.sub = new Redis(o.url, { ...options, commandTimeout: undefined });
    // Successes are reported only after a failure (one event per command would be waste), so
    // the failure-rate window is set to need every recorded call failing: consecutive counts rule.
    this.breaker = new CircuitBreaker('cache_l2', {
      failureThreshold: DEFAULT_L2_FAILURE_THRESHOLD, successThreshold: 1, failureRate: 1,
      resetTimeoutMs: o.retryAfterMs ?? DEFAULT_L2_RETRY_AFTER_MS,
    }, o.clock);
    this.breaker.onChange((state) => {
      if (state !== 'closed') this.needsRecovery = true;
      if (state === 'halfOpen') void this.recover();
      this.refresh();
    });
    this.redis.on('ready', () => void this.recover());
    this.redis.on('close', () => {
      this.needsRecovery = true;
      this.refresh();
    });
    this.redis.on('error', (err: Error) => this.noteError(err));
    this.sub.on('error', () => {}); // its state follows the main connection's; errors logged there
    this.sub.on('ready', () => {
      this.sub.subscribe(this.channel).catch(() => {});
      this.o.onResubscribed();
    });
    this.sub.on('message', (_channel: string, text: string) => this.onMessage(text));
  }

  /** L2 is answering and every invalidation it missed has been replayed. */
  get up(): boolean {
    return !this.closed && this.redis.status === 'ready' && this.breaker.state === 'closed' && !this.needsRecovery;
  }

  get pendingInvalidations(): number {
    return this.pendingAll ? this.maxPending : this.pendingKeys.size + this.pendingGroups.size;
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.up) {
      this.counters.skipped++;
      return undefined;
    }
    try {
      const value = await this.redis.get(this.o.prefix + key);
      this.ok();
      if (value === null) {
        this.counters.misses++;
        return undefined;
      }
      this.counters.hits++;
      return value;
    } catch (err) {
      this.failed(err);
      return undefined;
    }
  }

  /** Stores with the L2 TTL; true when Redis took it. */
  async set(key: string, value: string, ttlMs: number, group: string | undefined): Promise<boolean> {
    if (!this.up) {
      this.counters.skipped++;
      return false;
    }
    try {
      const tx = this.redis.multi().set(this.o.prefix + key, value, 'PX', ttlMs);
      if (group) tx.sadd(this.groupKey(group), key).pexpire(this.groupKey(group), ttlMs);
      await tx.exec();
      this.ok();
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  /** Deletes in Redis and tells the other nodes; remembered for later when Redis is away. */
  async invalidate(change: Invalidation): Promise<void> {
    if (!this.up) {
      this.counters.skipped++;
      this.remember(change);
      return;
    }
    try {
      await this.apply(change);
      this.ok();
    } catch (err) {
      this.failed(err);
      this.remember(change);
    }
  }

  /** Tells the other nodes to drop their L1 copies of keys just rewritten in L2. */
  async announce(keys: string[]): Promise<void> {
    if (!this.up) {
      this.counters.skipped++;
      this.remember({ keys, groups: [] });
      return;
    }
    try {
      await this.publish({ keys, groups: [] });
      this.ok();
    } catch (err) {
      this.failed(err);
      this.remember({ keys, groups: [] });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.breaker.stop();
    for (const conn of [this.sub, this.redis]) {
      await conn.quit().catch(() => conn.disconnect());
    }
  }

  private async apply(change: Invalidation): Promise<void> {
    const p = this.o.prefix;
    if (change.all) {
      await this.dropPrefix();
    } else {
      const members = await Promise.all(change.groups.map((g) => this.redis.smembers(this.groupKey(g))));
      const doomed = [
        ...change.keys.map((k) => p + k),
        ...members.flat().map((k) => p + k),
        ...change.groups.map((g) => this.groupKey(g)),
      ];
      for (let i = 0; i < doomed.length; i += DELETE_CHUNK) await this.redis.unlink(...doomed.slice(i, i + DELETE_CHUNK));
    }
    await this.publish(change);
  }

  private async publish(change: Invalidation): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify({ from: this.o.instanceId, ...change }));
  }

  private async dropPrefix(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${escapeGlob(this.o.prefix)}*`, 'COUNT', 1_000);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  /** Probe: ping, then replay what was missed. Only then is L2 read again. */
  private async recover(): Promise<void> {
    if (this.recovering || this.closed || this.redis.status !== 'ready') return;
    this.recovering = true;
    try {
      await this.redis.ping();
      const change: Invalidation = { keys: [...this.pendingKeys], groups: [...this.pendingGroups], all: this.pendingAll };
      if (change.all || change.keys.length > 0 || change.groups.length > 0) {
        await this.apply(change);
        for (const k of change.keys) this.pendingKeys.delete(k);
        for (const g of change.groups) this.pendingGroups.delete(g);
        if (change.all) this.pendingAll = false;
      }
      this.needsRecovery = false;
      this.failureStreak = 0;
      if (this.breaker.state !== 'closed') this.breaker.reset();
    } catch (err) {
      this.counters.errors++;
      this.lastError = errorText(err);
      if (this.breaker.state === 'closed') this.breaker.trip();
      else this.breaker.failure();
    } finally {
      this.recovering = false;
      this.refresh();
    }
  }

  private remember(change: Invalidation): void {
    if (this.pendingAll) return;
    if (change.all) {
      this.pendingAll = true;
    } else {
      for (const k of change.keys) this.pendingKeys.add(k);
      for (const g of change.groups) this.pendingGroups.add(g);
      if (this.pendingKeys.size + this.pendingGroups.size > this.maxPending) this.pendingAll = true;
    }
    if (this.pendingAll) {
      this.pendingKeys.clear();
      this.pendingGroups.clear();
    }
  }

  private ok(): void {
    if (this.failureStreak > 0) {
      this.failureStreak = 0;
      this.breaker.success();
    }
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    this.counters.errors++;
    this.failureStreak++;
    this.lastError = errorText(err);
    this.o.log.debug({ err: this.lastError }, 'cache L2 command failed');
    this.breaker.failure();
    this.refresh();
  }

  private noteError(err: Error): void {
    this.lastError = errorText(err);
    if (!this.wasUp && !this.downLogged && !this.closed) {
      this.downLogged = true;
      this.o.log.warn({ err: this.lastError, url: redactUrl(this.o.url) }, 'cache L2 (Redis) unreachable: serving from L1 and the origin');
    }
  }

  private refresh(): void {
    const up = this.up;
    if (up === this.wasUp || this.closed) return;
    this.wasUp = up;
    if (up) {
      this.downLogged = false;
      this.o.log.info({ downMs: this.o.clock.now() - this.downSince }, 'cache L2 (Redis) up');
    } else {
      this.counters.downs++;
      this.downSince = this.o.clock.now();
      this.downLogged = true;
      this.o.log.warn({ err: this.lastError || undefined }, 'cache L2 (Redis) down: serving from L1 and the origin');
    }
  }

  private onMessage(text: string): void {
    let msg: Invalidation & { from?: string };
    try {
      msg = JSON.parse(text) as Invalidation & { from?: string };
    } catch {
      return;
    }
    if (msg.from === this.o.instanceId) return;
    this.o.onPeerInvalidation({ keys: msg.keys ?? [], groups: msg.groups ?? [], all: msg.all === true });
  }

  private groupKey(group: string): string {
    return `${this.o.prefix}grp:${group}`;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
