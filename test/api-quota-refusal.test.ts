// The quota refusal in front of Fastify (api/quota-refusal.ts), on a real HTTP server: it answers
// only a POST to an ingest path by a known tenant key whose bucket is known to be empty (429,
// Retry-After, the error body), and passes everything else on untouched.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { VirtualClock } from '../actors/runtime/index.ts';
import { hashKey, KeyRing } from '../api/keys.ts';
import { quotaRefusal } from '../api/quota-refusal.ts';
import { QuotaGate } from '../api/tenancy/index.ts';

describe('api: the quota refusal before Fastify', () => {
  const clock = new VirtualClock(1_000_000);
  const keys = new KeyRing({ auth: { adminKeyHash: hashKey('admin-key') }, tenants: [{ id: 'a', keyHashes: [hashKey('a-key')] }, { id: 'b', keyHashes: [hashKey('b-key')] }] });
  const quotas = new QuotaGate({ nodeId: 'n', clock, log: pino({ level: 'silent' }), bucketOf: (t) => (t === 'a' ? { rate: 100, burst: 100 } : undefined) });
  const overloaded = new Set<string>();
  const observed: Array<[string, number]> = [];
  const refuse = quotaRefusal({
    keys, quotas, overloaded: (t) => overloaded.has(t), paths: new Set(['/v1/metrics', '/api/v1/write']),
    requestId: () => 'rid-1', observe: (route, status) => observed.push([route, status]),
  });
  let server: Server;
  let url = '';
  let passed = 0;

  before(async () => {
    server = createServer((req, res) => {
      if (refuse(req, res)) return;
      passed++;
      req.resume();
      req.on('end', () => res.writeHead(202).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await quotas.close();
    await new Promise((r) => server.close(r));
  });

  const post = (path: string, key?: string, method = 'POST') => fetch(`${url}${path}`, {
    method, headers: key ? { authorization: `Bearer ${key}` } : {}, ...(method === 'POST' ? { body: 'x'.repeat(10_000) } : {}),
  });

  it('passes a tenant on while its bucket is not known to be empty', async () => {
    assert.equal((await post('/v1/metrics', 'a-key')).status, 202);
    assert.equal(passed, 1);
  });

  it('answers a blocked tenant\'s ingest itself: 429, Retry-After, the error body, the request id; twice on one connection', async () => {
    await quotas.take('a', 150); // admitted from a full bucket of 100, leaving it in debt: blocked for 0.51 s
    for (const path of ['/v1/metrics', '/api/v1/write?x=1']) {
      const r = await post(path, 'a-key');
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(r.headers.get('x-request-id'), 'rid-1');
      const body = await r.json() as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'QUOTA_EXCEEDED');
      assert.match(body.error.message, /^tenant a: ingestion rate quota exceeded \(rate 100\/s, burst 100\): its bucket is empty; retry after 1 s$/);
    }
    assert.equal(passed, 1, 'neither reached the server behind it');
    assert.deepEqual(observed, [['/v1/metrics', 429], ['/api/v1/write', 429]]);
    assert.equal(quotas.usage('a').rejections.rate, 2, 'counted as the route counts them');
  });

  it('passes on what is not its to answer: other tenants, other routes and methods, no or unknown keys, an overloaded tenant (its 503 first)', async () => {
    const before = passed;
    assert.equal((await post('/v1/metrics', 'b-key')).status, 202);
    assert.equal((await post('/v1/series', 'a-key')).status, 202);
    assert.equal((await post('/v1/metrics', 'a-key', 'GET')).status, 202);
    assert.equal((await post('/v1/metrics')).status, 202);
    assert.equal((await post('/v1/metrics', 'not-a-key')).status, 202);
    assert.equal((await post('/v1/metrics', 'admin-key')).status, 202);
    overloaded.add('a');
    assert.equal((await post('/v1/metrics', 'a-key')).status, 202);
    overloaded.delete('a');
    assert.equal(passed - before, 7);
    clock.advance(1_000); // the bucket refilled: a's batches go on again
    assert.equal((await post('/v1/metrics', 'a-key')).status, 202);
  });
});
