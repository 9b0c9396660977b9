// GET /v1/series/band on a real in-process node with the Basic detector (the node writes each
// sample's score and expected value to the store): a steady series with one spike comes back
// with expected values near its level and the spike outside the band; another tenant sees
// nothing; bad queries are 400 in the error shape. GET /v1/alerts?incident=<id> (threshold
// detector) lists exactly one incident's alerts, and nothing for another tenant.
import assert from 'node:assert/strict';
import pino from 'pino';
import { SeededRng } from '../actors/runtime/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { Alert, Incident } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

const MIN = 60_000;
const N = 400;
const LEVEL = 100;
const SPIKE_AT = N - 20;

interface BandPoint { t: number; value: number; expected: number; lower: number; upper: number; score: number }
interface Band { points: BandPoint[]; sigma: number; deviations: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('api: GET /v1/series/band (the detector\'s expected value and band per sample)', function () {
  this.timeout(120_000);
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  const start = Math.floor((Date.now() - (N + 5) * MIN) / MIN) * MIN;
  const rng = new SeededRng(5);
  const samples = Array.from({ length: N }, (_, i): [number, number] => [start + i * MIN, i === SPIKE_AT ? 6 * LEVEL : LEVEL + rng.normal() * 2]);
  const path = '/v1/series/band?service=api&metric=latency_ms';

  before(async () => {
    node = await startNode(testConfig(), { logger: pino({ level: 'silent' }) }); // the default detectors (Basic)
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
    const r = await acme.postMetrics([{ service: 'api', metric: 'latency_ms', labels: { region: 'eu' }, samples }]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });
  after(async () => node?.stop());

  it('gives every judged sample the detector\'s expected value near the level, and the spike outside the band', async () => {
    const band = await eventually(async () => {
      const r = await acme.get<Band>(path);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.points.length === N ? r.body : undefined;
    }, `${N} scored samples`, 60_000);
    assert.equal(band.deviations, 3);
    assert.ok(band.sigma > 0 && band.sigma < 10, `sigma ${band.sigma}`);
    assert.deepEqual(band.points.map((p) => p.t), samples.map(([t]) => t), 'one point per sample, in time order');
    assert.deepEqual(band.points.map((p) => p.value), samples.map(([, v]) => v));
    const settled = band.points.slice(N / 4);
    const level = median(settled.map((p) => p.expected));
    assert.ok(Math.abs(level - LEVEL) < 5, `median expected ${level}, level ${LEVEL}`);
    for (const p of band.points) {
      assert.ok(p.lower < p.expected && p.expected < p.upper, `band around expected at ${p.t}`);
      assert.ok(p.score >= 0 && p.score <= 1, `score ${p.score}`);
    }
    const spike = band.points[SPIKE_AT]!;
    assert.ok(spike.value > spike.upper, `spike ${spike.value} above the band's upper ${spike.upper}`);
    assert.ok(spike.score > 0.9, `the detector scored the spike ${spike.score}`);
    const inside = settled.filter((p, i) => i + N / 4 !== SPIKE_AT && p.value >= p.lower && p.value <= p.upper).length;
    assert.ok(inside / (settled.length - 1) > 0.95, `${inside} of ${settled.length - 1} normal samples inside the band`);
  });

  it('keeps the newest `limit` and a from/to range', async () => {
    const r = await acme.get<Band>(`${path}&limit=10`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.points.map((p) => p.t), samples.slice(-10).map(([t]) => t));
    const from = samples[100]![0];
    const to = samples[109]![0];
    const ranged = await acme.get<Band>(`${path}&from=${from}&to=${to}`);
    assert.deepEqual(ranged.body.points.map((p) => p.t), samples.slice(100, 110).map(([t]) => t));
  });

  it('shows another tenant nothing', async () => {
    const r = await globex.get<Band>(path);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.points, []);
    assert.equal(r.body.sigma, 0);
  });

  it('refuses what /v1/series refuses, with a reason, and a step', async () => {
    for (const [q, field] of [
      ['/v1/series/band?service=api', 'metric'],
      [`${path}&limit=0`, 'limit'],
      [`${path}&limit=10001`, 'limit'],
      [`${path}&from=20&to=10`, 'from is after to'],
      [`${path}&from=soon`, 'from'],
      [`${path}&step=60000`, 'step'],
    ] as const) {
      const r = await acme.get<ErrorReply>(q);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.code, 'BAD_REQUEST', q);
      assert.match(r.body.error.message, new RegExp(field), q);
    }
    assert.equal((await acme.withKey(undefined).get<ErrorReply>(path)).status, 401);
  });
});

describe('api: GET /v1/alerts?incident=<id>', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  let acme: ApiClient;
  const base = Date.now() - 25 * MIN;
  const spikes = [2, 14].map((m) => base + m * MIN); // > 5 min apart: one incident each

  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
    const series = (spike: number, region: string) => ({
      service: 'checkout', metric: 'latency_ms', labels: { region },
      samples: Array.from({ length: 20 }, (_, m): [number, number] => [base + m * MIN, base + m * MIN === spike ? SPIKE : 10]),
    });
    const r = await acme.postMetrics([series(spikes[0]!, 'eu'), series(spikes[1]!, 'us'), { service: 'payments', metric: 'errors', samples: [[spikes[1]! + 1000, SPIKE]] }]);
    assert.equal(r.status, 202);
    await eventually(async () => {
      const inc = await acme.get<{ incidents: Incident[] }>('/v1/incidents');
      const al = await acme.get<{ alerts: Alert[] }>('/v1/alerts');
      return inc.body.incidents.length === 2 && al.body.alerts.length === 3 ? true : undefined;
    }, '3 alerts in 2 incidents', 30_000);
  });
  after(async () => node?.stop());

  it('lists only the alerts of that incident, for its own tenant only', async () => {
    const all = (await acme.get<{ alerts: Alert[] }>('/v1/alerts')).body.alerts;
    const incidents = (await acme.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents;
    for (const inc of incidents) {
      const r = await acme.get<{ alerts: Alert[] }>(`/v1/alerts?incident=${encodeURIComponent(inc.id)}`);
      assert.equal(r.status, 200);
      const want = all.filter((a) => a.incidentId === inc.id).map((a) => a.id).sort();
      assert.ok(want.length > 0);
      assert.deepEqual(r.body.alerts.map((a) => a.id).sort(), want);
      const paged = await acme.get<{ alerts: Alert[]; next?: string }>(`/v1/alerts?incident=${encodeURIComponent(inc.id)}&limit=1`);
      assert.equal(paged.body.alerts.length, 1);
      assert.equal(Boolean(paged.body.next), want.length > 1, 'pages like the unfiltered list');
      const other = await acme.withKey(KEYS.globex).get<{ alerts: Alert[] }>(`/v1/alerts?incident=${encodeURIComponent(inc.id)}`);
      assert.deepEqual(other.body.alerts, []);
    }
    assert.deepEqual((await acme.get<{ alerts: Alert[] }>('/v1/alerts?incident=no-such-incident')).body.alerts, []);
    const bad = await acme.get<ErrorReply>('/v1/alerts?incident=');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /incident/);
  });
});
