import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { VirtualClock } from '../actors/runtime/index.ts';
import {
  CACHE_POLICIES, INCIDENT_CACHE, SESSION_CACHE, TOPOLOGY_CACHE, TwoLevelCache, cacheGroups, cacheKeys, registerCacheMetrics,
} from '../storage/cache/index.ts';
import type { CacheOptions } from '../storage/cache/index.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const MIN = 60_000;

interface LogLine { level: number; msg: string }

function captureLog(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  return { log, lines };
}

/** Polls until `cond` holds; fails with `what` after `ms` (a deadline, not a speed claim). */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function counter(): { n: number; load: <T>(v: T) => () => Promise<T> } {
  const c = { n: 0, load: <T>(v: T) => async () => { c.n++; return v; } };
  return c;
}

describe('storage/cache: keys and TTLs', () => {
  it('names keys as the design does and keeps parts with ":" apart', () => {
    assert.equal(cacheKeys.topology('acme', 'checkout').key, 'topo:acme:checkout');
    assert.equal(cacheKeys.metricMeta('acme', 'latency_ms').key, 'metric:acme:latency_ms');
    assert.equal(cacheKeys.features('acme', 'latency_ms', 1700000000000).key, 'feat:acme:latency_ms:1700000000000');
    assert.equal(cacheKeys.incident('acme', 'inc_1').key, 'inc:acme:inc_1');
    assert.equal(cacheKeys.session('u42').key, 'session:u42');
    assert.notEqual(cacheKeys.topology('a:b', 'c').key, cacheKeys.topology('a', 'b:c').key);
    assert.equal(cacheKeys.topology('acme', 'db').group, cacheGroups.topology('acme'));
  });

  it('carries the design\'s TTLs (L1 / L2)', () => {
    const ttl = Object.fromEntries(Object.values(CACHE_POLICIES).map((p) => [p.kind, [p.l1TtlMs, p.l2TtlMs]]));
    assert.deepEqual(ttl, {
      topology: [5 * MIN, 30 * MIN], metric_meta: [5 * MIN, 60 * MIN], features: [1 * MIN, 5 * MIN],
      incident: [30_000, 5 * MIN], session: [0, 24 * 60 * MIN],
    });
  });
});

