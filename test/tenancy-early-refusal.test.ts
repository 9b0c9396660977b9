// A tenant whose bucket is known empty is answered by the server's own request listener, before
// Fastify (api/early-refusal.ts): the same answer Fastify gives, the same counts, the connection
// kept usable, and everything else left to Fastify.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { VirtualClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import { earlyRefusal, serverWithFirstLook } from '../api/early-refusal.ts';
import { KeyRing } from '../api/keys.ts';
import { startGateway, type Gateway } from '../api/gateway.ts';
import { openTenancy, QuotaGate } from '../api/tenancy/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

const silent = pino({ level: 'silent' });
const KEY = 'hooli-1';

interface Answer { status: number; headers: IncomingMessage['headers']; body: string }

/** One request on `agent` (a keep-alive agent with one socket reuses its connection). */
function send(url: string, path: string, options: { method?: string; key?: string; body?: string; agent?: Agent; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), {
      method: options.method ?? 'POST', agent: options.agent,
      headers: { 'content-type': 'application/json', ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('early refusal: the first look of a server', () => {
  let server: Server;
  let url: string;
  let passedOn: string[];
  const clock = new VirtualClock(1_000_000);
  const gate = new QuotaGate({ nodeId: 'n1', clock, log: silent, bucketOf: (t) => (t === 'hooli' ? { rate: 100, burst: 200 } : undefined) });
  const keys = new KeyRing({ auth: { adminKeyHash: hashKey(KEYS.admin) }, tenants: [] }, () => clock.now());
  const observed: string[] = [];
  let overloaded: string | undefined;

  before(async () => {
    keys.load(hashKey(KEYS.admin), [{ tenant: 'hooli', sha256: hashKey(KEY) }, { tenant: 'acme', sha256: hashKey(KEYS.acme) }]);
    const early = earlyRefusal({
      paths: ['/v1/metrics', '/api/v1/write'], keys, quotas: gate, engine: { overloaded: () => overloaded },
      requestId: (req) => (typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : 'id-1'), log: silent,
      observe: (route, method, status) => observed.push(`${method} ${route} ${status}`),
    });
    const fallback = (req: IncomingMessage, res: ServerResponse) => {
      passedOn.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(202).end('{}');
    };
    server = serverWithFirstLook(() => early)(fallback as never, { keepAliveTimeout: 5_000 }) as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await gate.take('hooli', 450); // 250 in debt: refused before the body for 2.51 s of the gate's clock
  });
  beforeEach(() => { passedOn = []; observed.length = 0; overloaded = undefined; });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gate.close();
  });

  it('answers a blocked tenant on the ingest paths, with or without a query, and counts it', async () => {
    for (const path of ['/v1/metrics', '/v1/metrics?x=1', '/api/v1/write']) {
      const a = await send(url, path, { key: KEY, body: 'not read', headers: { 'x-request-id': 'mine-1' } });
      assert.equal(a.status, 429, path);
      assert.equal(a.headers['retry-after'], '3');
      assert.equal(a.headers['x-request-id'], 'mine-1');
      assert.equal(a.headers['content-type'], 'application/json; charset=utf-8');
      const body = JSON.parse(a.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'QUOTA_EXCEEDED');
      assert.match(body.error.message, /^tenant hooli: ingestion rate quota exceeded \(rate 100\/s, burst 200\): its bucket is empty; retry after 3 s$/);
    }
    assert.deepEqual(passedOn, []);
    assert.deepEqual(observed, ['POST /v1/metrics 429', 'POST /v1/metrics 429', 'POST /api/v1/write 429']);
    assert.equal(gate.usage('hooli').rejections.rate, 3);
  });

  it('passes on what is not its to answer', async () => {
    await send(url, '/v1/metrics', { key: KEYS.acme, body: '{}' }); // another tenant
    await send(url, '/v1/metrics', { body: '{}' }); // no key
    await send(url, '/v1/metrics', { key: 'nobody', body: '{}' }); // a key no one has
    await send(url, '/v1/metrics', { key: KEYS.admin, body: '{}' }); // the admin key: Fastify says 403
    await send(url, '/v1/metrics', { method: 'PUT', key: KEY, body: '{}' }); // another method
    await send(url, '/v1/usage', { method: 'GET', key: KEY }); // another route of the blocked tenant
    await send(url, '/v1/metrics/', { key: KEY, body: '{}' }); // not the route's path
    overloaded = 'the node is behind';
    await send(url, '/v1/metrics', { key: KEY, body: '{}' }); // Fastify's 503 says why
    assert.deepEqual(passedOn, ['POST /v1/metrics', 'POST /v1/metrics', 'POST /v1/metrics', 'POST /v1/metrics', 'PUT /v1/metrics', 'GET /v1/usage', 'POST /v1/metrics/', 'POST /v1/metrics']);
    assert.deepEqual(observed, []);
  });

  it('reads and drops the body, so the connection carries the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const big = 'x'.repeat(256 * 1024); // larger than one read: the rest arrives after the answer
    const sockets = new Set<unknown>();
    server.on('connection', (s) => sockets.add(s));
    for (let i = 0; i < 3; i++) assert.equal((await send(url, '/v1/metrics', { key: KEY, body: big, agent })).status, 429);
    assert.equal((await send(url, '/v1/metrics', { key: KEYS.acme, body: '{}', agent })).status, 202);
    assert.equal(sockets.size, 1, 'one connection for all four');
    agent.destroy();
  });

  it('lets the bucket decide again once the debt is paid', async () => {
    clock.advance(2_510);
    assert.equal((await send(url, '/v1/metrics', { key: KEY, body: '{}' })).status, 202);
    assert.deepEqual(passedOn, ['POST /v1/metrics']);
  });
});

