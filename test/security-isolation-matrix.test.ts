// The isolation matrix: every route the gateway's router holds (read from the router itself,
// Gateway.routes(), fastify's onRoute) is called with no key, a wrong key, another tenant's key
// and the admin key, on a node holding data of two tenants. A route missing from TABLE fails
// the suite, so a new route cannot ship without saying who may call it and what a foreign key
// gets. acme's key is the attacker: it asks for globex's incident, silence and run by id, its
// series by name, and lists everything; no answer may carry globex's data (MARKER), and
// globex's state is the same after the whole matrix as before it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import { compress } from 'snappyjs';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../api/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { encodeMetricBatch, remoteWire, type LiveEvent } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply, type Reply } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

/** In every one of globex's names, labels and comments: no answer to acme may hold it. */
const MARKER = 'gxsecret';
const T = Date.now() - 120_000;
const HOUR = 3600_000;

type Access = 'public' | 'tenant' | 'admin' | 'any';
type Caller = 'none' | 'wrong' | 'foreign' | 'admin';

interface Ids {
  incident: string;
  silence: string;
  run: string;
  runbook: string;
}

interface Probe {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Row {
  access: Access;
  /** the request, aimed at globex's things where the route names one */
  probe: (ids: Ids) => Probe;
  /** the status the route's own caller gets for the probe (a tenant route: acme's key, which is foreign to globex's ids) */
  ok: number;
  /** /metrics reads a key when one is sent: a wrong one (401) or a tenant's (403) is refused there */
  keyed?: { wrong: number; foreign: number };
}

const json = (path: string, body?: unknown): Probe => ({ path, body: body ?? {} });
const noBody = (path: string): Probe => ({ path });
const silenceBody = (comment: string, id?: string) => ({
  ...(id ? { id } : {}), matchers: [{ name: 'service', value: 'x', isRegex: false, isEqual: true }],
  startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + HOUR).toISOString(), createdBy: 'matrix', comment,
});
const writeRequest = (service: string): Uint8Array => compress(Buffer.from(remoteWire.WriteRequest.encode({
  timeseries: [{ labels: [{ name: '__name__', value: 'rw_metric' }, { name: 'job', value: service }], samples: [{ timestamp: T + 5000, value: 1 }] }],
}).finish()));

