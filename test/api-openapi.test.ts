// /docs/openapi.json: a parseable OpenAPI 3.1 document listing every route, built from
// the schemas the gateway validates with.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import { metricsBodySchema, topologyBodySchema } from '../protocols/schemas.ts';
import { ApiClient } from './support/api-client.ts';
import { startTestNode } from './support/api-node.ts';

interface Operation {
  summary: string;
  security: unknown[];
  parameters: Array<{ name: string; in: string; required: boolean; schema: unknown }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string }>;
}
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown> };
}

const ROUTES = [
  'get /healthz', 'get /readyz', 'get /metrics', 'get /docs/openapi.json', 'get /status',
  'post /v1/metrics', 'get /v1/series', 'get /v1/series/band', 'get /v1/anomalies', 'get /v1/alerts',
  'get /v1/incidents', 'get /v1/incidents/{id}', 'get /v1/incidents/{id}/rca', 'post /v1/incidents/{id}/ack', 'post /v1/incidents/{id}/resolve',
  'put /v1/topology', 'get /v1/topology', 'get /v1/stream', 'get /v1/admin/tree', 'post /v1/admin/restart',
  'post /api/v1/write', 'get /v1/audit',
  'get /v1/status', 'post /v1/admin/faults', 'delete /v1/admin/faults', 'post /v1/admin/degrade', 'post /v1/admin/breakers/{name}',
  'get /v1/usage', 'get /v1/admin/tenants', 'put /v1/admin/tenants', 'get /v1/admin/tenants/{id}', 'put /v1/admin/tenants/{id}',
  'delete /v1/admin/tenants/{id}', 'post /v1/admin/tenants/{id}/keys',
  'get /v1/admin/tenants/{id}/runbooks', 'put /v1/admin/tenants/{id}/runbooks', 'get /v1/admin/tenants/{id}/runbooks/{runbook}',
  'put /v1/admin/tenants/{id}/runbooks/{runbook}', 'delete /v1/admin/tenants/{id}/runbooks/{runbook}',
  'get /v1/runbooks', 'get /v1/automation', 'get /v1/runbook-runs', 'post /v1/runbook-runs', 'get /v1/runbook-runs/{id}',
  'post /v1/runbook-runs/{id}/approve', 'post /v1/runbook-runs/{id}/cancel',
  'get /v1/silences', 'post /v1/silences', 'get /v1/silences/{id}', 'put /v1/silences/{id}', 'delete /v1/silences/{id}',
  'post /api/v2/alerts', 'get /api/v2/alerts', 'get /api/v2/silences', 'post /api/v2/silences', 'get /api/v2/silence/{id}',
  'delete /api/v2/silence/{id}', 'get /api/v2/receivers', 'get /api/v2/status',
];

describe('api: OpenAPI document', () => {
  let node: NodeHandle;
  let doc: Doc;

  before(async () => {
    node = await startTestNode();
    const r = await new ApiClient(node.url).get<Doc>('/docs/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    doc = r.body;
  });
  after(async () => node.stop());

  it('is OpenAPI 3.1 with info and a bearer security scheme', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.title, 'Vigil API');
    assert.ok(doc.info.version);
    assert.deepEqual(doc.components.securitySchemes.apiKey, { type: 'http', scheme: 'bearer', description: 'A tenant API key, or the admin key for /v1/admin routes' });
  });

  it('lists exactly the gateway\'s routes', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    assert.deepEqual(listed.sort(), [...ROUTES].sort());
  });

  it('describes every operation: summary, responses, path parameters, security', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        assert.ok(op.summary.length > 0, `${where} has a summary`);
        assert.ok(Object.keys(op.responses).some((c) => c.startsWith('2') || c === '101'), `${where} has a success response`);
        for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
          assert.ok(op.parameters.some((p) => p.in === 'path' && p.name === name && p.required), `${where} declares {${name}}`);
        }
        const isPublic = ['/healthz', '/readyz', '/metrics', '/docs/openapi.json', '/status'].includes(path);
        assert.deepEqual(op.security, isPublic ? [] : [{ apiKey: [] }], `${where} security`);
      }
    }
  });

  it('uses the validation schemas themselves for bodies and query strings', () => {
    const ingest = doc.paths['/v1/metrics']!.post!;
    assert.deepEqual(ingest.requestBody!.content['application/json']!.schema, metricsBodySchema);
    assert.ok(ingest.requestBody!.content['application/x-protobuf'], 'protobuf body documented');
    assert.ok(ingest.responses['202'] && ingest.responses['4XX']);
    assert.deepEqual(doc.paths['/v1/topology']!.put!.requestBody!.content['application/json']!.schema, topologyBodySchema);
    const query = doc.paths['/v1/incidents']!.get!.parameters.map((p) => `${p.in}:${p.name}`).sort();
    assert.deepEqual(query, ['query:cursor', 'query:from', 'query:limit', 'query:service', 'query:status', 'query:to']);
    assert.ok(doc.paths['/v1/stream']!.get!.responses['101'], 'the stream documents its upgrade');
    const series = doc.paths['/v1/series']!.get!.parameters.filter((p) => p.required).map((p) => p.name).sort();
    assert.deepEqual(series, ['metric', 'service']);
    const band = doc.paths['/v1/series/band']!.get!.parameters.map((p) => p.name).sort();
    assert.deepEqual(band, ['from', 'limit', 'metric', 'service', 'to'], 'the band takes no step');
    assert.ok(doc.paths['/v1/alerts']!.get!.parameters.some((p) => p.name === 'incident'), 'alerts filter by incident');
  });
});
