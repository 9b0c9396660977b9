// Ingestion quotas (api/tenancy): the token bucket's rule, the shared Redis bucket across two
// nodes (summed accepted rate within 10% of the quota), the strict local fallback when Redis
// is killed, and the HTTP face: 429 with the bucket's Retry-After, GET /v1/usage, /metrics.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { SystemClock, VirtualClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import { PrepaidTokens, QuotaError, QuotaGate, blockSize, take, type BucketParams } from '../api/tenancy/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { freePort, startRedis } from './support/local-servers.ts';
import { skipWithout } from './support/peer.ts';

const silent = pino({ level: 'silent' });

/** Offers batches of `cost` as fast as the gate answers for `ms` of real time; the samples admitted. */
async function hammer(gate: QuotaGate, tenant: string, cost: number, ms: number): Promise<{ admitted: number; refused: number }> {
  const until = Date.now() + ms;
  let admitted = 0;
  let refused = 0;
  while (Date.now() < until) {
    try {
      await gate.take(tenant, cost);
      admitted += cost;
    } catch (err) {
      if (!(err instanceof QuotaError)) throw err;
      refused++;
      await new Promise((r) => setImmediate(r)); // a refused client comes back at once: the worst case
    }
  }
  return { admitted, refused };
}

describe('tenancy: the token bucket rule', () => {
  const p: BucketParams = { rate: 100, burst: 500 };

  it('starts full, admits within the burst, and says how long a refused batch waits', () => {
    let s = take(undefined, p, 300, 0);
    assert.deepEqual(s.result, { ok: true, retryAfterMs: 0, tokens: 200 });
    s = take(s.state, p, 300, 0);
    assert.equal(s.result.ok, false);
    assert.equal(s.result.retryAfterMs, 1000, '100 more tokens at 100/s');
    s = take(s.state, p, 300, 1000);
    assert.equal(s.result.ok, true);
    assert.equal(s.result.tokens, 0);
  });

  it('lets a batch larger than the burst through from a full bucket, leaving a debt the refill pays', () => {
    let s = take(undefined, p, 800, 0);
    assert.equal(s.result.ok, true);
    assert.equal(s.result.tokens, -300);
    s = take(s.state, p, 10, 1000);
    assert.equal(s.result.ok, false);
    assert.equal(s.result.retryAfterMs, 2100, 'from -200 to +10 at 100/s');
  });

  it('never holds more than the burst, even after a long pause or a lowered burst', () => {
    let s = take(undefined, p, 1, 0);
    s = take(s.state, p, 0, 3_600_000);
    assert.equal(s.result.tokens, 500);
    s = take(s.state, { rate: 100, burst: 50 }, 0, 3_600_000);
    assert.equal(s.result.tokens, 50);
  });

  it('admits at most rate x time + burst over a long run (virtual time, local buckets)', async () => {
    const clock = new VirtualClock(0);
    const gate = new QuotaGate({ nodeId: 'n1', clock, log: silent, bucketOf: () => ({ rate: 1000, burst: 200 }) });
    let admitted = 0;
    for (let t = 0; t < 60_000; t += 10) { // 10x the quota: 100 samples every 10 ms
      clock.advance(10);
      try {
        const refusal = gate.refusalBeforeBody('a');
        if (refusal) throw refusal;
        await gate.take('a', 100);
        admitted += 100;
      } catch (err) {
        assert.ok(err instanceof QuotaError);
      }
    }
    assert.ok(admitted <= 1000 * 60 + 200, `admitted ${admitted}`);
    assert.ok(admitted >= 1000 * 60 * 0.95, `admitted ${admitted}: the quota itself is given`);
    await gate.close();
  });
});