describe('storage/cache: L1 only (no Redis configured)', () => {
  let clock: VirtualClock;
  let cache: TwoLevelCache;
  beforeEach(() => {
    clock = new VirtualClock(1_000_000);
    cache = new TwoLevelCache({ prefix: 'unused:', log: pino({ level: 'silent' }), clock });
  });
  afterEach(() => cache.close());

  it('reads through the origin once, then from L1 until the TTL passes', async () => {
    const o = counter();
    const ref = cacheKeys.incident('acme', 'i1');
    assert.deepEqual(await cache.get(ref, o.load({ status: 'open' })), { status: 'open' });
    assert.deepEqual(await cache.get(ref, o.load({ status: 'never' })), { status: 'open' });
    assert.equal(o.n, 1);
    clock.advance(INCIDENT_CACHE.l1TtlMs + 1);
    assert.deepEqual(await cache.get(ref, o.load({ status: 'acknowledged' })), { status: 'acknowledged' });
    assert.equal(o.n, 2);
    const s = cache.stats();
    assert.deepEqual(s.byKind.incident, { l1Hits: 1, l1Misses: 2, l2Hits: 0, l2Misses: 0, loads: 2 });
    assert.equal(s.l2Configured, false);
    assert.equal(s.l2Up, false);
  });

  it('shares one origin load among concurrent misses of a key', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const load = async () => { calls++; await gate; return 7; };
    const ref = cacheKeys.metricMeta('acme', 'cpu');
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get(ref, load)));
    release();
    assert.deepEqual(await all, Array(10).fill(7));
    assert.equal(calls, 1);
  });

  it('does not cache what is invalidated while it loads', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const ref = cacheKeys.topology('acme', 'db');
    const first = cache.get(ref, async () => { await gate; return 'old'; });
    await cache.invalidateGroup(cacheGroups.topology('acme'));
    release();
    assert.equal(await first, 'old', 'the waiting caller still gets its answer');
    assert.equal(await cache.get(ref, async () => 'new'), 'new');
  });

  it('invalidates one key, or one tenant\'s group and not another\'s', async () => {
    const o = counter();
    await cache.get(cacheKeys.topology('acme', 'db'), o.load(1));
    await cache.get(cacheKeys.topology('acme', 'api'), o.load(1));
    await cache.get(cacheKeys.topology('other', 'db'), o.load(1));
    await cache.get(cacheKeys.incident('acme', 'i1'), o.load(1));
    assert.equal(o.n, 4);
    await cache.invalidateGroup(cacheGroups.topology('acme'));
    await cache.get(cacheKeys.topology('acme', 'db'), o.load(2));
    await cache.get(cacheKeys.topology('acme', 'api'), o.load(2));
    assert.equal(o.n, 6, 'acme topology reloaded');
    await cache.get(cacheKeys.topology('other', 'db'), o.load(2));
    await cache.get(cacheKeys.incident('acme', 'i1'), o.load(2));
    assert.equal(o.n, 6, 'other tenant and incidents untouched');
    await cache.invalidate(cacheKeys.incident('acme', 'i1'));
    assert.equal(await cache.get(cacheKeys.incident('acme', 'i1'), o.load(3)), 3);
  });

  it('hands out frozen values, does not cache "not found", and passes origin errors on', async () => {
    const v = await cache.get(cacheKeys.topology('acme', 'db'), async () => ({ deps: ['disk'] }));
    assert.throws(() => { (v as { deps: string[] }).deps.push('x'); }, TypeError);
    const o = counter();
    await cache.get(cacheKeys.topology('acme', 'ghost'), o.load(undefined));
    await cache.get(cacheKeys.topology('acme', 'ghost'), o.load(undefined));
    assert.equal(o.n, 2);
    await assert.rejects(cache.get(cacheKeys.topology('acme', 'x'), async () => { throw new Error('origin down'); }), /origin down/);
    assert.equal(cache.stats().loadErrors, 1);
  });

  it('write-through writes the origin first, then serves the new value; a failed write leaves no entry', async () => {
    const origin = new Map<string, string>();
    const ref = cacheKeys.incident('acme', 'i1');
    await cache.get(ref, async () => 'open');
    await cache.writeThrough(ref, 'acknowledged', async (v) => { origin.set(ref.key, v); });
    assert.equal(origin.get(ref.key), 'acknowledged');
    assert.equal(await cache.get(ref, async () => 'wrong'), 'acknowledged');
    await assert.rejects(cache.writeThrough(ref, 'resolved', async () => { throw new Error('disk full'); }), /disk full/);
    assert.equal(await cache.get(ref, async () => 'from-origin'), 'from-origin');
  });
});

/** A cache on the shared Redis with this run's prefix. */
function sharedCache(prefix: string, extra: Partial<CacheOptions> = {}): TwoLevelCache {
  return new TwoLevelCache({ redisUrl: REDIS_URL, prefix, log: pino({ level: 'silent' }), ...extra });
}

