// Authentication and admin routes on a real node: every protected route answers 401
// without a key, admin routes 403 to a tenant key, and every reply has a request id.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { TreeNode } from '../api/index.ts';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startGateway } from '../api/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

interface OpenApi {
  paths: Record<string, Record<string, { security: unknown[] }>>;
}

describe('api: auth and admin', () => {
  let node: NodeHandle;
  let anon: ApiClient;
  let routes: Array<{ method: string; path: string; secured: boolean }>;

  before(async () => {
    node = await startTestNode();
    anon = new ApiClient(node.url);
    const doc = (await anon.get<OpenApi>('/docs/openapi.json')).body;
    routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x'), secured: op.security.length > 0,
    })));
  });
  after(async () => node.stop());

  it('answers 401 with a reason on every protected route without a key or with a wrong one', async () => {
    const secured = routes.filter((r) => r.secured);
    assert.ok(secured.length >= 13, `found ${secured.length} protected routes`);
    for (const r of secured) {
      for (const client of [anon, anon.withKey('wrong-key')]) {
        const reply = await client.request<ErrorReply>(r.method, r.path, r.method === 'GET' ? undefined : {});
        assert.equal(reply.status, 401, `${r.method} ${r.path}`);
        assert.equal(reply.body.error.code, 'UNAUTHORIZED');
        assert.match(reply.body.error.message, /API key/);
      }
    }
  });

  it('refuses a malformed Authorization header', async () => {
    for (const header of [KEYS.acme, `Basic ${KEYS.acme}`, 'Bearer', `Bearer ${KEYS.acme} extra`]) {
      const r = await anon.request<ErrorReply>('GET', '/v1/incidents', undefined, { authorization: header });
      assert.equal(r.status, 401, header);
    }
    // the scheme is case-insensitive (RFC 7235)
    assert.equal((await anon.request('GET', '/v1/incidents', undefined, { authorization: `bearer ${KEYS.acme}` })).status, 200);
  });

  it('keeps public routes open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/docs/openapi.json']) assert.equal((await anon.get(path)).status, 200, path);
    const metrics = (await anon.get<string>('/metrics')).body;
    for (const name of ['vigil_samples_ingested_total', 'vigil_anomalies_total', 'vigil_actors_alive', 'vigil_mailbox_depth', 'vigil_actor_restarts_total', 'vigil_rollup_behind_seconds', 'vigil_rollup_pass_failing']) {
      assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    assert.deepEqual((await anon.get('/readyz')).body, { status: 'ready' });
    // the gateway's own: requests by route pattern (not raw URL), durations, open streams
    await anon.withKey(KEYS.acme).get('/v1/incidents/some-id');
    const again = (await anon.get<string>('/metrics')).body;
    assert.match(again, /^vigil_http_requests_total\{route="\/v1\/incidents\/:id",method="GET",status="404"\} 1$/m);
    assert.match(again, /^vigil_http_request_duration_seconds_count\{route="\/v1\/incidents\/:id"\} [1-9]\d*$/m);
    assert.match(again, /^vigil_stream_connections 0$/m);
  });

  it('shows per-tenant metrics to the admin key only; no tenant id is public', async () => {
    const acme = anon.withKey(KEYS.acme);
    assert.equal((await acme.postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 1000, 1]] }])).status, 202);
    const admin = await eventually(async () => {
      const r = await anon.withKey(KEYS.admin).get<string>('/metrics');
      return /^vigil_tenant_samples_ingested_total\{tenant="acme"\} [1-9]/m.test(r.body) ? r : undefined;
    }, 'the admin scrape shows acme\'s samples');
    assert.equal(admin.status, 200);
    const open = (await anon.get<string>('/metrics')).body;
    assert.doesNotMatch(open, /tenant=/, 'the public scrape carries no tenant label');
    assert.doesNotMatch(open, /acme|globex/);
    assert.match(open, /^vigil_samples_ingested_total [1-9]/m, 'but the node-level total');
    const wrong = await anon.withKey('nobody').get<ErrorReply>('/metrics');
    assert.equal(wrong.status, 401, 'a scraper with a wrong key finds out');
    assert.equal((await acme.get<ErrorReply>('/metrics')).status, 403, 'a tenant key is not the admin key');
  });

  it('gives admin routes to the admin key only (403 to a tenant key)', async () => {
    const tenant = anon.withKey(KEYS.acme);
    const admin = anon.withKey(KEYS.admin);
    const t = await tenant.get<ErrorReply>('/v1/admin/tree');
    assert.equal(t.status, 403);
    assert.equal(t.body.error.code, 'FORBIDDEN');
    assert.equal((await tenant.request('POST', '/v1/admin/restart', { path: '/root/tenants' })).status, 403);

    const tree = await admin.get<TreeNode>('/v1/admin/tree');
    assert.equal(tree.status, 200);
    assert.equal(typeof tree.body.path, 'string');
    assert.ok(Array.isArray(tree.body.children) && tree.body.children.length > 0);
    const child = tree.body.children[0]!;
    const restarted = await admin.request('POST', '/v1/admin/restart', { path: child.path });
    assert.equal(restarted.status, 200, JSON.stringify(restarted.body));
    assert.deepEqual(restarted.body, { restarted: child.path });

    const missing = await admin.request<ErrorReply>('POST', '/v1/admin/restart', { path: '/root/no-such-actor' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
    const bad = await admin.request<ErrorReply>('POST', '/v1/admin/restart', { path: '' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /path: must NOT have fewer than 1 characters/);
  });

  it('puts a request id on every reply and keeps a tame one the client sent', async () => {
    const a = await anon.get('/healthz');
    const b = await anon.get('/v1/incidents');
    const idA = a.headers.get('x-request-id');
    const idB = b.headers.get('x-request-id');
    assert.ok(idA && idB && idA !== idB);
    const mine = await anon.request('GET', '/healthz', undefined, { 'x-request-id': 'trace-42.a' });
    assert.equal(mine.headers.get('x-request-id'), 'trace-42.a');
    const wild = await anon.request('GET', '/healthz', undefined, { 'x-request-id': 'x'.repeat(300) });
    assert.notEqual(wild.headers.get('x-request-id'), 'x'.repeat(300));
  });

  it('logs each request with its request id and tenant', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
    const gw = await startGateway(node.engine, testConfig(), pino({ level: 'debug' }, sink));
    try {
      const r = await new ApiClient(gw.url, KEYS.globex).get('/v1/alerts');
      assert.equal(r.status, 200);
      const id = r.headers.get('x-request-id');
      const line = await eventually(async () => lines.find((l) => l.reqId === id && l.msg === 'request'), 'the request log line');
      assert.equal(line.tenant, 'globex');
      assert.equal(line.status, 200);
    } finally {
      await gw.close();
    }
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const r = await anon.get<ErrorReply>('/v2/nothing');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
  });
});
