// A batch refused by its size (api/tenancy/token-bound.ts, api/refusals): the bound a shared
// bucket's answer gives never refuses a batch the bucket would admit, whatever the other nodes,
// the node's prepaid blocks and its debts do since; and a gateway's refusal process refuses by
// it a batch too large to pass, with its samples counted, while it passes on one that may pass.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createRng, SystemClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import { startGateway, type Gateway } from '../api/gateway.ts';
import { certainRefusal, hostMs, openTenancy, QuotaGate, take, type BucketParams, type BucketState, type TokenBound } from '../api/tenancy/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { encodeMetricBatch } from '../protocols/index.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';
import { freePort, killServer, startRedis } from './support/local-servers.ts';

/** One node's view of a tenant's bucket, as the gate (quotas.ts) runs it, beside other nodes taking from the same shared bucket. */
class Cluster {
  shared: BucketState | undefined;
  prepaid = 0;
  /** blocks asked for: taken from the shared bucket at `takenAt` (or not yet), credited later */
  blocks: Array<{ size: number; taken: boolean }> = [];
  /** batches waiting on the shared bucket, with the prepaid tokens in their hands */
  batches: Array<{ n: number; hand: number; asked: number }> = [];
  now = 0;

  constructor(readonly p: BucketParams) {}

  sharedTake(cost: number) {
    const { state, result } = take(this.shared, this.p, cost, this.now);
    this.shared = state;
    return result;
  }

  /** What the shared bucket holds now (refilled, nothing taken). */
  sharedNow(): number {
    return take(this.shared, this.p, 0, this.now).state.tokens;
  }

  /** Whether a batch of n would pass now by the gate's rule (prepaid first, the shared bucket for the rest). */
  wouldPass(n: number): boolean {
    return this.prepaid >= n || this.sharedNow() >= Math.min(n - this.prepaid, this.p.burst);
  }

  /** What the gate tells its watcher after a batch's answer (quotas.ts bound()). */
  bound(asked: number, tokens: number): TokenBound {
    const inFlight = this.blocks.reduce((s, b) => s + b.size, 0) + this.batches.reduce((s, b) => s + b.hand, 0);
    return { tenant: 't', at: asked, tokens, prepaid: this.prepaid + inFlight, rate: this.p.rate, burst: this.p.burst, quota: '' };
  }
}

describe('refusal by size: the bound of a shared bucket\'s answer', () => {
  it('never refuses a batch the bucket would admit, in 20 seeded histories of other nodes, blocks, debts and concurrent batches', () => {
    let checks = 0;
    let certain = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rng = createRng(seed);
      const p: BucketParams = { rate: 50 + rng.int(5_000), burst: 100 + rng.int(10_000) };
      const c = new Cluster(p);
      let bound: TokenBound | undefined;
      for (let step = 0; step < 5_000; step++) {
        c.now += rng.int(40);
        const n = 1 + rng.int(p.burst * 2);
        switch (rng.int(7)) {
          case 0: { // a batch of this node: spent from prepaid, or its hand waits on the shared bucket
            if (c.prepaid >= n) c.prepaid -= n;
            else if (c.batches.length < 2) {
              c.batches.push({ n, hand: c.prepaid, asked: c.now - rng.int(5) });
              c.prepaid = 0;
            }
            break;
          }
          case 1: { // the shared bucket answers a waiting batch: the gate's new bound
            const b = c.batches.shift();
            if (!b) break;
            const r = c.sharedTake(b.n - b.hand);
            if (!r.ok) c.prepaid += b.hand;
            bound = c.bound(b.asked, r.tokens);
            break;
          }
          case 2: c.sharedTake(n); break; // another node's batch
          case 3: { // a block asked for (at most half the burst), taken when the bucket holds it
            if (c.blocks.length > 0) break;
            const size = 1 + rng.int(Math.floor(p.burst / 2));
            c.blocks.push({ size, taken: false });
            break;
          }
          case 4: { // the block's answer reaches the shared bucket, then the node
            const b = c.blocks[0];
            if (!b) break;
            if (!b.taken) {
              b.taken = c.sharedTake(b.size).ok;
              if (!b.taken) c.blocks.shift();
            } else {
              c.prepaid += b.size;
              c.blocks.shift();
            }
            break;
          }
          case 5: { // what a node admitted alone while Redis was away, charged to the shared bucket
            const s = take(c.shared, p, 0, c.now).state;
            c.shared = { tokens: Math.max(-p.burst, s.tokens - rng.int(p.burst)), at: s.at };
            break;
          }
          default: { // the refusal process judges a batch by the last bound it was told
            if (!bound) break;
            checks++;
            const wait = certainRefusal(bound, n, c.now);
            if (wait === undefined) break;
            certain++;
            assert.ok(!c.wouldPass(n), `seed ${seed} step ${step}: a batch of ${n} refused by ${JSON.stringify(bound)} at ${c.now} would pass`);
            // and not before the Retry-After it gives, if nothing else happens meanwhile
            c.now += wait - 1;
            assert.ok(!c.wouldPass(n), `seed ${seed} step ${step}: the batch of ${n} would pass before its Retry-After (${wait} ms)`);
          }
        }
      }
    }
    assert.ok(checks > 10_000, `${checks} judgements`);
    assert.ok(certain > checks / 10, `${certain} of ${checks} judged certain refusals: the bound refuses something`);
  });

  it('refuses nothing once the shared bucket may hold its burst, or when the prepaid tokens cover the batch', () => {
    const b: TokenBound = { tenant: 't', at: 1_000, tokens: 0, prepaid: 0, rate: 1_000, burst: 500, quota: '' };
    // the refill counted with Redis' 1 ms resolution and 0.1% of drift: 1 + 1.001·Δ tokens at 1,000/s
    assert.equal(certainRefusal(b, 400, 1_000), 399);
    assert.equal(certainRefusal(b, 400, 1_398), 1);
    assert.equal(certainRefusal(b, 400, 1_399), undefined);
    assert.equal(certainRefusal(b, 2_000, 1_498), 1, 'a batch larger than the burst waits for a full bucket');
    assert.equal(certainRefusal(b, 2_000, 1_499), undefined);
    assert.equal(certainRefusal({ ...b, prepaid: 400 }, 400, 1_000), undefined);
    assert.equal(certainRefusal({ ...b, tokens: -300, prepaid: 350 }, 300, 1_000), undefined, 'prepaid tokens pass a batch whatever the shared debt');
  });
});