describe('tenancy: prepaid blocks of the shared bucket', () => {
  it('sizes a block as a short time of the rate over the nodes, at least the last batch, at most half the burst', () => {
    const p: BucketParams = { rate: 10_000, burst: 10_000 };
    assert.equal(blockSize(p, 1, 100, 50), 1_000);
    assert.equal(blockSize(p, 2, 100, 50), 500, 'split among the nodes');
    assert.equal(blockSize(p, 2, 100, 800), 800, 'the usual batch fits');
    assert.equal(blockSize(p, 1, 100, 9_000), 5_000, 'half the burst stays shared');
    assert.equal(blockSize({ rate: 5, burst: 1 }, 1, 100, 1), 0, 'too small for blocks');
    assert.equal(blockSize(p, 1, 0, 50), 0, 'blocks off');
  });

  it('spends only what is held, and hands all of it to a batch larger than it', () => {
    const held = new PrepaidTokens();
    held.add('a', 100);
    assert.equal(held.spend('a', 60), true);
    assert.equal(held.spend('a', 60), false, 'only 40 left');
    assert.equal(held.left('a'), 40);
    assert.equal(held.spend('b', 1), false, 'another tenant holds nothing');
    assert.equal(held.takeAll('a'), 40);
    assert.equal(held.left('a'), 0);
    held.add('a', 10);
    held.clear();
    assert.equal(held.left('a'), 0);
  });
});

describe('tenancy: quotas shared through Redis', function () {
  this.timeout(60_000);
  let redis: ChildProcess | undefined;
  let port: number;
  const gates: QuotaGate[] = [];
  const quota: BucketParams = { rate: 20_000, burst: 2_000 };
  const prefix = `vigil:test:quota:${process.pid}:${Date.now()}:`;
  const gate = (nodeId: string) => {
    const g = new QuotaGate({
      nodeId, clock: new SystemClock(), log: silent, redisUrl: `redis://127.0.0.1:${port}`, prefix, heartbeatMs: 200, bucketOf: () => quota,
    });
    gates.push(g);
    return g;
  };

  before(async function () {
    port = await freePort();
    try {
      redis = await startRedis(port);
    } catch (err) {
      skipWithout(this, `redis-server cannot start here (${(err as Error).message})`);
    }
  });
  after(async () => {
    for (const g of gates) await g.close();
    redis?.kill('SIGKILL');
  });

  it('keeps two nodes together within 10% of the tenant\'s quota', async () => {
    const [a, b] = [gate('node-a'), gate('node-b')];
    await eventually(async () => (a.mode === 'redis' && b.mode === 'redis' ? true : undefined), 'both nodes on Redis');
    const seconds = 4;
    const started = Date.now();
    // each node alone offers more than the whole quota
    const [ra, rb] = await Promise.all([hammer(a, 'acme', 100, seconds * 1000), hammer(b, 'acme', 100, seconds * 1000)]);
    const elapsed = (Date.now() - started) / 1000;
    const rate = (ra.admitted + rb.admitted) / elapsed;
    console.log(`      two nodes: ${ra.admitted} + ${rb.admitted} samples admitted in ${elapsed.toFixed(2)} s = ${Math.round(rate)}/s `
      + `against a quota of ${quota.rate}/s (burst ${quota.burst}); ${ra.refused + rb.refused} refusals`);
    assert.ok(ra.admitted > 0 && rb.admitted > 0, 'both nodes admit');
    assert.ok(ra.refused > 0 && rb.refused > 0, 'both nodes refuse past the quota');
    assert.ok(Math.abs(rate - quota.rate) <= quota.rate * 0.1, `summed rate ${Math.round(rate)}/s is within 10% of ${quota.rate}/s`);
    // another tenant has its own bucket
    await a.take('globex', 1_000);
  });

  it('pays a tenant within its rate from prepaid blocks: Redis is asked about once a block, not once a batch', async () => {
    const g = gate('node-e');
    await eventually(async () => (g.mode === 'redis' ? true : undefined), 'the node on Redis');
    const client = new Redis(`redis://127.0.0.1:${port}`);
    const bucketCalls = async () => {
      const stats = await client.info('commandstats');
      return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    try {
      const before = await bucketCalls();
      const batches = 400;
      for (let i = 0; i < batches; i++) {
        await g.take('hooli', 50); // 20,000 samples against a burst of 2,000: the blocks must keep coming
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 100)); // within the rate: 1,000 samples per 100 ms at most
      }
      const calls = (await bucketCalls()) - before;
      // the count holds the nodes' heartbeats too (a script as well): five a second from each gate of this file
      console.log(`      ${batches} batches of 50 paid with ${calls} script calls, heartbeats included (nodes seen: ${Math.round(1 / g.share)})`);
      assert.ok(calls > 0, 'the blocks come from the shared bucket');
      assert.ok(calls <= batches / 4, `${calls} calls for ${batches} batches`);
      await eventually(async () => (g.prepaidTokens('hooli') > 0 ? true : undefined), 'a block held for the next batches');
      g.unblock(); // a quota changed: what was prepaid under the old one is dropped
      assert.equal(g.prepaidTokens('hooli'), 0);
    } finally {
      client.disconnect();
    }
  });

  it('falls back to a strict local bucket (the quota / nodes seen) when Redis is killed, and goes back when it returns', async () => {
    const [a, b] = [gate('node-c'), gate('node-d')];
    await eventually(async () => (a.mode === 'redis' && b.mode === 'redis' && a.share <= 0.5 && b.share <= 0.5 ? true : undefined), 'both nodes seen');
    const nodes = Math.round(1 / a.share);
    assert.ok(nodes >= 2, `nodes seen: ${nodes}`);
    redis!.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    await eventually(async () => {
      await a.take('initech', 1).catch(() => undefined);
      await b.take('initech', 1).catch(() => undefined);
      return a.mode === 'local' && b.mode === 'local' ? true : undefined;
    }, 'the fallback');
    const seconds = 2;
    const started = Date.now();
    const [ra, rb] = await Promise.all([hammer(a, 'initech', 100, seconds * 1000), hammer(b, 'initech', 100, seconds * 1000)]);
    const elapsed = (Date.now() - started) / 1000;
    const sum = ra.admitted + rb.admitted;
    console.log(`      Redis killed: the nodes allow ${a.share.toFixed(2)} and ${b.share.toFixed(2)} of the quota; admitted ${ra.admitted} + ${rb.admitted} in ${elapsed.toFixed(2)} s `
      + `(${Math.round(sum / elapsed)}/s against ${quota.rate}/s)`);
    // each node stays within its own share (1 / the nodes it saw: the first test's two are still
    // beating, and two nodes may have counted each other at different moments); together within
    // the quota (a node starts with its share of the burst)
    for (const [g, r] of [[a, ra], [b, rb]] as const) {
      assert.ok(r.admitted <= g.share * (quota.rate * elapsed + quota.burst) + 100, `a node at share ${g.share.toFixed(3)} admitted ${r.admitted} in ${elapsed.toFixed(2)} s`);
    }
    assert.ok(sum <= quota.rate * elapsed + quota.burst + 200, `together ${sum}`);
    assert.ok(sum >= quota.rate * seconds * 0.5 * a.share * 2, `and still serve (${sum})`);
    const refusal = await a.take('initech', 5_000).then(() => undefined, (err: unknown) => err);
    assert.ok(refusal instanceof QuotaError);
    assert.ok(refusal.message.includes(`this node's share while Redis is away: ${a.share.toFixed(3)}`), refusal.message);
    assert.ok(refusal.retryAfterSeconds >= 1);

    redis = await startRedis(port);
    await eventually(async () => {
      await a.take('initech', 1).catch(() => undefined);
      return a.mode === 'redis' ? true : undefined;
    }, 'the shared buckets again', 10_000);
    // what the nodes admitted alone is charged to the shared bucket; then it serves again
    await eventually(async () => a.take('initech', 1_000).then(() => true, () => undefined), 'a take from the shared bucket', 10_000);
    assert.equal(a.mode, 'redis');
  });
});

