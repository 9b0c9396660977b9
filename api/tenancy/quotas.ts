// Per-tenant ingestion quotas on a node: the shared Redis bucket while Redis answers, a
// local bucket while it does not, and the counts that /metrics and GET /v1/usage show.
//
// The local bucket errs on the strict side: it allows the tenant's rate and burst times a
// share, by default 1 / (the nodes seen in Redis in the last 15 s before it went away),
// so the nodes together never admit more than the quota (they may admit less, when load is
// uneven across nodes). A fixed `fallbackShare` overrides it: for a node that never reached
// Redis (it knows no peers) or a deployment that knows its size better. The count is
// Redis' because it is the one thing all nodes see; membership, when the cluster layer
// has it, can be passed as `knownNodes`.
//
// A refusal remembers until when the tenant's bucket is empty, and so does an admitted batch
// that left it in debt (below one token no batch passes): requests before then are refused
// before their body is read (no parsing, no Redis call, no stack trace; over a socket before
// Fastify too, api/early-refusal.ts), so a tenant sending 10x its quota costs the node little
// more than the 429s.
//
// With Redis, a tenant's batches are paid from a block of tokens the node took from the shared
// bucket ahead of them (prepaid.ts): a tenant within its rate waits on Redis only when a batch
// outgrows what its node holds, and the next block is asked for off the batch's path.
//
// Every answer of the shared bucket also bounds what the tenant's next batches can find
// (token-bound.ts): a watcher (the refusal process) is told it, and refuses by it a batch too
// large to pass, where a block cannot (a smaller batch could).
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../actors/runtime/index.ts';
import { QuotaError, VigilError } from '../../protocols/index.ts';
import { LocalBuckets, type BucketParams, type TakeResult } from './bucket.ts';
import { DEFAULT_QUOTA_BLOCK_MS, PrepaidTokens, blockSize } from './prepaid.ts';
import { batchTooLarge, EMPTY_BUCKET, rateRefusal } from './rate-refusal.ts';
import { RedisBuckets } from './redis-bucket.ts';
import { hostMs, type TokenBound } from './token-bound.ts';

export { QuotaError };

export const DEFAULT_QUOTA_PREFIX = 'vigil:quota:';
/** how often a node notes itself in Redis (and learns how many share the quotas) */
export const NODE_SEEN_INTERVAL_MS = 5_000;
/** the window GET /v1/usage's rate is measured over */
export const USAGE_WINDOW_MS = 10_000;
/** how long the shared buckets are left alone after a failed command */
export const REDIS_RETRY_MS = 1_000;

export type RejectReason = 'rate' | 'maxSeries' | 'maxServices';
const REASONS: readonly RejectReason[] = ['rate', 'maxSeries', 'maxServices'];

/** A tenant's bucket known empty for `forMs` from now; `quota`: its rate and burst, as its refusals word them. */
export interface BlockNote {
  tenant: string;
  forMs: number;
  quota: string;
}

/** What a watcher of the buckets is told: a block, a bound on a tenant's tokens, or that every block and bound is forgotten. */
export type BucketNews = ({ kind: 'block' } & BlockNote) | ({ kind: 'bound' } & TokenBound) | { kind: 'unblock' };

export type BucketWatcher = (news: BucketNews) => void;

export interface QuotaOptions {
  /** Redis for the shared buckets (VIGIL_REDIS_URL); absent: local buckets only, at fallbackShare */
  redisUrl?: string;
  prefix?: string;
  nodeId: string;
  clock: Clock;
  log: Logger;
  /** a tenant's bucket; undefined: not rate limited */
  bucketOf: (tenant: string) => BucketParams | undefined;
  /** fixed share of the rate the local bucket allows (0..1]; default 1 / nodes seen */
  fallbackShare?: number;
  /** how many nodes share the quotas, when the cluster layer knows */
  knownNodes?: () => number;
  commandTimeoutMs?: number;
  /** how often the node notes itself in Redis (default NODE_SEEN_INTERVAL_MS) */
  heartbeatMs?: number;
  /** public registry: node-level counts; tenant registry: vigil_tenant_* (admin key) */
  metrics?: { node: Registry; tenant: Registry };
}

export interface TenantUsage {
  /** samples per second admitted, over the last USAGE_WINDOW_MS on this node */
  rate: number;
  accepted: number;
  rejections: Record<RejectReason, number>;
  rejectedSamples: number;
}