describe('early refusal: in a gateway', () => {
  let node: NodeHandle;
  let gw: Gateway;
  let quotas: QuotaGate;
  interface Line { reqId?: string; msg: string }
  const lines: Line[] = [];
  const samples = (n: number) => Array.from({ length: n }, (_, i) => [Date.now() - 60_000 + i, 1]);

  before(async () => {
    node = await startTestNode();
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-early-')), 'tenants.yaml');
    writeFileSync(file, `tenants:\n  - { id: hooli, rate: 100, burst: 500, keys: [{ id: k, sha256: ${hashKey(KEY)} }] }\n`);
    c.tenancy = { ...c.tenancy, file };
    const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: object) => clearTimeout(h as NodeJS.Timeout) };
    const opened = await openTenancy(c, { clock, log: silent });
    quotas = opened.quotas;
    gw = await startGateway(node.engine, c, pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Line); } }), { tenancy: { ...opened, limits: { maxSeriesPerTenant: 100_000, maxServicesPerTenant: 10_000 } } });
  });
  after(async () => {
    await gw.close();
    await quotas.close();
    await node.stop();
  });

  it('gives the answer Fastify gives, and /metrics counts it as Fastify would', async () => {
    const metric = async () => {
      const text = await (await fetch(new URL('/metrics', gw.url), { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
      return Number(/^vigil_http_requests_total\{route="\/v1\/metrics",method="POST",status="429"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await metric();
    const big = await send(gw.url, '/v1/metrics', { key: KEY, body: JSON.stringify({ series: [{ service: 'web', metric: 'm', samples: samples(800) }] }) });
    assert.equal(big.status, 202); // 300 in debt: about 3 s of refusals before the body
    const bySocket = await send(gw.url, '/v1/metrics', { key: KEY, body: '{"series": [ not JSON' });
    const byInject = await gw.inject({ method: 'POST', url: '/v1/metrics', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': 'by-inject' }, payload: '{"series": [ not JSON' });
    // the first look answered the socket's request (one debug line; Fastify's onResponse adds a second)
    const linesOf = (id: unknown) => lines.filter((l) => l.reqId === id).map((l) => l.msg);
    assert.deepEqual(linesOf(bySocket.headers['x-request-id']), ['request refused']);
    assert.deepEqual(linesOf('by-inject'), ['request refused', 'request']);
    assert.equal(bySocket.status, 429, 'refused before the body was parsed (a parsed one is a 400)');
    assert.equal(byInject.statusCode, 429, 'Fastify\'s own hook refuses the same way without a socket');
    const norm = (s: string) => s.replace(/\d+ s"/, 'N s"');
    assert.equal(norm(bySocket.body), norm(byInject.body));
    assert.equal(bySocket.headers['content-type'], byInject.headers['content-type']);
    // the same wait, counted from a moment later: 3,010 ms of debt reads 4 s, and 3 s a few ms on
    const [waitSocket, waitInject] = [Number(bySocket.headers['retry-after']), Number(byInject.headers['retry-after'])];
    assert.ok(waitSocket >= 3 && waitSocket <= 4 && waitInject <= waitSocket && waitInject >= waitSocket - 1, `Retry-After ${waitSocket} then ${waitInject}`);
    assert.match(String(bySocket.headers['x-request-id']), /^[0-9a-f]{6}-[0-9a-z]+$/, 'the gateway\'s own request id');
    assert.equal(byInject.headers['x-request-id'], 'by-inject');
    assert.equal(await metric() - before, 2, 'both refusals counted under the route');
  });
});