describe('tenancy: 429 with Retry-After, GET /v1/usage and /metrics', () => {
  let node: NodeHandle;
  let initech: ApiClient;
  const now = () => Date.now();
  const batch = (n: number, service = 'web', metric = 'm') => [{ service, metric, samples: Array.from({ length: n }, (_, i) => [now() - 60_000 + i, 1]) }];

  before(async () => {
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-quota-')), 'tenants.yaml');
    writeFileSync(file, [
      'tenants:',
      `  - { id: initech, rate: 100, burst: 500, keys: [{ id: k, sha256: ${hashKey('initech-1')} }] }`,
      `  - { id: tiny, maxSeries: 2, keys: [{ id: k, sha256: ${hashKey('tiny-1')} }] }`,
      '',
    ].join('\n'));
    c.tenancy = { ...c.tenancy, file };
    node = await startNode(c, { logger: silent, detectors: thresholdDetectors });
    initech = new ApiClient(node.url, 'initech-1');
  });
  after(async () => node.stop());

  it('refuses past the bucket with 429 and the Retry-After the bucket computes', async () => {
    assert.equal((await initech.postMetrics(batch(500))).status, 202);
    // The first batch left the bucket at 0 tokens, so for the next 10 ms (one token at 100/s)
    // every batch is refused before its body is read, with the wait for that one token
    // (Retry-After 1: a warm process sends the second batch that soon). Past it, the bucket
    // itself weighs the 500 samples.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const r = await initech.postMetrics(batch(500)) as { status: number; headers: Headers; body: ErrorReply };
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'QUOTA_EXCEEDED');
    assert.match(r.body.error.message, /tenant initech: ingestion rate quota exceeded \(rate 100\/s, burst 500\)/);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 4 && retry <= 5, `Retry-After ${retry}: 500 tokens at 100/s`);
    // until then, refused before the body is read, still with the remaining wait
    const again = await initech.postMetrics(batch(1)) as { status: number; headers: Headers; body: ErrorReply };
    assert.equal(again.status, 429);
    assert.ok(Number(again.headers.get('retry-after')) >= 1);
    assert.equal(again.headers.get('content-type'), r.headers.get('content-type'));
    assert.match(again.body.error.message, /tenant initech: ingestion rate quota exceeded \(rate 100\/s, burst 500\): its bucket is empty/);
    // another tenant is not touched
    assert.equal((await initech.withKey(KEYS.acme).postMetrics(batch(500))).status, 202);
  });

  it('shows the tenant its own quota, rate, series and rejections at GET /v1/usage', async () => {
    const u = await initech.get<{ tenant: string; quota: { rate: number; burst: number; mode: string }; accepted: number; rate: number;
      rejections: { rate: number }; series: { held: number; max: number } }>('/v1/usage');
    assert.equal(u.status, 200);
    assert.equal(u.body.tenant, 'initech');
    assert.deepEqual(u.body.quota, { rate: 100, burst: 500, mode: 'local' });
    assert.equal(u.body.accepted, 500);
    assert.ok(u.body.rate > 0);
    assert.ok(u.body.rejections.rate >= 2);
    assert.deepEqual(u.body.series, { held: 1, max: 10_000 });
    // the admin key has no tenant; no key, no usage
    assert.equal((await initech.withKey(KEYS.admin).get('/v1/usage')).status, 403);
    assert.equal((await initech.withKey(undefined).get('/v1/usage')).status, 401);
  });

  it('counts series-limit refusals by reason', async () => {
    const tiny = initech.withKey('tiny-1');
    assert.equal((await tiny.postMetrics([...batch(1, 'a', 'x'), ...batch(1, 'a', 'y')])).status, 202);
    const r = await tiny.postMetrics(batch(1, 'a', 'z'));
    assert.equal(r.status, 429);
    assert.match(r.body.error!.message, /limit maxSeries \(2\)/);
    const u = await tiny.get<{ rejections: Record<string, number>; series: { held: number; max: number }; quota: { rate: number } }>('/v1/usage');
    assert.deepEqual(u.body.rejections, { rate: 0, maxSeries: 1, maxServices: 0 });
    assert.deepEqual(u.body.series, { held: 2, max: 2 });
    assert.equal(u.body.quota.rate, 10_000, 'a small tenant\'s default rate');
  });

  it('puts the per-tenant counts in /metrics for the admin key only', async () => {
    const anon = initech.withKey(undefined);
    const pub = (await anon.get<string>('/metrics')).body;
    assert.match(pub, /^vigil_quota_rejected_requests_total\{reason="rate"\} [1-9]/m);
    assert.match(pub, /^vigil_quota_redis_up 0$/m);
    assert.doesNotMatch(pub, /tenant="initech"/);
    const admin = (await anon.withKey(KEYS.admin).get<string>('/metrics')).body;
    assert.match(admin, /^vigil_tenant_quota_rejected_requests_total\{tenant="initech",reason="rate"\} [1-9]/m);
    assert.match(admin, /^vigil_tenant_quota_rejected_requests_total\{tenant="tiny",reason="maxSeries"\} 1$/m);
    assert.match(admin, /^vigil_tenant_quota_admitted_samples_total\{tenant="initech"\} 500$/m);
  });
});