async function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  try {
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

describe('storage/cache: two nodes on the real Redis (127.0.0.1:6379)', () => {
  const prefix = `vigil-test-${randomBytes(4).toString('hex')}:`;
  let a: TwoLevelCache;
  let b: TwoLevelCache;
  let raw: Redis;
  before(async () => {
    a = sharedCache(prefix);
    b = sharedCache(prefix);
    raw = new Redis(REDIS_URL);
    await until('both caches see Redis up', () => a.stats().l2Up && b.stats().l2Up);
  });
  after(async () => {
    await a.close();
    await b.close();
    await dropPrefix(prefix);
    raw.disconnect();
  });

  it('serves node B from L2 what node A loaded, under the prefixed design key with the L2 TTL', async () => {
    const o = counter();
    const ref = cacheKeys.topology('acme', 'checkout');
    await a.get(ref, o.load({ downstream: ['payments'] }));
    await until('A wrote L2', async () => (await raw.exists(`${prefix}topo:acme:checkout`)) === 1);
    assert.deepEqual(await b.get(ref, o.load({ downstream: ['WRONG'] })), { downstream: ['payments'] });
    assert.equal(o.n, 1, 'B did not go to the origin');
    assert.equal(b.stats().byKind.topology.l2Hits, 1);
    const pttl = await raw.pttl(`${prefix}topo:acme:checkout`);
    assert.ok(pttl > TOPOLOGY_CACHE.l2TtlMs - MIN && pttl <= TOPOLOGY_CACHE.l2TtlMs, `pttl ${pttl}`);
  });

  it('a topology change on A drops the tenant\'s entries in L2 and in B\'s L1', async () => {
    const o = counter();
    const db = cacheKeys.topology('t2', 'db');
    await a.get(db, o.load('v1'));
    await until('L2 has it', async () => (await raw.exists(`${prefix}${db.key}`)) === 1);
    await b.get(db, o.load('WRONG'));
    assert.equal(await b.get(db, o.load('WRONG')), 'v1', 'B holds it in L1');
    await a.invalidateGroup(cacheGroups.topology('t2'));
    assert.equal(await raw.exists(`${prefix}${db.key}`), 0);
    await until('B dropped its L1 copy', async () => (await b.get(db, async () => 'v2')) === 'v2');
  });

  it('write-through of an incident status reaches node B', async () => {
    const origin = new Map<string, string>();
    const ref = cacheKeys.incident('acme', 'inc-9');
    assert.equal(await b.get(ref, async () => 'open'), 'open');
    await a.writeThrough(ref, 'acknowledged', async (v) => { origin.set(ref.key, v); });
    assert.equal(origin.get(ref.key), 'acknowledged');
    await until('B sees the new status', async () => (await b.get(ref, async () => 'WRONG')) === 'acknowledged');
  });

  it('keeps sessions in L2 only', async () => {
    const ref = cacheKeys.session('user-1');
    assert.equal(ref.policy, SESSION_CACHE);
    await a.writeThrough(ref, { user: 'u1' }, async () => {});
    const before = a.stats().l1Entries;
    assert.deepEqual(await a.get(ref, async () => undefined), { user: 'u1' });
    assert.equal(a.stats().l1Entries, before, 'no L1 entry for a session');
    assert.ok((await raw.pttl(`${prefix}session:user-1`)) > 23 * 60 * MIN);
  });

  it('exposes its counters for /metrics', async () => {
    const registry = new Registry();
    registerCacheMetrics(registry, a);
    const text = await registry.metrics();
    assert.match(text, /^vigil_cache_l2_up 1$/m);
    assert.match(text, /^vigil_cache_requests_total\{level="l1",kind="topology",result="miss"\} [1-9]/m);
    assert.match(text, /^vigil_cache_l2_errors_total 0$/m);
  });
});

/** A redis-server of the test's own, on a port the OS said was free. */
class OwnRedis {
  proc: ChildProcess | undefined;
  constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
      srv.on('error', reject);
    });
    const r = new OwnRedis(port);
    await r.run();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async run(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    await until(`redis-server on ${this.port}`, async () => {
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    });
    probe.disconnect();
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }
}