interface Tally {
  accepted: number;
  rejectedSamples: number;
  rejections: Record<RejectReason, number>;
  /** admitted samples per second slot, for the window */
  slots: Map<number, number>;
  /** refuse before reading the body until then (ms) */
  blockedUntil: number;
}

/** A bucket's answer, with its refill rate and whether it was the shared bucket's. */
type BucketAnswer = TakeResult & { rate: number; shared: boolean };

export class QuotaGate {
  /** the latest blockedUntil of any tenant (blocksAny) */
  private anyBlockedUntil = 0;
  private readonly local: LocalBuckets;
  private readonly redis: RedisBuckets | undefined;
  private redisUp = false;
  /** after a failed command, Redis is left alone until then, so a hung Redis costs one timeout a second, not one a request */
  private redisRetryAt = 0;
  private nodesSeen = 1;
  private readonly tallies = new Map<string, Tally>();
  /** samples admitted by the local bucket since Redis last answered, by tenant */
  private readonly owed = new Map<string, number>();
  private readonly prepaid = new PrepaidTokens();
  /** tenants whose next block is being asked for, and its size */
  private readonly refilling = new Map<string, number>();
  /** prepaid tokens in the hands of batches waiting on the shared bucket (given back if refused), by tenant */
  private readonly inHand = new Map<string, number>();
  /** a block refused: not asked again before then (ms), by tenant */
  private readonly refillAt = new Map<string, number>();
  /** bumped when quotas change: a block asked for under the old ones is not kept */
  private quotasSeen = 0;
  private watcher: BucketWatcher | undefined;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly m: ReturnType<typeof quotaMetrics> | undefined;

  constructor(private readonly o: QuotaOptions) {
    this.local = new LocalBuckets(() => o.clock.now());
    if (o.redisUrl) {
      this.redis = new RedisBuckets({
        url: o.redisUrl, prefix: o.prefix ?? DEFAULT_QUOTA_PREFIX,
        ...(o.commandTimeoutMs === undefined ? {} : { commandTimeoutMs: o.commandTimeoutMs }),
        onReady: () => void this.heartbeat(),
        onError: (err) => this.down(err),
      });
      this.timer = o.clock.setTimeout(this.beat, o.heartbeatMs ?? NODE_SEEN_INTERVAL_MS);
    }
    this.m = o.metrics ? quotaMetrics(o.metrics.node, o.metrics.tenant, this) : undefined;
  }

  /** 'redis' while the shared buckets answer; 'local' otherwise. */
  get mode(): 'redis' | 'local' {
    return this.redisUp ? 'redis' : 'local';
  }

  /** The share of a tenant's quota the local bucket allows. */
  get share(): number {
    if (this.o.fallbackShare !== undefined) return this.o.fallbackShare;
    return 1 / this.nodes;
  }

  /** Tokens this node holds for the tenant, taken from the shared bucket ahead of its batches. */
  prepaidTokens(tenant: string): number {
    return this.prepaid.left(tenant);
  }

  private get nodes(): number {
    return Math.max(1, this.o.knownNodes?.() ?? 0, this.nodesSeen);
  }

  /** Whether any tenant's bucket is known empty now: when none is, a request needs no key lookup to learn it passes. */
  blocksAny(): boolean {
    return this.o.clock.now() < this.anyBlockedUntil;
  }

  /** The tenant's bucket known empty now: for how long, and its quota as refusals word it; undefined when not. Counts nothing. */
  blockNote(tenant: string): BlockNote | undefined {
    const forMs = (this.tallies.get(tenant)?.blockedUntil ?? 0) - this.o.clock.now();
    return forMs > 0 ? this.note(tenant, forMs) : undefined;
  }

  /**
   * Tells `watcher` of every block (the tenant, for how long, its quota as refusals word it), of
   * every bound the shared bucket's answers give on a tenant's tokens (token-bound.ts), and of
   * every unblock (forget them all); the refusal process (api/refusals) keeps its view of the
   * buckets by it. One watcher; undefined stops.
   */
  watchBuckets(watcher: BucketWatcher | undefined): void {
    this.watcher = watcher;
  }

  /**
   * Counts a refusal answered elsewhere (the refusal process), as this gate counts its own:
   * `samples` 0 for one before the body (an empty bucket), the batch's for one by its size.
   */
  refusedElsewhere(tenant: string, samples = 0): void {
    this.refused(tenant, 'rate', samples);
  }