describe('refusal by size: the bounds two gates on one Redis bucket tell', function () {
  this.timeout(30_000);
  let redis: ChildProcess | undefined;
  const gates: QuotaGate[] = [];
  after(async () => {
    for (const g of gates) await g.close();
    await killServer(redis);
  });

  it('never refuse a batch the gate then admits, with a second node and concurrent batches', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    const quota = { rate: 2_000, burst: 1_000 };
    const prefix = `vigil:test:by-size:${process.pid}:`;
    for (const nodeId of ['n1', 'n2']) {
      gates.push(new QuotaGate({ nodeId, clock: new SystemClock(), log: pino({ level: 'silent' }), redisUrl: `redis://127.0.0.1:${port}`, prefix, heartbeatMs: 200, bucketOf: () => quota }));
    }
    const [one, two] = gates as [QuotaGate, QuotaGate];
    for (let i = 0; i < 100 && (one.mode !== 'redis' || two.mode !== 'redis'); i++) await sleep(20);
    let bound: TokenBound | undefined;
    one.watchBuckets((news) => { if (news.kind === 'bound') bound = news; });
    const rng = createRng(7);
    const tally = { certain: 0, conclusive: 0, wrong: [] as string[] };
    const until = hostMs() + 3_000;
    const offer = async (gate: QuotaGate, judged: boolean): Promise<void> => {
      while (hostMs() < until) {
        const n = 1 + rng.int(700);
        const now = hostMs();
        const judgedBy = judged ? bound : undefined;
        const wait = judgedBy ? certainRefusal(judgedBy, n, now) : undefined;
        if (wait !== undefined) tally.certain++;
        const admitted = await gate.take('t', n).then(() => true, () => false);
        // an admission answered before the bound said the batch could pass: the bound was wrong
        if (wait !== undefined && hostMs() < now + wait) {
          tally.conclusive++;
          if (admitted) tally.wrong.push(`${n} at ${now} by ${JSON.stringify(judgedBy)}`);
        }
        await sleep(rng.int(4));
      }
    };
    await Promise.all([offer(one, true), offer(one, true), offer(one, true), offer(two, false)]);
    assert.equal(one.mode, 'redis', 'the shared bucket answered throughout');
    assert.deepEqual(tally.wrong, []);
    assert.ok(tally.conclusive >= 20, `${tally.conclusive} conclusive of ${tally.certain} certain refusals`);
  });
});

interface Answer { status: number; headers: IncomingMessage['headers']; body: string }