describe('storage/cache: a Redis outage (own redis-server, killed and restarted)', function () {
  this.timeout(60_000);
  let redis: OwnRedis;
  let a: TwoLevelCache;
  let b: TwoLevelCache;
  let logA: ReturnType<typeof captureLog>;
  const prefix = `vigil-outage-${randomBytes(4).toString('hex')}:`;

  before(async () => {
    redis = await OwnRedis.start();
    logA = captureLog();
    a = new TwoLevelCache({ redisUrl: redis.url, prefix, log: logA.log, retryAfterMs: 200 });
    b = new TwoLevelCache({ redisUrl: redis.url, prefix, log: pino({ level: 'silent' }), retryAfterMs: 200 });
    await until('L2 up', () => a.stats().l2Up && b.stats().l2Up);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill('SIGKILL');
  });

  it('SIGKILL mid-run: no error reaches callers, L1 and the origin carry on, L2 is used again after a restart', async () => {
    const origin = new Map<string, string>([['db', 'disk'], ['api', 'db'], ['web', 'api']]);
    let loads = 0;
    const load = (service: string) => async () => { loads++; return origin.get(service); };
    const ref = (s: string) => cacheKeys.topology('acme', s);

    assert.equal(await a.get(ref('db'), load('db')), 'disk');
    await until('db in L2', async () => (await b.get(ref('db'), async () => 'WRONG')) === 'disk');
    assert.equal(loads, 1, 'B read db from L2');

    // Readers keep going while Redis dies under them.
    let stop = false;
    const errors: unknown[] = [];
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        for (const s of ['db', 'api', 'web']) {
          try {
            const v = await a.get(ref(s), load(s));
            if (v !== origin.get(s)) errors.push(new Error(`${s}: got ${String(v)}`));
            reads++;
          } catch (err) {
            errors.push(err);
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until('some reads before the kill', () => reads > 30);
    await redis.kill('SIGKILL');
    await until('A sees L2 down', () => !a.stats().l2Up);
    const readsAtKill = reads;
    await until('reads continue during the outage', () => reads > readsAtKill + 30);

    // During the outage: a new key comes from the origin; an invalidation and a write-through succeed.
    assert.equal(await b.get(ref('web'), load('web')), 'api');
    await a.invalidateGroup(cacheGroups.topology('acme'));
    origin.set('db', 'ssd');
    assert.equal(await a.get(ref('db'), load('db')), 'ssd');
    await a.writeThrough(cacheKeys.incident('acme', 'i1'), 'acknowledged', async () => {});
    const down = a.stats();
    assert.equal(down.l2Up, false);
    assert.ok(down.l2Skipped + down.l2Errors > 0, 'the outage is counted');
    assert.ok(down.l2Downs >= 1);
    assert.ok(logA.lines.some((l) => l.level === 40 && /cache L2 \(Redis\) down/.test(l.msg)), 'the outage is logged (warn)');
    const registry = new Registry();
    registerCacheMetrics(registry, a);
    const text = await registry.metrics();
    assert.match(text, /^vigil_cache_l2_up 0$/m, 'and shows in /metrics');
    assert.match(text, /^vigil_cache_l2_skipped_total [1-9]/m);

    await redis.run(); // the same port
    await until('A and B see L2 up again', () => a.stats().l2Up && b.stats().l2Up, 20_000);
    stop = true;
    await reader;
    assert.deepEqual(errors, [], 'no caller saw an error or a wrong value');
    assert.ok(logA.lines.some((l) => l.level === 30 && /cache L2 \(Redis\) up/.test(l.msg)));

    // L2 is in use again: what A loads now, B reads from Redis without the origin.
    const before = loads;
    const l2HitsBefore = b.stats().byKind.topology.l2Hits;
    assert.equal(await a.get(ref('api'), load('api')), 'db');
    await until('B reads api from L2', async () => {
      b.clearLocal();
      await b.get(ref('api'), load('api'));
      return b.stats().byKind.topology.l2Hits > l2HitsBefore;
    });
    assert.ok(loads - before <= 2, `origin loads after recovery: ${loads - before}`);
  });

  it('a hung Redis (SIGSTOP) costs callers nothing; invalidations it missed are replayed before L2 is read again', async () => {
    const ref = cacheKeys.incident('acme', 'hang-1');
    assert.equal(await a.get(ref, async () => 'open'), 'open');
    await until('in L2', async () => { b.clearLocal(); return (await b.get(ref, async () => 'WRONG')) === 'open'; });
    b.clearLocal();

    redis.signal('SIGSTOP');
    try {
      // A few commands time out, then the breaker keeps calls away from Redis.
      for (let i = 0; i < 5; i++) assert.equal(await a.get(cacheKeys.incident('acme', `other-${i}`), async () => 'x'), 'x');
      await a.invalidate(ref); // cannot reach Redis: remembered
      assert.ok(a.stats().pendingInvalidations >= 1);
      assert.equal(a.stats().l2Up, false);
    } finally {
      redis.signal('SIGCONT');
    }
    await until('A replays and is up', () => a.stats().l2Up && a.stats().pendingInvalidations === 0, 20_000);
    // Without the replay B would read the stale "open" from L2.
    assert.equal(await b.get(ref, async () => 'acknowledged'), 'acknowledged');
  });
});
