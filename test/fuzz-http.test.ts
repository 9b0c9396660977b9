// Fuzz and property suite of the HTTP surfaces, in process through fastify's inject (no
// sockets, so tens of thousands of requests fit in a test run): JSON and protobuf ingest
// bodies, remote-write bodies, the query parameters of every GET route and the bodies of every
// POST/PUT/DELETE route (both read from the router, so a new route is fuzzed without a change
// here), and broken headers. Every input is checked to get no 5xx, the error shape on a
// refusal, and no state change from a refusal: the engine records every change it makes, the
// tenants' version and the quota gate's counts must not move, and at the end the samples the
// node took in are exactly those of the accepted requests.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { openTenancy, startGateway, type Gateway, type Tenancy, type QuotaGate } from '../api/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { eventually } from './support/api-client.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';
import { counted, FUZZ_SEED, recordingEngine, runs, tally, type RecordingEngine, type Surface } from './support/fuzz.ts';
import {
  brokenHeaders, brokenIngestJson, brokenIngestProtobuf, brokenJson, brokenRemoteWrite, brokenText, nastyString, pathSegment, queryString, type Json,
} from './support/fuzz-inputs.ts';

type Injected = LightMyRequestResponse;
interface Request { method: string; url: string; headers?: Record<string, string>; payload?: string | Uint8Array }

const BEARER = { acme: `Bearer ${KEYS.acme}`, admin: `Bearer ${KEYS.admin}` };
const HOUR = 3600_000;

