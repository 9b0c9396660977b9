// Every refusal has Vigil's shape, {"error": {"code", "message"}}, fastify's and Node's own
// included: 413 (body too large), 414 (a path segment too long), 404 (no such route),
// 405 (a route without that method, with Allow), 431 (request line too long).
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import { KEYS, SMALL_BODY_LIMIT, startTestNode } from './support/api-node.ts';

interface Shaped {
  status: number;
  allow: string | null;
  error: { code: string; message: string };
}

describe('api: the error shape of fastify\'s and Node\'s own refusals', () => {
  let node: NodeHandle;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => node.stop());

  async function call(method: string, path: string, body?: string): Promise<Shaped> {
    const headers: Record<string, string> = { authorization: `Bearer ${KEYS.acme}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(node.url + path, { method, headers, body });
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const parsed = await res.json() as { error: { code: string; message: string } };
    assert.deepEqual(Object.keys(parsed), ['error'], JSON.stringify(parsed));
    assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message']);
    return { status: res.status, allow: res.headers.get('allow'), error: parsed.error };
  }

  it('413: a body over the limit', async () => {
    const r = await call('POST', '/v1/metrics', `{"series":[${'1,'.repeat(SMALL_BODY_LIMIT)}1]}`);
    assert.equal(r.status, 413);
    assert.equal(r.error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(r.error.message, /http\.bodyLimitBytes/);
  });

  it('414: a 5,000-character id', async () => {
    const r = await call('GET', `/v1/incidents/${'x'.repeat(5000)}`);
    assert.equal(r.status, 414);
    assert.equal(r.error.code, 'URI_TOO_LONG');
  });

  it('404: an unknown route', async () => {
    const r = await call('GET', '/v1/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.error.code, 'NOT_FOUND');
    assert.match(r.error.message, /no route GET \/v1\/nothing-here/);
  });

  it('405: a known route with another method, and Allow says which', async () => {
    const r = await call('DELETE', '/v1/metrics');
    assert.equal(r.status, 405);
    assert.equal(r.error.code, 'METHOD_NOT_ALLOWED');
    assert.equal(r.allow, 'POST');
    const inc = await call('PUT', '/v1/incidents/inc_1/ack');
    assert.equal(inc.status, 405);
    assert.equal(inc.allow, 'POST');
  });

  it('431: a request line over Node\'s header limit', async () => {
    const r = await call('GET', `/v1/series?service=${'y'.repeat(20_000)}`);
    assert.equal(r.status, 431);
    assert.equal(r.error.code, 'HEADERS_TOO_LARGE');
  });
});