  /**
   * Before the body is read: the refusal (counted) of a tenant whose bucket is known to be empty.
   * Returned, not thrown: it is the refusal a flood meets most, and a route answers it without
   * a throw through the framework's error path (about 8% less CPU per refusal on a gateway,
   * api/tenancy/MEASURED.md).
   */
  refusalBeforeBody(tenant: string): QuotaError | undefined {
    const t = this.tallies.get(tenant);
    const now = this.o.clock.now();
    if (!t || t.blockedUntil <= now) return undefined;
    this.refused(tenant, 'rate', 0);
    return this.rateError(tenant, t.blockedUntil - now, EMPTY_BUCKET);
  }

  /** Takes `samples` from the tenant's bucket or throws QuotaError (429) with Retry-After. */
  async take(tenant: string, samples: number): Promise<void> {
    const p = this.o.bucketOf(tenant);
    if (!p || samples === 0) return;
    if (this.prepaid.spend(tenant, samples)) {
      this.refill(tenant, p, samples);
      return;
    }
    // what the node holds pays part of the batch; the shared bucket is asked for the rest
    const held = this.prepaid.takeAll(tenant);
    // The bucket answered for a moment after this one, and its reply may wait long in a busy
    // event loop: a wait counted from here never blocks a request the bucket would admit.
    const asked = this.o.clock.now();
    const askedOnHost = hostMs(); // for the refusal process, which reads the host's clock, not this gate's
    this.hold(tenant, held);
    let r: BucketAnswer;
    try {
      r = await this.takeFrom(tenant, p, samples - held);
    } finally {
      this.hold(tenant, -held);
    }
    // in the same turn as the release above: a bound told meanwhile would miss these tokens
    if (!r.ok) this.prepaid.add(tenant, held);
    if (r.shared) this.bound(tenant, p, askedOnHost, r.tokens);
    if (r.ok) {
      // A batch that left the bucket in debt: no batch, however small, passes before the refill
      // brings it back to one token, so until then the next ones are refused before their body is read.
      if (r.tokens < 1) this.block(tenant, asked + Math.ceil(((1 - r.tokens) * 1000) / r.rate));
      else this.refill(tenant, p, samples);
      return;
    }
    this.block(tenant, asked + r.retryAfterMs);
    this.refused(tenant, 'rate', samples);
    throw this.rateError(tenant, r.retryAfterMs, batchTooLarge(samples, p.burst), p);
  }

  /**
   * Takes from the bucket, runs `ingest`, and counts what happened: admitted samples, or the
   * reason of a refusal (the rate here, a series or service limit from the engine).
   */
  async admit<T>(tenant: string, samples: number, ingest: () => Promise<T>): Promise<T> {
    await this.take(tenant, samples);
    try {
      const out = await ingest();
      this.admitted(tenant, samples);
      return out;
    } catch (err) {
      const limit = (err as { limit?: unknown }).limit;
      if (VigilError.is(err, 'QUOTA_EXCEEDED') && (limit === 'maxSeries' || limit === 'maxServices')) this.refused(tenant, limit, samples);
      throw err;
    }
  }

  /** Forgets when buckets were last found empty (a tenant's quota changed: the next request asks the bucket). */
  unblock(): void {
    for (const t of this.tallies.values()) t.blockedUntil = 0;
    this.anyBlockedUntil = 0;
    this.watcher?.({ kind: 'unblock' });
    this.prepaid.clear();
    this.refillAt.clear();
    this.quotasSeen++;
  }

  usage(tenant: string): TenantUsage {
    const t = this.tallies.get(tenant);
    const now = this.o.clock.now();
    let inWindow = 0;
    for (const [slot, n] of t?.slots ?? []) if (slot * 1000 > now - USAGE_WINDOW_MS) inWindow += n;
    return {
      rate: inWindow / (USAGE_WINDOW_MS / 1000),
      accepted: t?.accepted ?? 0,
      rejections: { ...(t?.rejections ?? { rate: 0, maxSeries: 0, maxServices: 0 }) },
      rejectedSamples: t?.rejectedSamples ?? 0,
    };
  }

  tenantsSeen(): string[] {
    return [...this.tallies.keys()];
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.redis?.close();
  }

