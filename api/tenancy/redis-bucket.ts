// The cluster-wide bucket: one Redis hash per tenant, taken from by a Lua script, so a
// read-refill-take is atomic across every node. Time is Redis' own (TIME inside the script):
// one clock for all nodes, so a node whose clock runs ahead cannot mint tokens for itself.
// Commands fail fast (no offline queue, a short timeout); the caller falls back to its
// local bucket while they fail. Nodes also note themselves in a sorted set every few seconds,
// which is how a node knows how many share the quota when Redis is gone.
import { Redis, type RedisOptions } from 'ioredis';
import type { BucketParams, TakeResult } from './bucket.ts';

// Long enough that a busy event loop (the reply waits for it) is not taken for a dead Redis;
// a hung Redis costs this once a second (quotas.ts leaves it alone after a failure).
export const DEFAULT_QUOTA_COMMAND_TIMEOUT_MS = 500;
/** A node not heard from for this long no longer counts as sharing a tenant's quota. */
export const NODE_SEEN_TTL_MS = 15_000;

// KEYS[1]: the tenant's bucket; ARGV: rate per s, burst, cost, debt. Same rule as bucket.ts take();
// `debt` is what this node admitted on its own while Redis was away, charged first (down to one burst of debt).
const TAKE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local debt = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1])
local at = tonumber(s[2])
if tokens == nil or at == nil then tokens = burst; at = now end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
tokens = math.min(tokens, burst)
if debt > 0 then tokens = math.max(-burst, tokens - debt) end
local need = math.min(cost, burst)
local ttl = math.ceil(burst * 1000 / rate) + 60000
if tokens >= need then
  tokens = tokens - cost
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, 0, tostring(tokens)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ttl)
return {0, math.max(1, math.ceil((need - tokens) * 1000 / rate)), tostring(tokens)}
`;

// KEYS[1]: the node set; ARGV: node id, ttl ms. Returns how many nodes were seen within the ttl.
const SEEN_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return redis.call('ZCARD', KEYS[1])
`;

interface ScriptedRedis {
  vigilTake(key: string, rate: number, burst: number, cost: number, debt: number): Promise<[number, number, string]>;
  vigilSeen(key: string, node: string, ttlMs: number): Promise<number>;
}

export interface RedisBucketsOptions {
  url: string;
  /** before every key, e.g. "vigil:prod:quota:" (tests use their own) */
  prefix: string;
  commandTimeoutMs?: number;
  /** told when the connection is ready again (the caller may leave its fallback) */
  onReady?: () => void;
  onError?: (err: Error) => void;
}

export class RedisBuckets {
  private readonly redis: Redis;

  constructor(private readonly o: RedisBucketsOptions) {
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: o.commandTimeoutMs ?? DEFAULT_QUOTA_COMMAND_TIMEOUT_MS,
      connectTimeout: 1_000,
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    };
    this.redis = new Redis(o.url, options);
    this.redis.defineCommand('vigilTake', { numberOfKeys: 1, lua: TAKE_LUA });
    this.redis.defineCommand('vigilSeen', { numberOfKeys: 1, lua: SEEN_LUA });
    this.redis.on('ready', () => o.onReady?.());
    this.redis.on('error', (err: Error) => o.onError?.(err));
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Takes from the tenant's shared bucket, after charging `debt` (samples admitted locally
   * while Redis was away); rejects when Redis does not answer in time.
   */
  async take(tenant: string, p: BucketParams, cost: number, debt = 0): Promise<TakeResult> {
    const [ok, retryAfterMs, tokens] = await (this.redis as unknown as ScriptedRedis).vigilTake(
      `${this.o.prefix}bucket:{${tenant}}`, p.rate, p.burst, cost, debt);
    return { ok: ok === 1, retryAfterMs: Number(retryAfterMs), tokens: Number(tokens) };
  }

  /** Notes this node as alive; resolves with the number of nodes seen recently (itself included). */
  async seen(node: string): Promise<number> {
    return (this.redis as unknown as ScriptedRedis).vigilSeen(`${this.o.prefix}nodes`, node, NODE_SEEN_TTL_MS);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
