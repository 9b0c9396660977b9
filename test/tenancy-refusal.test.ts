// The cheap refusal of a tenant over its quota (api/tenancy/quotas.ts): once its bucket is
// known to hold too little (a refused batch, or an admitted one that left it in debt), its
// next requests are answered 429 with the bucket's Retry-After before their body is read.
// The proof that nothing was read: a body that could not be parsed still gets the 429, not 400.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { VirtualClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import { EMPTY_BUCKET, QuotaError, QuotaGate, rateRefusal } from '../api/tenancy/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

const silent = pino({ level: 'silent' });
const KEY = 'hooli-1';

describe('tenancy: a tenant over its quota is refused before its body is read', () => {
  let node: NodeHandle;
  const samples = (n: number) => Array.from({ length: n }, (_, i) => [Date.now() - 60_000 + i, 1]);
  const post = (key: string, body: string) => fetch(new URL('/v1/metrics', node.url), {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body,
  });

  before(async () => {
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-refusal-')), 'tenants.yaml');
    writeFileSync(file, `tenants:\n  - { id: hooli, rate: 100, burst: 500, keys: [{ id: k, sha256: ${hashKey(KEY)} }] }\n`);
    c.tenancy = { ...c.tenancy, file };
    node = await startNode(c, { logger: silent, detectors: thresholdDetectors });
  });
  after(async () => node.stop());

  it('after a batch that leaves the bucket in debt: 429 with the wait the debt needs, unparsed, other tenants untouched', async () => {
    // 800 samples from a full bucket of 500: admitted, 300 in debt, 3.01 s at 100/s to one token
    const big = await post(KEY, JSON.stringify({ series: [{ service: 'web', metric: 'm', samples: samples(800) }] }));
    assert.equal(big.status, 202);
    const refused = await post(KEY, '{"series": [ this is not JSON');
    assert.equal(refused.status, 429, 'refused before the body was parsed (a parsed one is a 400)');
    const body = await refused.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'QUOTA_EXCEEDED');
    assert.match(body.error.message, /tenant hooli: ingestion rate quota exceeded \(rate 100\/s, burst 500\)/);
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry >= 3 && retry <= 4, `Retry-After ${retry}: 301 tokens at 100/s`);
    const other = await post(KEYS.acme, '{"series": [ this is not JSON');
    assert.equal(other.status, 400, 'another tenant\'s body is read and judged');
  });
});

describe('tenancy: the quota gate remembers a debt', () => {
  it('refuses every batch until the refill brings a debt back to one token, then asks the bucket again', async () => {
    const clock = new VirtualClock(0);
    const gate = new QuotaGate({ nodeId: 'n1', clock, log: silent, bucketOf: () => ({ rate: 100, burst: 200 }) });
    assert.equal(gate.blocksAny(), false);
    await gate.take('a', 450); // from a full bucket of 200: 250 in debt, 2,510 ms to one token
    assert.equal(gate.blocksAny(), true);
    const first = gate.refusalBeforeBody('a');
    assert.ok(first instanceof QuotaError && first.retryAfterSeconds === 3);
    clock.advance(2_500);
    assert.ok(gate.refusalBeforeBody('a') instanceof QuotaError, 'still in debt (0.0 tokens)');
    clock.advance(10);
    assert.equal(gate.blocksAny(), false);
    assert.equal(gate.refusalBeforeBody('a'), undefined); // one token: a 1-sample batch may pass, so the bucket decides
    await gate.take('a', 1);
    assert.equal(gate.usage('a').rejections.rate, 2);
    await gate.close();
  });

  it('does not block after a batch that leaves tokens (the next, smaller one may pass)', async () => {
    const clock = new VirtualClock(0);
    const gate = new QuotaGate({ nodeId: 'n1', clock, log: silent, bucketOf: () => ({ rate: 100, burst: 200 }) });
    await gate.take('a', 199);
    assert.equal(gate.refusalBeforeBody('a'), undefined);
    await gate.take('a', 1);
    await assert.rejects(gate.take('a', 1), QuotaError);
    await gate.close();
  });

  it('refuses without a stack trace, in every path, and leaves the limit as it found it', async () => {
    // a 429 is a decision: a flood is made of them, and capturing a stack for each was a fifth of a refusal's cost
    const clock = new VirtualClock(0);
    const gate = new QuotaGate({ nodeId: 'n1', clock, log: silent, bucketOf: () => ({ rate: 100, burst: 200 }) });
    const limit = Error.stackTraceLimit;
    await gate.take('a', 450);
    const early = gate.refusalBeforeBody('a');
    clock.advance(2_600);
    const thrown = await gate.take('a', 200).then(() => undefined, (err: unknown) => err); // 200 from about 10 tokens: refused by the bucket
    for (const refusal of [early, thrown, rateRefusal('a', '', EMPTY_BUCKET, 1_000)]) {
      assert.ok(refusal instanceof QuotaError);
      assert.doesNotMatch(refusal.stack ?? '', /\n\s+at /, 'no frames');
    }
    assert.equal(Error.stackTraceLimit, limit);
    assert.match(new Error('another').stack ?? '', /\n\s+at /, 'other errors keep their stack');
    await gate.close();
  });
});