// A valid body per route (the fuzz breaks it in one place); a route not named here starts from {}.
const BODIES: Record<string, Json> = {
  'PUT /v1/topology': { services: [{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: [] }] },
  'POST /v1/silences': { matchers: [{ name: 'service', value: 'x', isRegex: false, isEqual: true }], endsAt: Date.now() + HOUR, comment: 'fuzz' },
  'PUT /v1/silences/:id': { matchers: [{ name: 'service', value: 'x' }], endsAt: Date.now() + HOUR },
  'POST /api/v2/alerts': [{ labels: { alertname: 'fuzz', service: 'x' }, annotations: { summary: 's' }, startsAt: new Date().toISOString() }],
  'POST /api/v2/silences': { matchers: [{ name: 'a', value: 'b', isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + HOUR).toISOString(), createdBy: 'f', comment: 'c' },
  'POST /v1/runbook-runs': { runbook: 'rb', incident: 'inc-1', dryRun: true },
  'POST /v1/admin/restart': { path: '/root/no-such-actor' },
  'POST /v1/admin/faults': { dependency: 'ingest_log', mode: 'fail', durationMs: 1000 },
  'POST /v1/admin/degrade': { level: 1, durationMs: 1000 },
  'POST /v1/admin/breakers/:name': { command: 'open' },
  'PUT /v1/admin/tenants': { tenants: [{ id: 'fz-one', tier: 'small', keys: [{ id: 'k', sha256: 'a'.repeat(64) }] }] },
  'PUT /v1/admin/tenants/:id': { tier: 'medium', rate: 1000, burst: 2000, keys: [{ id: 'k', sha256: 'b'.repeat(64) }] },
  'POST /v1/admin/tenants/:id/keys': { overlapMs: 1000, keyId: 'k2' },
  'PUT /v1/admin/tenants/:id/runbooks/:runbook': { name: 'r', trigger: { services: 'x' }, steps: [{ notify: 'hi' }] },
};

// Routes that steer the node itself (faults, level, breakers, restarts): only inputs that cannot
// be valid (an unknown field on top), so the fuzz never degrades the node it is testing.
const NEVER_VALID = new Set(['POST /v1/admin/faults', 'POST /v1/admin/degrade', 'POST /v1/admin/breakers/:name', 'POST /v1/admin/restart', 'DELETE /v1/admin/faults']);

const RUNBOOK_YAML = 'id: rb\nname: R\ntrigger: { services: [a, b] }\nsteps:\n  - notify: "{{incident.id}}"\n  - wait: 5s\n';

describe('fuzz: HTTP surfaces (fastify inject on a node holding data)', function () {
  this.timeout(600_000);
  let node: NodeHandle;
  let gw: Gateway;
  let rec: RecordingEngine;
  let tenancy: Tenancy;
  let quotas: QuotaGate;
  const now = Date.now();

  before(async () => {
    node = await startTestNode();
    rec = recordingEngine(node.engine);
    const config = testConfig();
    const clock = { now: () => node.engine.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: object) => clearTimeout(h as NodeJS.Timeout) };
    ({ tenancy, quotas } = await openTenancy(config, { clock, log: pino({ level: 'silent' }) }));
    gw = await startGateway(rec.engine, config, pino({ level: 'silent' }), {
      tenancy: { tenancy, quotas, limits: { maxSeriesPerTenant: 100_000, maxServicesPerTenant: 10_000 } },
    });
    // a little of everything in the node, so queries have something to walk
    const seed = await gw.inject({ method: 'POST', url: '/v1/metrics', headers: { authorization: BEARER.acme, 'content-type': 'application/json' },
      payload: JSON.stringify({ series: [{ service: 'seed', metric: 'm', samples: [[now - 5000, 1], [now - 4000, 1000]] }] }) });
    assert.equal(seed.statusCode, 202);
  });

  after(async () => {
    await gw?.close();
    await tenancy?.close();
    await node?.stop();
  });

  /** Sends one input and checks the properties; counts it. */
  async function send(surface: Surface, req: Request): Promise<Injected> {
    const changes = rec.changes();
    const version = tenancy.registry.version;
    const usage = charged(quotas);
    // inject would serialize a Uint8Array that is not a Buffer as JSON
    const payload = req.payload instanceof Uint8Array && !Buffer.isBuffer(req.payload) ? Buffer.from(req.payload.buffer, req.payload.byteOffset, req.payload.byteLength) : req.payload;
    const res = await gw.inject({ ...req, payload } as InjectOptions);
    const what = () => `${req.method} ${req.url.slice(0, 300)} ${JSON.stringify(req.headers ?? {}).slice(0, 200)} ${typeof req.payload === 'string' ? req.payload.slice(0, 300) : req.payload ? Buffer.from(req.payload).toString('hex').slice(0, 300) : ''}`;
    assert.ok(res.statusCode < 500, `5xx ${res.statusCode} for ${what()}: ${res.body.slice(0, 300)}`);
    if (res.statusCode >= 400) {
      if (req.method !== 'HEAD') {
        const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
        assert.ok(typeof body.error?.code === 'string' && typeof body.error.message === 'string' && body.error.message.length > 0, `no error shape for ${what()}: ${res.body.slice(0, 200)}`);
      }
      assert.equal(rec.changes(), changes, `a refused input (${res.statusCode}) changed state (${rec.lastChange()}): ${what()}`);
      assert.equal(tenancy.registry.version, version, `a refused input changed the tenants: ${what()}`);
      // a refusal admits nothing; only the quota's own refusal (429) counts itself as a rejection
      const after = charged(quotas);
      assert.equal(res.statusCode === 429 ? after.accepted : JSON.stringify(after), res.statusCode === 429 ? usage.accepted : JSON.stringify(usage), `a refused input (${res.statusCode}) moved acme's quota counts: ${what()}`);
      tally(surface, 'refused');
    } else {
      tally(surface, 'accepted');
    }
    return res;
  }

  const property = <T>(surface: Surface, arb: fc.Arbitrary<T>, check: (x: T) => Promise<unknown>) =>
    fc.assert(fc.asyncProperty(arb, async (x) => { await check(x); }), { numRuns: runs(surface), seed: FUZZ_SEED, endOnFailure: true });

  it('JSON ingest bodies', async () => {
    await property('http: ingest JSON', fc.tuple(brokenIngestJson(now), fc.constantFrom('application/json', 'application/json; charset=utf-8')), ([payload, type]) =>
      send('http: ingest JSON', { method: 'POST', url: '/v1/metrics', headers: { authorization: BEARER.acme, 'content-type': type }, payload }));
    assert.ok(counted('http: ingest JSON').refused > runs('http: ingest JSON') * 0.8, 'most inputs were malformed');
  });

  it('protobuf ingest bodies', async () => {
    await property('http: ingest protobuf', brokenIngestProtobuf(now), (payload) =>
      send('http: ingest protobuf', { method: 'POST', url: '/v1/metrics', headers: { authorization: BEARER.acme, 'content-type': 'application/x-protobuf' }, payload }));
    assert.ok(counted('http: ingest protobuf').refused > runs('http: ingest protobuf') * 0.8);
  });

  it('remote-write bodies (snappy + protobuf)', async () => {
    await property('http: remote write', brokenRemoteWrite(now), ({ body, headers }) =>
      send('http: remote write', { method: 'POST', url: '/api/v1/write', headers: { authorization: BEARER.acme, ...headers }, payload: body }));
    assert.ok(counted('http: remote write').refused > runs('http: remote write') * 0.5);
  });

  it('the query parameters (and path parameters) of every GET route of the router', async () => {
    const doc = JSON.parse((await gw.inject({ method: 'GET', url: '/docs/openapi.json' })).body) as { paths: Record<string, Record<string, { parameters: Array<{ name: string; in: string }> }>> };
    const routes = gw.routes().filter((r) => r.method === 'GET').map((r) => {
      const documented = doc.paths[r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.get?.parameters ?? [];
      return { url: r.url, access: r.access ?? 'tenant', known: documented.filter((p) => p.in === 'query').map((p) => p.name) };
    });
    assert.ok(routes.length >= 30, `${routes.length} GET routes`);
    const arb = fc.constantFrom(...routes).chain((r) => fc.tuple(fc.constant(r), queryString(r.known), fc.array(pathSegment, { minLength: 3, maxLength: 3 })));
    await property('http: query parameters (every GET route)', arb, ([r, query, segments]) => {
      let i = 0;
      const path = r.url.replace(/:[A-Za-z0-9_]+/g, () => segments[i++]!);
      const headers: Record<string, string> = r.access === 'admin' ? { authorization: BEARER.admin } : r.access === 'public' ? {} : { authorization: BEARER.acme };
      return send('http: query parameters (every GET route)', { method: 'GET', url: `${path}?${query}`, headers });
    });
  });

  it('the bodies of every POST, PUT and DELETE route of the router', async () => {
    const routes = gw.routes().filter((r) => ['POST', 'PUT', 'DELETE'].includes(r.method) && r.url !== '/v1/metrics' && r.url !== '/api/v1/write');
    assert.ok(routes.length >= 20, `${routes.length} routes with bodies`);
    const adminId = fc.stringMatching(/^fz[a-z0-9_-]{0,12}$/);
    const arb = fc.constantFrom(...routes).chain((r) => {
      const key = `${r.method} ${r.url}`;
      // a route whose valid body would change the node's state gets none: every arm starts from a body with an unknown field
      const base = NEVER_VALID.has(key) ? unknownField(BODIES[key] ?? {}) : (BODIES[key] ?? {});
      const yaml = r.url.includes('/runbooks');
      const body: fc.Arbitrary<{ payload: string; type: string }> = fc.oneof(
        { weight: 5, arbitrary: brokenJson(base).map((j) => ({ payload: JSON.stringify(NEVER_VALID.has(key) ? unknownField(j) : j) ?? '', type: 'application/json' })) },
        { weight: 2, arbitrary: brokenText(JSON.stringify(base)).map((payload) => ({ payload, type: 'application/json' })) },
        { weight: yaml ? 3 : 0, arbitrary: brokenText(RUNBOOK_YAML).map((payload) => ({ payload, type: 'application/yaml' })) },
        { weight: 1, arbitrary: nastyString.map((payload) => ({ payload, type: yaml ? 'application/yaml' : 'text/plain' })) },
      );
      // tenant routes: random ids; admin routes: ids of no existing tenant (a valid change to acme could end its key)
      const segment = r.access === 'admin' ? fc.oneof(adminId, pathSegment.filter((s) => !/acme|globex/.test(s))) : pathSegment;
      return fc.tuple(fc.constant(r), body, fc.array(segment, { minLength: 2, maxLength: 2 }));
    });
    await property('http: other bodies (every POST/PUT/DELETE route)', arb, async ([r, body, segments]) => {
      if (r.access === 'admin' && /acme|globex/.test(body.payload)) return; // not sent: see above
      let i = 0;
      const path = r.url.replace(/:[A-Za-z0-9_]+/g, () => segments[i++]!);
      const headers = { authorization: r.access === 'admin' ? BEARER.admin : BEARER.acme, 'content-type': body.type };
      await send('http: other bodies (every POST/PUT/DELETE route)', { method: r.method, url: path, headers, payload: body.payload });
    });
    // the node is as well as before: acme's key works, nothing is degraded
    const status = JSON.parse((await gw.inject({ method: 'GET', url: '/v1/status', headers: { authorization: BEARER.admin } })).body) as { level: number; faults: unknown[] };
    assert.deepEqual([status.level, status.faults], [0, []]);
  });

  it('broken headers on reads and ingest', async () => {
    const body = JSON.stringify({ series: [{ service: 'hdr', metric: 'm', samples: [[now - 1000, 1]] }] });
    const arb = fc.tuple(brokenHeaders, fc.constantFrom('GET /v1/incidents', 'POST /v1/metrics', 'GET /v1/status', 'POST /api/v1/write', 'PUT /v1/topology', 'GET /metrics'));
    await property('http: headers', arb, ([headers, route]) => {
      const [method, url] = route.split(' ') as [string, string];
      return send('http: headers', { method, url, headers, ...(method === 'GET' ? {} : { payload: body }) });
    });
  });

  it('took in exactly the samples of accepted requests, and acme\'s key still works', async () => {
    const ingested = () => node.engine.metrics.getSingleMetric('vigil_samples_ingested_total')!.get().then((m) => m.values.reduce((a, v) => a + v.value, 0));
    const expected = rec.samplesIngested();
    assert.ok(expected > 0, 'some inputs were valid after all');
    await eventually(async () => ((await ingested()) === expected ? true : undefined), `the node's ingested count reaching ${expected} (it is ${await ingested()})`, 30_000);
    const ok = await gw.inject({ method: 'GET', url: '/v1/incidents', headers: { authorization: BEARER.acme } });
    assert.equal(ok.statusCode, 200);
  });
});

describe('fuzz: defects it found, kept as plain tests', () => {
  let node: NodeHandle;
  let gw: Gateway;
  before(async () => {
    node = await startTestNode();
    gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }));
  });
  after(async () => {
    await gw.close();
    await node.stop();
  });

  it('a time past 2^53 in a query is a 400 naming the parameter (it was a 503 from the store)', async () => {
    for (const url of ['/v1/incidents?from=9007199254740992', '/v1/anomalies?to=9999999999999999', '/v1/alerts?from=8640000000000001', '/v1/series?service=a&metric=b&to=9007199254740993']) {
      const r = await gw.inject({ method: 'GET', url, headers: { authorization: BEARER.acme } });
      assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
      assert.match(r.body, /querystring\.(from|to): must be a Unix ms time up to 8640000000000000/);
    }
    const edge = await gw.inject({ method: 'GET', url: '/v1/incidents?from=0&to=8640000000000000', headers: { authorization: BEARER.acme } });
    assert.equal(edge.statusCode, 200, edge.body);
  });
});

/** What acme's quota gate has counted (not its rate, which decays with time). */
function charged(quotas: QuotaGate): { accepted: number; rejectedSamples: number; rejections: unknown } {
  const u = quotas.usage('acme');
  return { accepted: u.accepted, rejectedSamples: u.rejectedSamples, rejections: u.rejections };
}

/** An unknown field on top of an object (or the value as is: a non-object is invalid there anyway). */
function unknownField(j: Json): Json {
  return j !== null && typeof j === 'object' && !Array.isArray(j) ? { ...j, zzUnknown: 1 } : j;
}