// Every route of the router, keyed "METHOD url" as registered. HEAD routes are fastify's
// automatic twins of GET routes: they take the GET row (checked below).
const TABLE: Record<string, Row> = {
  // public: an orchestrator, a scraper, a browser before it has a key
  'GET /healthz': { access: 'public', probe: () => noBody('/healthz'), ok: 200 },
  'GET /readyz': { access: 'public', probe: () => noBody('/readyz'), ok: 200 },
  'GET /metrics': { access: 'public', probe: () => noBody('/metrics'), ok: 200, keyed: { wrong: 401, foreign: 403 } },
  'GET /docs/openapi.json': { access: 'public', probe: () => noBody('/docs/openapi.json'), ok: 200 },
  'GET /status': { access: 'public', probe: () => noBody('/status'), ok: 200 },
  'GET /': { access: 'public', probe: () => noBody('/'), ok: 200 },
  'GET /web/:file': { access: 'public', probe: () => noBody('/web/app.js'), ok: 200 },
  'GET /vendor/uplot/:file': { access: 'public', probe: () => noBody('/vendor/uplot/uPlot.esm.js'), ok: 200 },

  // any key: the level, for a tenant's clients and the operator
  'GET /v1/status': { access: 'any', probe: () => noBody('/v1/status'), ok: 200 },

  // tenant routes, probed with acme's key at globex's things
  'POST /v1/metrics': { access: 'tenant', probe: () => json('/v1/metrics', { series: [{ service: 'acme-svc', metric: 'm', samples: [[T + 5000, 1]] }] }), ok: 202 },
  'POST /api/v1/write': {
    access: 'tenant', ok: 204,
    probe: () => ({ path: '/api/v1/write', body: writeRequest('acme-rw'), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' } }),
  },
  'GET /v1/series': { access: 'tenant', probe: () => noBody(`/v1/series?service=${MARKER}-svc&metric=${MARKER}_metric`), ok: 200 },
  'GET /v1/series/band': { access: 'tenant', probe: () => noBody(`/v1/series/band?service=${MARKER}-svc&metric=${MARKER}_metric`), ok: 200 },
  'GET /v1/anomalies': { access: 'tenant', probe: () => noBody(`/v1/anomalies?service=${MARKER}-svc`), ok: 200 },
  'GET /v1/alerts': { access: 'tenant', probe: (ids) => noBody(`/v1/alerts?incident=${ids.incident}`), ok: 200 },
  'GET /v1/incidents': { access: 'tenant', probe: () => noBody('/v1/incidents'), ok: 200 },
  'GET /v1/incidents/:id': { access: 'tenant', probe: (ids) => noBody(`/v1/incidents/${ids.incident}`), ok: 404 },
  'POST /v1/incidents/:id/ack': { access: 'tenant', probe: (ids) => json(`/v1/incidents/${ids.incident}/ack`), ok: 404 },
  'POST /v1/incidents/:id/resolve': { access: 'tenant', probe: (ids) => json(`/v1/incidents/${ids.incident}/resolve`), ok: 404 },
  'GET /v1/incidents/:id/rca': { access: 'tenant', probe: (ids) => noBody(`/v1/incidents/${ids.incident}/rca`), ok: 404 },
  'PUT /v1/topology': { access: 'tenant', probe: () => json('/v1/topology', { services: [{ name: 'acme-svc', dependsOn: [] }] }), ok: 200 },
  'GET /v1/topology': { access: 'tenant', probe: () => noBody('/v1/topology'), ok: 200 },
  'GET /v1/usage': { access: 'tenant', probe: () => noBody('/v1/usage'), ok: 200 },
  'GET /v1/stream': { access: 'tenant', probe: () => noBody('/v1/stream'), ok: 426 },
  'GET /v1/silences': { access: 'tenant', probe: () => noBody('/v1/silences'), ok: 200 },
  'POST /v1/silences': { access: 'tenant', probe: () => json('/v1/silences', { matchers: [{ name: 'service', value: 'x' }], endsAt: Date.now() + HOUR, comment: 'acme' }), ok: 201 },
  'GET /v1/silences/:id': { access: 'tenant', probe: (ids) => noBody(`/v1/silences/${ids.silence}`), ok: 404 },
  'PUT /v1/silences/:id': { access: 'tenant', probe: (ids) => json(`/v1/silences/${ids.silence}`, { matchers: [{ name: 'service', value: 'x' }], endsAt: Date.now() + HOUR }), ok: 404 },
  'DELETE /v1/silences/:id': { access: 'tenant', probe: (ids) => noBody(`/v1/silences/${ids.silence}`), ok: 404 },
  'POST /api/v2/alerts': { access: 'tenant', probe: () => json('/api/v2/alerts', [{ labels: { alertname: 'acme_alert' } }]), ok: 200 },
  'GET /api/v2/alerts': { access: 'tenant', probe: () => noBody('/api/v2/alerts'), ok: 200 },
  'GET /api/v2/silences': { access: 'tenant', probe: () => noBody('/api/v2/silences'), ok: 200 },
  // an id in the body: acme naming globex's silence must not change it
  'POST /api/v2/silences': { access: 'tenant', probe: (ids) => json('/api/v2/silences', silenceBody('acme', ids.silence)), ok: 404 },
  'GET /api/v2/silence/:id': { access: 'tenant', probe: (ids) => noBody(`/api/v2/silence/${ids.silence}`), ok: 404 },
  'DELETE /api/v2/silence/:id': { access: 'tenant', probe: (ids) => noBody(`/api/v2/silence/${ids.silence}`), ok: 404 },
  'GET /api/v2/receivers': { access: 'tenant', probe: () => noBody('/api/v2/receivers'), ok: 200 },
  'GET /api/v2/status': { access: 'tenant', probe: () => noBody('/api/v2/status'), ok: 200 },
  'GET /v1/runbooks': { access: 'tenant', probe: () => noBody('/v1/runbooks'), ok: 200 },
  'GET /v1/automation': { access: 'tenant', probe: () => noBody('/v1/automation'), ok: 200 },
  'GET /v1/runbook-runs': { access: 'tenant', probe: (ids) => noBody(`/v1/runbook-runs?incident=${ids.incident}&runbook=${ids.runbook}`), ok: 200 },
  'GET /v1/runbook-runs/:id': { access: 'tenant', probe: (ids) => noBody(`/v1/runbook-runs/${ids.run}`), ok: 404 },
  // globex's runbook for globex's incident, started with acme's key
  'POST /v1/runbook-runs': { access: 'tenant', probe: (ids) => json('/v1/runbook-runs', { runbook: ids.runbook, incident: ids.incident, dryRun: true }), ok: 404 },
  'POST /v1/runbook-runs/:id/approve': { access: 'tenant', probe: (ids) => json(`/v1/runbook-runs/${ids.run}/approve`), ok: 404 },
  'POST /v1/runbook-runs/:id/cancel': { access: 'tenant', probe: (ids) => json(`/v1/runbook-runs/${ids.run}/cancel`), ok: 404 },

  // admin routes: harmless probes (unknown tenant, bad body), which pass authorization first
  'GET /v1/admin/tenants': { access: 'admin', probe: () => noBody('/v1/admin/tenants'), ok: 200 },
  'PUT /v1/admin/tenants': { access: 'admin', probe: () => json('/v1/admin/tenants', { tenants: 'none' }), ok: 400 },
  'GET /v1/admin/tenants/:id': { access: 'admin', probe: () => noBody('/v1/admin/tenants/globex'), ok: 200 },
  'PUT /v1/admin/tenants/:id': { access: 'admin', probe: () => json('/v1/admin/tenants/no-such-tenant', { tier: 'enormous' }), ok: 400 },
  'DELETE /v1/admin/tenants/:id': { access: 'admin', probe: () => noBody('/v1/admin/tenants/no-such-tenant'), ok: 404 },
  'POST /v1/admin/tenants/:id/keys': { access: 'admin', probe: () => json('/v1/admin/tenants/no-such-tenant/keys'), ok: 404 },
  'GET /v1/admin/tenants/:id/runbooks': { access: 'admin', probe: () => noBody('/v1/admin/tenants/globex/runbooks'), ok: 200 },
  'PUT /v1/admin/tenants/:id/runbooks': { access: 'admin', probe: () => json('/v1/admin/tenants/no-such-tenant/runbooks', {}), ok: 415 },
  'GET /v1/admin/tenants/:id/runbooks/:runbook': { access: 'admin', probe: () => noBody('/v1/admin/tenants/globex/runbooks/no-such-runbook'), ok: 404 },
  'PUT /v1/admin/tenants/:id/runbooks/:runbook': { access: 'admin', probe: () => json('/v1/admin/tenants/no-such-tenant/runbooks/rb', { steps: 'none' }), ok: 404 },
  'DELETE /v1/admin/tenants/:id/runbooks/:runbook': { access: 'admin', probe: () => noBody('/v1/admin/tenants/globex/runbooks/no-such-runbook'), ok: 404 },
  'GET /v1/admin/tree': { access: 'admin', probe: () => noBody('/v1/admin/tree'), ok: 200 },
  'POST /v1/admin/restart': { access: 'admin', probe: () => json('/v1/admin/restart', { path: '/root/no-such-actor' }), ok: 404 },
  'GET /v1/audit': { access: 'admin', probe: () => noBody('/v1/audit?limit=5'), ok: 200 },
  'POST /v1/admin/faults': { access: 'admin', probe: () => json('/v1/admin/faults', { dependency: 'x' }), ok: 400 },
  'DELETE /v1/admin/faults': { access: 'admin', probe: () => noBody('/v1/admin/faults'), ok: 200 },
  'POST /v1/admin/degrade': { access: 'admin', probe: () => json('/v1/admin/degrade', { level: 9 }), ok: 400 },
  'POST /v1/admin/breakers/:name': { access: 'admin', probe: () => json('/v1/admin/breakers/no_such_breaker', { command: 'explode' }), ok: 400 },
};

/** The routes anyone may call without a key: asserted as a whole, so a new public route is a decision in this file. */
const PUBLIC = ['GET /', 'GET /docs/openapi.json', 'GET /healthz', 'GET /metrics', 'GET /readyz', 'GET /status', 'GET /vendor/uplot/:file', 'GET /web/:file'];

const KEY_OF: Record<Caller, string | undefined> = { none: undefined, wrong: 'wrong-key-0', foreign: KEYS.acme, admin: KEYS.admin };

/** What each caller must get from a route of each access level (the row's `ok` is the right caller's). */
function expected(row: Row, caller: Caller): number {
  if (row.access === 'public') return (caller === 'wrong' || caller === 'foreign') && row.keyed ? row.keyed[caller] : row.ok;
  if (caller === 'none' || caller === 'wrong') return 401;
  if (row.access === 'any') return row.ok;
  if (row.access === 'tenant') return caller === 'foreign' ? row.ok : 403;
  return caller === 'admin' ? row.ok : 403;
}

interface GlobexState {
  incidents: unknown;
  silences: unknown;
  topology: unknown;
  series: unknown;
  runs: unknown;
  alerts: unknown;
}

describe('security: the isolation matrix (every route of the router × four callers)', function () {
  this.timeout(120_000);
  let node: NodeHandle;
  let gw: Gateway;
  let ids: Ids;
  let admin: ApiClient;
  let acme: ApiClient;
  let globex: ApiClient;

  async function globexState(client: ApiClient): Promise<GlobexState> {
    const [incidents, silences, topology, series, runs, alerts] = await Promise.all([
      client.get<{ incidents: Array<{ id: string; status: string }> }>('/v1/incidents'),
      client.get<{ silences: Array<{ id: string; state: string; endsAt: number; comment: string }> }>('/v1/silences'),
      client.get('/v1/topology'),
      client.get(`/v1/series?service=${MARKER}-svc&metric=${MARKER}_metric`),
      client.get<{ runs: Array<{ id: string; status: string }> }>('/v1/runbook-runs'),
      client.get<Array<{ fingerprint: string; status: unknown }>>('/api/v2/alerts'),
    ]);
    return {
      incidents: incidents.body.incidents.map((i) => [i.id, i.status]),
      silences: silences.body.silences.map((s) => [s.id, s.state, s.endsAt, s.comment]),
      topology: topology.body,
      series: series.body,
      runs: runs.body.runs.map((r) => [r.id, r.status]),
      alerts: alerts.body.map((a) => a.fingerprint).sort(),
    };
  }

  before(async () => {
    node = await startTestNode();
    // A second gateway over the node's engine: its router is the one enumerated and probed.
    gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }));
    admin = new ApiClient(node.url, KEYS.admin);
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);

    // Both tenants hold data: samples with a spike (anomaly, alert, incident), a topology,
    // a silence, Alertmanager alerts; globex also a runbook and a run of it.
    for (const [client, prefix] of [[acme, 'acme'], [globex, MARKER]] as const) {
      const r = await client.postMetrics([{ service: `${prefix}-svc`, metric: `${prefix}_metric`, labels: { owner: `${prefix}-team` }, samples: [[T, 1], [T + 1000, SPIKE]] }]);
      assert.equal(r.status, 202);
      assert.equal((await client.request('PUT', '/v1/topology', { services: [{ name: `${prefix}-svc`, dependsOn: [`${prefix}-db`] }] })).status, 200);
      const s = await client.request('POST', '/v1/silences', { matchers: [{ name: 'service', value: `${prefix}-quiet` }], endsAt: Date.now() + 10 * HOUR, comment: `${prefix} maintenance` });
      assert.equal(s.status, 201, JSON.stringify(s.body));
      assert.equal((await client.request('POST', '/api/v2/alerts', [{ labels: { alertname: `${prefix}_alert`, service: `${prefix}-svc` } }])).status, 200);
    }
    const incident = await eventually(async () => (await globex.get<{ incidents: Array<{ id: string }> }>('/v1/incidents')).body.incidents[0]?.id, 'globex\'s incident');
    await eventually(async () => (await acme.get<{ incidents: unknown[] }>('/v1/incidents')).body.incidents[0], 'acme\'s incident');
    // Both of globex's alerts (the spike's and the Alertmanager one) sit in stored incidents before
    // the matrix takes its 'before': grouping and the store's writes are asynchronous, and under
    // load the second alert's incident was stored after it (a CI run saw it appear mid-matrix).
    await eventually(async () => {
      const [inc, al] = await Promise.all([globex.get<{ incidents: Array<{ alertIds: string[] }> }>('/v1/incidents'), globex.get<unknown[]>('/api/v2/alerts')]);
      const held = inc.body.incidents.reduce((n, i) => n + i.alertIds.length, 0);
      return al.body.length >= 2 && held >= al.body.length ? true : undefined;
    }, 'globex\'s two alerts in stored incidents', 30_000);
    // Likewise its samples: the sample store's writes are batched, and a CI run took the 'before'
    // with an empty series that held both samples after the matrix.
    await eventually(async () => ((await globex.samples(`${MARKER}-svc`, `${MARKER}_metric`)).length >= 2 ? true : undefined), 'globex\'s two samples stored', 30_000);
    const silence = (await globex.get<{ silences: Array<{ id: string }> }>('/v1/silences')).body.silences[0]!.id;
    const runbook = `${MARKER}-rb`;
    const put = await admin.request('PUT', `/v1/admin/tenants/globex/runbooks/${runbook}`, { name: `${MARKER} runbook`, trigger: { services: `${MARKER}-never` }, steps: [{ notify: `${MARKER} note` }] });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const run = await globex.request<{ id: string }>('POST', '/v1/runbook-runs', { runbook, incident, dryRun: true });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    ids = { incident, silence, run: run.body.id, runbook };
  });

  after(async () => {
    await gw?.close();
    await node?.stop();
  });

  it('covers every route of the router in its table, and no route the router lacks', () => {
    const routes = gw.routes();
    assert.ok(routes.length > 50, `the router lists ${routes.length} routes`);
    const keys = routes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
    const missing = keys.filter((k) => !(k in TABLE));
    assert.deepEqual(missing, [], `routes without a row in TABLE (say who may call them and what a foreign key gets): ${missing.join(', ')}`);
    assert.deepEqual(Object.keys(TABLE).filter((k) => !keys.includes(k)), [], 'rows for routes the router does not hold');
    // each HEAD route is the twin of a GET route, and takes its row
    for (const r of routes.filter((x) => x.method === 'HEAD')) assert.ok(keys.includes(`GET ${r.url}`), `HEAD ${r.url} without a GET`);
    // the access each route declares is the table's (an undeclared one is a tenant route)
    for (const r of routes) {
      const row = TABLE[`${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`]!;
      assert.equal(r.access ?? 'tenant', row.access, `${r.method} ${r.url}`);
    }
  });

  it('opens only the explicit public list to callers without a key', () => {
    const open = gw.routes().filter((r) => r.method !== 'HEAD' && r.access === 'public').map((r) => `${r.method} ${r.url}`).sort();
    assert.deepEqual(open, PUBLIC);
  });

  it('serves the same routes on the node\'s own gateway (its OpenAPI document lists what this router holds)', async () => {
    const doc = (await new ApiClient(node.url).get<{ paths: Record<string, Record<string, unknown>> }>('/docs/openapi.json')).body;
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`)).sort();
    const hidden = ['GET /', 'GET /vendor/uplot/:file', 'GET /web/:file']; // the dashboard's files are left out of the document
    assert.deepEqual(documented, Object.keys(TABLE).filter((k) => !hidden.includes(k)).sort());
  });

  for (const target of ['the probed gateway', 'the node\'s own gateway'] as const) {
    it(`answers each route as its row says for no key, a wrong key, another tenant's key and the admin key (${target})`, async () => {
      const base = target === 'the probed gateway' ? gw.url : node.url;
      const before = await globexState(globex);
      const failures: string[] = [];
      let calls = 0;
      for (const r of gw.routes()) {
        const key = `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`;
        const row = TABLE[key];
        if (!row) {
          failures.push(`${key}: no row in TABLE`);
          continue;
        }
        const probe = row.probe(ids);
        for (const caller of ['none', 'wrong', 'foreign', 'admin'] as const) {
          const reply = await new ApiClient(base, KEY_OF[caller]).request<ErrorReply | string>(r.method, probe.path, r.method === 'HEAD' ? undefined : probe.body, probe.headers);
          calls++;
          const want = expected(row, caller);
          const where = `${r.method} ${probe.path} as ${caller}`;
          if (reply.status !== want) failures.push(`${where}: ${reply.status}, expected ${want} ${JSON.stringify(reply.body).slice(0, 200)}`);
          if (r.method !== 'HEAD' && want === 401 && (reply.body as ErrorReply).error?.code !== 'UNAUTHORIZED') failures.push(`${where}: not the UNAUTHORIZED shape`);
          if (r.method !== 'HEAD' && want === 403 && (reply.body as ErrorReply).error?.code !== 'FORBIDDEN') failures.push(`${where}: not the FORBIDDEN shape`);
          // nobody but globex (and the admin, on admin routes) sees globex's data
          if (caller !== 'admin' && leaks(reply, probe)) failures.push(`${where}: the answer holds globex's data: ${JSON.stringify(reply.body).slice(0, 300)}`);
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(calls >= gw.routes().length * 4);
      assert.deepEqual(await globexState(globex), before, 'globex\'s incidents, silences, topology, series, runs and alerts are as they were');
      // and acme's requests did reach acme's own data (the matrix is not refusing everything)
      assert.equal((await acme.get<{ silences: unknown[] }>('/v1/silences')).body.silences.length >= 2, true);
    });
  }

  it('the admin key sees both tenants where admin routes show tenants, and never through tenant routes', async () => {
    const tenants = await admin.get<{ tenants: Array<{ id: string }> }>('/v1/admin/tenants');
    assert.deepEqual(tenants.body.tenants.map((t) => t.id).sort(), ['acme', 'globex']);
    assert.equal((await admin.get<string>('/metrics')).body.includes('tenant="globex"'), true, 'per-tenant series for the admin scrape');
    assert.equal((await admin.get('/v1/incidents')).status, 403);
  });

  describe('no tenant chooses another tenant through a parameter', () => {
    const TENANT_HEADERS = { 'x-tenant': 'globex', 'x-scope-orgid': 'globex', 'x-vigil-tenant': 'globex', tenant: 'globex' };

    it('a tenant id in the query of any tenant GET route is refused or changes nothing', async () => {
      const failures: string[] = [];
      for (const r of gw.routes().filter((x) => x.method === 'GET' && (x.access ?? 'tenant') !== 'public' && (x.access ?? 'tenant') !== 'admin')) {
        const row = TABLE[`GET ${r.url}`];
        if (!row) {
          failures.push(`GET ${r.url}: no row in TABLE`);
          continue;
        }
        const probe = row.probe(ids);
        for (const extra of ['tenant=globex', 'tenantId=globex', 'org=globex', `api_key=${KEYS.globex}`]) {
          const path = `${probe.path}${probe.path.includes('?') ? '&' : '?'}${extra}`;
          const reply = await acme.request('GET', path, undefined, TENANT_HEADERS);
          if (reply.status >= 500 || leaks(reply, { path })) failures.push(`GET ${path}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
          if (reply.status !== 400 && reply.status !== row.ok) failures.push(`GET ${path}: ${reply.status}`);
        }
      }
      assert.deepEqual(failures, []);
    });

    it('a key in the query is the WebSocket\'s only: HTTP routes read the Authorization header', async () => {
      const r = await new ApiClient(node.url).get<ErrorReply>(`/v1/incidents?api_key=${KEYS.globex}`);
      assert.equal(r.status, 401);
      // a header key wins over a query key: acme's header with globex's key in the query is acme
      const mine = await acme.get<{ incidents: Array<{ tenant: string }> }>(`/v1/incidents?api_key=${KEYS.globex}`);
      assert.ok(mine.status === 400 || mine.body.incidents.every((i) => i.tenant === 'acme'));
    });

    it('a tenant named in a body is refused, or ignored for the key\'s tenant, on every ingest path', async () => {
      const before = await globexState(globex);
      const json = await acme.request<ErrorReply>('POST', '/v1/metrics', { tenant: 'globex', series: [{ service: `${MARKER}-svc`, metric: `${MARKER}_metric`, samples: [[T + 9000, 7]] }] });
      assert.equal(json.status, 400);
      assert.match(json.body.error.message, /unknown field 'tenant'/);
      // protobuf's tenant field and a remote-write `tenant` label: the key decides
      const pb = encodeMetricBatch('globex', [{ service: `${MARKER}-svc`, metric: `${MARKER}_metric`, samples: [[T + 9000, 7]] }]);
      assert.equal((await acme.request('POST', '/v1/metrics', pb, { 'content-type': 'application/x-protobuf' })).status, 202);
      const rw = compress(Buffer.from(remoteWire.WriteRequest.encode({
        timeseries: [{ labels: [{ name: '__name__', value: `${MARKER}_metric` }, { name: 'job', value: `${MARKER}-svc` }, { name: 'tenant', value: 'globex' }], samples: [{ timestamp: T + 9500, value: 8 }] }],
      }).finish()));
      assert.equal((await acme.request('POST', '/api/v1/write', rw, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' })).status, 204);
      for (const body of [{ tenant: 'globex', services: [] }, { services: [{ name: 'x', dependsOn: [], tenant: 'globex' }] }]) {
        assert.equal((await acme.request('PUT', '/v1/topology', body)).status, 400);
      }
      assert.equal((await acme.request('POST', '/v1/silences', { tenant: 'globex', matchers: [{ name: 'a', value: 'b' }], endsAt: Date.now() + HOUR })).status, 400);
      // acme's samples went to acme's series of that name; globex's is unchanged
      const acmeSeries = await eventually(async () => {
        const s = await acme.samples(`${MARKER}-svc`, `${MARKER}_metric`);
        return s.length === 2 ? s : undefined;
      }, 'acme\'s own copy of the named series');
      assert.deepEqual(acmeSeries, [[T + 9000, 7], [T + 9500, 8]]);
      assert.deepEqual(await globexState(globex), before);
    });
  });

  describe('WebSocket subscriptions', () => {
    const wsUrl = (base: string, query = '') => `${base.replace(/^http/, 'ws')}/v1/stream${query}`;
    async function subscribe(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; events: LiveEvent[] }> {
      const ws = new WebSocket(url, { headers });
      const events: LiveEvent[] = [];
      ws.on('message', (d) => events.push(JSON.parse(String(d)) as LiveEvent));
      await once(ws, 'open');
      return { ws, events };
    }
    async function refused(url: string, headers: Record<string, string> = {}): Promise<number> {
      const ws = new WebSocket(url, { headers });
      ws.on('error', () => {});
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
      res.resume();
      ws.terminate();
      return res.statusCode;
    }

    it('refuses no key, a wrong key (header or query), the admin key, and other paths', async () => {
      for (const base of [gw.url, node.url]) {
        assert.equal(await refused(wsUrl(base)), 401);
        assert.equal(await refused(wsUrl(base, '?api_key=wrong-key-0')), 401);
        assert.equal(await refused(wsUrl(base), { authorization: 'Bearer wrong-key-0' }), 401);
        assert.equal(await refused(wsUrl(base), { authorization: `Bearer ${KEYS.admin}` }), 403);
        assert.equal(await refused(wsUrl(base, `?api_key=${KEYS.admin}`)), 403);
        assert.equal(await refused(`${wsUrl(base)}/globex`, { authorization: `Bearer ${KEYS.acme}` }), 404);
        assert.equal(await refused(`${base.replace(/^http/, 'ws')}/v1/stream/../stream2`, { authorization: `Bearer ${KEYS.acme}` }), 404);
      }
    });

    it('a subscription gets its key\'s tenant only, whatever the query or headers name', async () => {
      const subs = await Promise.all([
        subscribe(wsUrl(node.url, '?tenant=globex'), { authorization: `Bearer ${KEYS.acme}`, 'x-tenant': 'globex' }),
        subscribe(wsUrl(node.url, `?api_key=${KEYS.globex}`), { authorization: `Bearer ${KEYS.acme}` }), // the header wins
        subscribe(wsUrl(gw.url, `?api_key=${KEYS.acme}&tenant=globex`)),
      ]);
      const own = await subscribe(wsUrl(node.url), { authorization: `Bearer ${KEYS.globex}` });
      const t = Date.now() - 30_000;
      assert.equal((await globex.postMetrics([{ service: `${MARKER}-ws`, metric: `${MARKER}_ws`, samples: [[t, 1], [t + 1000, SPIKE]] }])).status, 202);
      assert.equal((await acme.postMetrics([{ service: 'acme-ws', metric: 'acme_ws', samples: [[t, 1], [t + 1000, SPIKE]] }])).status, 202);
      // globex's own stream saw its anomaly, and each acme subscription saw acme's
      await eventually(async () => (own.events.some((e) => e.type === 'anomaly' && JSON.stringify(e).includes(`${MARKER}-ws`)) ? true : undefined), 'globex\'s anomaly on its stream');
      for (const s of subs) {
        await eventually(async () => (s.events.some((e) => e.type === 'anomaly' && JSON.stringify(e).includes('acme-ws')) ? true : undefined), 'acme\'s anomaly on acme\'s stream');
        const leaked = s.events.filter((e) => JSON.stringify(e).includes(MARKER) || JSON.stringify(e).includes('"globex"'));
        assert.deepEqual(leaked, []);
      }
      for (const s of [...subs, own]) s.ws.close();
      await Promise.all([...subs, own].map((s) => once(s.ws, 'close')));
    });
  });
});

/** Does an answer to acme carry globex's data? The marker, or globex's id where the request did not name it. */
function leaks(reply: Reply<unknown>, probe: Probe): boolean {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const asked = `${probe.path} ${JSON.stringify(probe.body ?? '')}`;
  if (text.includes(MARKER) && !asked.includes(MARKER)) return true;
  // an answer about acme's own series of a name like globex's may echo the name it was asked for
  if (asked.includes(MARKER) && text.includes(`${MARKER}-team`)) return true; // globex's label value: never asked for
  return /\bglobex\b/.test(text) && !asked.includes('globex');
}