function send(url: string, body: string | Uint8Array, type: string, agent: Agent, key: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL('/v1/metrics', url), { method: 'POST', agent, headers: { 'content-type': type, authorization: `Bearer ${key}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const UMBRELLA = 'umbrella-1';
const series = (n: number) => [{ service: 'web', metric: 'm', samples: Array.from({ length: n }, (_, i): [number, number] => [Date.now() - 60_000 + i, 1]) }];
const json = (n: number) => JSON.stringify({ series: series(n) });
const byProcess = (a: Answer) => /^r[0-9a-z]+-[0-9a-z]+$/.test(String(a.headers['x-request-id']));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('refusal by size: a gateway\'s refusal process with the shared (Redis) bucket', function () {
  this.timeout(60_000);
  let redis: ChildProcess | undefined;
  let node: NodeHandle;
  let gw: Gateway;
  let quotas: QuotaGate;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    node = await startTestNode();
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-by-size-')), 'tenants.yaml');
    writeFileSync(file, `tenants:\n  - { id: umbrella, rate: 200, burst: 400, keys: [{ id: k, sha256: ${hashKey(UMBRELLA)} }] }\n`);
    c.tenancy = { ...c.tenancy, file };
    const opened = await openTenancy(c, { clock: new SystemClock(), log: pino({ level: 'silent' }), redisUrl: `redis://127.0.0.1:${port}` });
    quotas = opened.quotas;
    for (let i = 0; i < 100 && quotas.mode !== 'redis'; i++) await sleep(20);
    assert.equal(quotas.mode, 'redis');
    gw = await startGateway(node.engine, c, pino({ level: 'silent' }), { tenancy: { ...opened, limits: { maxSeriesPerTenant: 100_000, maxServicesPerTenant: 10_000 } }, refusalProcess: true });
  });
  after(async () => {
    agent.destroy();
    await gw?.close();
    await quotas?.close();
    await node?.stop();
    await killServer(redis);
  });

  const usage = async () => (await (await fetch(new URL('/v1/usage', gw.url), { headers: { authorization: `Bearer ${UMBRELLA}` } })).json()) as { rejections: { rate: number }; rejectedSamples: number; accepted: number };

  it('refuses a batch too large for the bucket there, counts its samples, and passes on one that may pass', async () => {
    // 1,200 from a full bucket of 400: 800 in debt, so the bucket is empty for 4 s
    assert.equal((await send(gw.url, json(1_200), 'application/json', new Agent(), UMBRELLA)).status, 202);
    // the first refusal starts the process; once it is up a refusal closes its connection and the next one is handed over
    let handedOver = false;
    for (let i = 0; i < 60 && !handedOver; i++) {
      const a = await send(gw.url, json(1), 'application/json', agent, UMBRELLA);
      assert.equal(a.status, 429, a.body);
      handedOver = byProcess(a);
      if (!handedOver && a.headers.connection !== 'close') await sleep(50);
    }
    assert.ok(handedOver, 'a connection of the tenant is held by the refusal process');
    // the block ends when the bucket holds one token again; the batch then goes to the gateway, and Redis' answer gives the bound
    for (let i = 0; i < 100; i++) {
      const a = await send(gw.url, json(1), 'application/json', agent, UMBRELLA);
      if (a.status === 202) break;
      assert.equal(a.status, 429);
      await sleep(100);
    }
    const before = await usage();
    await sleep(20); // past the block of one token (5 ms)
    const refusals = [
      await send(gw.url, json(300), 'application/json', agent, UMBRELLA),
      await send(gw.url, encodeMetricBatch('', series(300)), 'application/x-protobuf', agent, UMBRELLA),
    ];
    for (const a of refusals) {
      assert.equal(a.status, 429, a.body);
      assert.ok(byProcess(a), `refused by the process (request id ${String(a.headers['x-request-id'])})`);
      const message = JSON.parse(a.body).error.message as string;
      // 300 tokens at 200/s from what the bucket held after the last 202 (between none and 300):
      // 2 s right after it, 1 s once half a second has passed (a slow machine)
      const after = /^tenant umbrella: ingestion rate quota exceeded \(rate 200\/s, burst 400\): this batch of 300 samples needs 300 tokens; retry after ([12]) s$/.exec(message)?.[1];
      assert.ok(after !== undefined, message);
      assert.equal(a.headers['retry-after'], after);
      assert.notEqual(a.headers.connection, 'close');
    }
    // a batch the bucket may hold is the gateway's to judge: it passes
    await sleep(30);
    const small = await send(gw.url, json(2), 'application/json', agent, UMBRELLA);
    assert.equal(small.status, 202, small.body);
    assert.ok(!byProcess(small));
    // the gateway counts the process's refusals with their samples (told within 50 ms)
    let after = await usage();
    for (let i = 0; i < 40 && after.rejections.rate - before.rejections.rate < 2; i++) after = (await sleep(25), await usage());
    assert.equal(after.rejections.rate - before.rejections.rate, 2);
    assert.equal(after.rejectedSamples - before.rejectedSamples, 600);
    assert.equal(after.accepted - before.accepted, 2);
  });

  it('keeps the other tenants\' keys out of it: a key of another tenant on that connection is the gateway\'s to judge', async () => {
    const a = await send(gw.url, json(300), 'application/json', agent, KEYS.acme);
    assert.ok(!byProcess(a), 'answered by the gateway');
    assert.notEqual(a.status, 429);
  });
});