  /** The answer of the bucket that decided, with its refill rate (the shared one, or this node's share). */
  private async takeFrom(tenant: string, p: BucketParams, cost: number): Promise<BucketAnswer> {
    // A call that timed out may still have run in Redis (a busy event loop reads the reply
    // late): its batch and the debt it carried count as taken there, so a late answer never
    // charges a tenant twice. Only what Redis was not asked is owed to it.
    const shared = await this.takeShared(tenant, p, cost);
    if ('ok' in shared) return { ...shared, rate: p.rate, shared: true };
    const local = this.localParams(p);
    const r = this.local.take(tenant, local, cost);
    // what this node admits alone is charged to the shared bucket when Redis answers again
    if (r.ok && this.redis && !shared.asked) this.owe(tenant, p, cost);
    return { ...r, rate: local.rate, shared: false };
  }

  /** The shared bucket's answer; or, when Redis is away, whether it may have run the take anyway. */
  private async takeShared(tenant: string, p: BucketParams, cost: number): Promise<TakeResult | { asked: boolean }> {
    if (!this.redis?.ready || this.o.clock.now() < this.redisRetryAt) return { asked: false };
    const debt = this.owed.get(tenant) ?? 0;
    this.owed.delete(tenant);
    try {
      const r = await this.redis.take(tenant, p, cost, debt);
      if (!this.redisUp) this.up();
      if (r.ok) this.local.charge(tenant, this.localParams(p), cost);
      return r;
    } catch (err) {
      const asked = (err as Error).message.includes('timed out');
      if (!asked && debt > 0) this.owe(tenant, p, debt);
      this.down(err as Error);
      return { asked };
    }
  }

  /**
   * Asks the shared bucket for the tenant's next block once it holds less than half of one, off
   * the batch's path. A refused block is not asked for again before the bucket could give it; a
   * block whose answer timed out is lost (Redis may have given it: the strict side).
   */
  private refill(tenant: string, p: BucketParams, lastBatch: number): void {
    const block = blockSize(p, this.nodes, DEFAULT_QUOTA_BLOCK_MS, lastBatch);
    const now = this.o.clock.now();
    if (block === 0 || !this.redisUp || this.prepaid.left(tenant) >= block / 2) return;
    if (this.refilling.has(tenant) || now < (this.refillAt.get(tenant) ?? 0)) return;
    this.refilling.set(tenant, block);
    const quotas = this.quotasSeen;
    void this.takeShared(tenant, p, block).then((r) => {
      if (!('ok' in r) || quotas !== this.quotasSeen) return;
      if (r.ok) this.prepaid.add(tenant, block);
      else this.refillAt.set(tenant, now + r.retryAfterMs);
    }).finally(() => this.refilling.delete(tenant));
  }

  private owe(tenant: string, p: BucketParams, samples: number): void {
    this.owed.set(tenant, Math.min(p.burst, (this.owed.get(tenant) ?? 0) + samples));
  }

  /** The local bucket: this node's share of the tenant's rate and burst. */
  private localParams(p: BucketParams): BucketParams {
    const share = this.share;
    return { rate: p.rate * share, burst: Math.max(1, p.burst * share) };
  }

  private readonly beat = (): void => {
    void this.heartbeat().finally(() => {
      if (this.timer !== undefined) this.timer = this.o.clock.setTimeout(this.beat, this.o.heartbeatMs ?? NODE_SEEN_INTERVAL_MS);
    });
  };

  private async heartbeat(): Promise<void> {
    if (!this.redis?.ready) return;
    try {
      this.nodesSeen = Math.max(1, await this.redis.seen(this.o.nodeId));
      if (!this.redisUp) this.up();
    } catch (err) {
      this.down(err as Error);
    }
  }

  private up(): void {
    this.redisUp = true;
    this.redisRetryAt = 0;
    this.o.log.info({ nodes: this.nodesSeen }, 'quota buckets: Redis answers again; shared buckets in use');
  }

  private down(err: Error): void {
    this.redisRetryAt = this.o.clock.now() + REDIS_RETRY_MS;
    if (!this.redisUp) return;
    this.redisUp = false;
    this.o.log.warn({ err: err.message, share: this.share }, 'quota buckets: Redis does not answer; local buckets at a share of each quota');
  }

  private admitted(tenant: string, samples: number): void {
    const t = this.tally(tenant);
    t.accepted += samples;
    const slot = Math.floor(this.o.clock.now() / 1000);
    t.slots.set(slot, (t.slots.get(slot) ?? 0) + samples);
    const oldest = slot - USAGE_WINDOW_MS / 1000;
    for (const s of t.slots.keys()) if (s <= oldest) t.slots.delete(s);
    this.m?.accepted.inc({ tenant }, samples);
  }

