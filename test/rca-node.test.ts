// RCA on a real node: an incident over a topology is ranked by the tenant's RCA actor from
// the raw series in the store; GET /v1/incidents/:id/rca says "pending" until then and the
// ranking after; the stream carries an `rca` event; unknown ids and other tenants get 404.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import WebSocket from 'ws';
import type { VigilConfig } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { Incident, IncidentRca, LiveEvent } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE, thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

const MIN = 60_000;
const STEP = 10_000;

type RcaView = ({ status: 'ready' } & IncidentRca) | { status: 'pending'; tenant: string; incidentId: string; reason: string };

async function connect(url: string, key: string): Promise<{ ws: WebSocket; events: LiveEvent[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${key}` } });
  const events: LiveEvent[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as LiveEvent));
  await once(ws, 'open');
  return { ws, events };
}

/** 70 min of 10 s samples at `base` (a little wobble), then SPIKE and more from `from`. */
function series(base: number, from: number, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = start, k = 0; t <= end; t += STEP, k++) out.push([t, t >= from ? SPIKE + base : base * (1 + 0.01 * Math.sin(k))]);
  return out;
}

describe('rca: on a node (actor, store, API, stream)', function () {
  this.timeout(60_000);
  const config: VigilConfig = testConfig();
  const start = (): Promise<NodeHandle> => startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  let ranked: IncidentRca | undefined;

  before(async () => {
    node = await start();
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
  });
  after(async () => node.stop());

  it('answers 404 with a reason for an incident the tenant does not have', async () => {
    const r = await acme.get<ErrorReply>('/v1/incidents/inc_nope/rca');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
    assert.match(r.body.error.message, /incident inc_nope not found/);
  });

  it('ranks the incident\'s root cause from the stored series, says "pending" before, and streams the ranking', async () => {
    const stream = await connect(node.url, KEYS.acme);
    const other = await connect(node.url, KEYS.globex);
    try {
      const put = await acme.request('PUT', '/v1/topology', {
        services: [{ name: 'frontend', dependsOn: ['catalog'] }, { name: 'catalog', dependsOn: ['db'] }, { name: 'db', dependsOn: [] }],
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const end = Math.floor(Date.now() / STEP) * STEP - MIN;
      const start = end - 70 * MIN;
      // history first (stored before the trouble is sent), then db goes wrong, its callers after it
      const history = (s: string, base: number): { service: string; metric: string; samples: Array<[number, number]> } =>
        ({ service: s, metric: 'latency_ms', samples: series(base, Infinity, start, end - 4 * MIN) });
      assert.equal((await acme.postMetrics([history('db', 100), history('catalog', 200), history('frontend', 300)])).status, 202);
      const stored = async (s: string): Promise<number> => (await acme.get<{ samples: unknown[] }>(`/v1/series?service=${s}&metric=latency_ms&limit=1000`)).body.samples.length;
      await eventually(async () => ((await Promise.all(['db', 'catalog', 'frontend'].map(stored))).every((n) => n >= 396) ? true : undefined), 'history stored', 20_000);
      const trouble = (s: string, base: number, from: number): { service: string; metric: string; samples: Array<[number, number]> } =>
        ({ service: s, metric: 'latency_ms', samples: series(base, from, end - 4 * MIN + STEP, end) });
      assert.equal((await acme.postMetrics([
        trouble('frontend', 300, end - MIN), trouble('catalog', 200, end - 2 * MIN), trouble('db', 100, end - 3 * MIN),
      ])).status, 202);

      // the first incident event: ask at once, long before the quiet period ends
      const first = await eventually(async () => stream.events.find((e): e is Extract<LiveEvent, { type: 'incident' }> => e.type === 'incident'), 'an incident', 20_000);
      const id = first.data.id;
      const before = await acme.get<RcaView>(`/v1/incidents/${id}/rca`);
      assert.equal(before.status, 200);
      assert.equal(before.body.status, 'pending', JSON.stringify(before.body));
      assert.match((before.body as { reason: string }).reason, /not ranked yet/);

      // the ranking arrives once every service has joined and alerts stop
      const ready = await eventually(async () => {
        const inc = (await acme.get<Incident>(`/v1/incidents/${id}`)).body;
        const r = await acme.get<RcaView>(`/v1/incidents/${id}/rca`);
        return r.body.status === 'ready' && inc.services.length === 3 && r.body.alerts.length === 3 ? r.body : undefined;
      }, 'a ranking of all three services', 30_000);
      assert.equal(ready.tenant, 'acme');
      assert.equal(ready.incidentId, id);
      assert.equal(ready.level, 'L0');
      assert.equal(ready.method, 'causal');
      assert.equal(ready.candidates, 3);
      assert.equal(ready.causes[0]!.service, 'db');
      assert.deepEqual(ready.causes.map((c) => c.service).sort(), ['catalog', 'db', 'frontend']);
      assert.deepEqual(ready.causes.map((c) => c.rank), [1, 2, 3]);
      ranked = ready;
      assert.ok(ready.evidence.rawSeries >= 3, `judged from the stored series: ${JSON.stringify(ready.evidence)}`);
      const db = ready.causes[0]!.evidence[0]!;
      assert.equal(db.metric, 'latency_ms');
      assert.equal(db.onset, end - 3 * MIN, 'db went wrong first, and the evidence says when');

      const streamed = stream.events.filter((e): e is Extract<LiveEvent, { type: 'rca' }> => e.type === 'rca' && e.data.incidentId === id);
      assert.ok(streamed.length >= 1, 'the ranking went out on the stream');
      assert.deepEqual(streamed.at(-1)!.data.causes.map((c) => c.service), ready.causes.map((c) => c.service));
      assert.ok(!other.events.some((e) => e.type === 'rca' || e.type === 'incident'), 'another tenant\'s stream hears nothing of it');
      const foreign = await globex.get<ErrorReply>(`/v1/incidents/${id}/rca`);
      assert.equal(foreign.status, 404, 'another tenant cannot read it');
    } finally {
      stream.ws.terminate();
      other.ws.terminate();
    }
  });

  it('keeps the ranking across a restart: the next node reads it from the store', async () => {
    assert.ok(ranked, 'the ranking test ran first');
    await node.stop();
    node = await start();
    acme = new ApiClient(node.url, KEYS.acme);
    const again = await eventually(async () => {
      const r = await acme.get<RcaView>(`/v1/incidents/${ranked!.incidentId}/rca`);
      return r.body.status === 'ready' ? r.body : undefined;
    }, 'the stored ranking', 20_000);
    assert.deepEqual(again, ranked, 'the same ranking, field for field');
  });
});

describe('rca: on a node at degradation level L3', function () {
  this.timeout(60_000);
  const config: VigilConfig = testConfig();
  config.degradation.dwellMs = 200; // recovery after the override is dropped, quickly
  let node: NodeHandle;

  before(async () => {
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
  });
  after(async () => node.stop());

  it('ranks nothing at L3 and says why, then ranks the incident once the level allows', async () => {
    const acme = new ApiClient(node.url, KEYS.acme);
    const admin = new ApiClient(node.url, KEYS.admin);
    const stream = await connect(node.url, KEYS.acme);
    try {
      await acme.request('PUT', '/v1/topology', { services: [{ name: 'catalog', dependsOn: ['db'] }, { name: 'db', dependsOn: [] }] });
      const t = Math.floor(Date.now() / STEP) * STEP - 2 * MIN;
      assert.equal((await acme.postMetrics([
        { service: 'db', metric: 'latency_ms', samples: [[t, SPIKE]] },
        { service: 'catalog', metric: 'latency_ms', samples: [[t + STEP, SPIKE]] },
      ])).status, 202);
      const first = await eventually(async () => stream.events.find((e): e is Extract<LiveEvent, { type: 'incident' }> => e.type === 'incident'), 'an incident', 20_000);
      // the level drops before the quiet period ends: the ranking that was due does not run
      const degraded = await admin.request<{ level: number }>('POST', '/v1/admin/degrade', { level: 3, durationMs: 10 * MIN });
      assert.equal(degraded.status, 200, JSON.stringify(degraded.body));
      assert.equal(degraded.body.level, 3);
      await new Promise((r) => setTimeout(r, 5_000));
      const held = await acme.get<RcaView>(`/v1/incidents/${first.data.id}/rca`);
      assert.equal(held.body.status, 'pending', JSON.stringify(held.body));
      assert.match((held.body as { reason: string }).reason, /RCA is off at degradation level L3 \(storage_degraded\)/);
      assert.ok(!stream.events.some((e) => e.type === 'rca'), 'no ranking at L3');

      assert.equal((await admin.request('POST', '/v1/admin/degrade', { level: 0, durationMs: 1 })).status, 200);
      const ready = await eventually(async () => {
        const r = await acme.get<RcaView>(`/v1/incidents/${first.data.id}/rca`);
        return r.body.status === 'ready' ? r.body : undefined;
      }, 'a ranking once the level is back', 20_000);
      assert.equal(ready.level, 'L0');
      assert.equal(ready.causes[0]!.service, 'db');
    } finally {
      stream.ws.terminate();
    }
  });
});