  private refused(tenant: string, reason: RejectReason, samples: number): void {
    const t = this.tally(tenant);
    t.rejections[reason]++;
    t.rejectedSamples += samples;
    this.m?.rejected.inc({ reason });
    this.m?.tenantRejected.inc({ tenant, reason });
  }

  private tally(tenant: string): Tally {
    let t = this.tallies.get(tenant);
    if (!t) this.tallies.set(tenant, (t = { accepted: 0, rejectedSamples: 0, rejections: { rate: 0, maxSeries: 0, maxServices: 0 }, slots: new Map(), blockedUntil: 0 }));
    return t;
  }

  private block(tenant: string, until: number): void {
    this.tally(tenant).blockedUntil = until;
    this.anyBlockedUntil = Math.max(this.anyBlockedUntil, until);
    this.watcher?.({ kind: 'block', ...this.note(tenant, until - this.o.clock.now()) });
  }

  /**
   * Tells the watcher what the shared bucket's answer to a call made at `at` (hostMs) bounds: what
   * it held then, with what this node held or had asked for. A bound at or over the burst could
   * refuse only a batch larger than the burst (token-bound.ts), which is rare: none is sent.
   */
  private bound(tenant: string, p: BucketParams, at: number, tokens: number): void {
    if (!this.watcher) return;
    const prepaid = this.prepaid.left(tenant) + (this.refilling.get(tenant) ?? 0) + (this.inHand.get(tenant) ?? 0);
    if (tokens + prepaid >= p.burst) return;
    this.watcher({ kind: 'bound', tenant, at, tokens, prepaid, rate: p.rate, burst: p.burst, quota: this.quotaText(p) });
  }

  private hold(tenant: string, tokens: number): void {
    if (tokens === 0) return;
    const now = (this.inHand.get(tenant) ?? 0) + tokens;
    if (now > 0) this.inHand.set(tenant, now);
    else this.inHand.delete(tenant);
  }

  private note(tenant: string, forMs: number): BlockNote {
    return { tenant, forMs, quota: this.quotaText(this.o.bucketOf(tenant)) };
  }

  private quotaText(p: BucketParams | undefined): string {
    return p ? ` (rate ${p.rate}/s, burst ${p.burst}${this.redisUp || !this.redis ? '' : `, this node's share while Redis is away: ${this.share.toFixed(3)}`})` : '';
  }

  private rateError(tenant: string, retryAfterMs: number, why: string, p = this.o.bucketOf(tenant)): QuotaError {
    return rateRefusal(tenant, this.quotaText(p), why, retryAfterMs);
  }
}

function quotaMetrics(node: Registry, byTenant: Registry, gate: QuotaGate) {
  // a second gateway over the same registries (tests) reuses the metrics
  const reuse = <T>(registry: Registry, name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  reuse(node, 'vigil_quota_redis_up', () => new Gauge({
    name: 'vigil_quota_redis_up', help: 'Whether the shared (Redis) quota buckets answer (0: local buckets at a share of each quota)', registers: [node],
    collect() { this.set(gate.mode === 'redis' ? 1 : 0); },
  }));
  reuse(node, 'vigil_quota_fallback_share', () => new Gauge({
    name: 'vigil_quota_fallback_share', help: 'Share of each tenant\'s quota this node allows while Redis is away', registers: [node],
    collect() { this.set(gate.share); },
  }));
  return {
    rejected: reuse(node, 'vigil_quota_rejected_requests_total', () => new Counter({
      name: 'vigil_quota_rejected_requests_total', help: 'Ingest requests refused with 429 by reason (rate, maxSeries, maxServices)',
      labelNames: ['reason'], registers: [node],
    })),
    tenantRejected: reuse(byTenant, 'vigil_tenant_quota_rejected_requests_total', () => new Counter({
      name: 'vigil_tenant_quota_rejected_requests_total', help: 'Ingest requests refused with 429, by tenant and reason (rate, maxSeries, maxServices)',
      labelNames: ['tenant', 'reason'], registers: [byTenant],
    })),
    accepted: reuse(byTenant, 'vigil_tenant_quota_admitted_samples_total', () => new Counter({
      name: 'vigil_tenant_quota_admitted_samples_total', help: 'Samples admitted by the tenant\'s quota and taken by the engine, by tenant',
      labelNames: ['tenant'], registers: [byTenant],
    })),
  };
}

export { REASONS as REJECT_REASONS };
