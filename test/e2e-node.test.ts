// End to end on a real node process: two services of one tenant stream metrics over
// HTTP, one spikes; the anomaly, an alert and exactly one incident appear through GET
// and over the WebSocket; another tenant sees none of it; no key gets 401.
import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import { SeededRng } from '../actors/runtime/index.ts';
import type { Alert, AnomalyEvent, Incident, LiveEvent } from '../protocols/index.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';

const KEYS = { acme: 'acme-key-0123456789', globex: 'globex-key-0123456789' };
const ADMIN = 'admin-key-0123456789';
const STEP = 10_000;

async function get<T>(node: TestNode, path: string, key?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${node.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: (await res.json()) as T };
}

async function post(node: TestNode, path: string, key: string, body: unknown): Promise<Response> {
  return fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('e2e: one node ingests, detects, alerts and opens one incident', function () {
  this.timeout(90_000);
  let node: TestNode;
  let ws: WebSocket;
  const live: LiveEvent[] = [];

  before(async () => {
    node = await startNodeProcess(testConfig(KEYS, ADMIN));
    ws = new WebSocket(`${node.url.replace('http', 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    ws.on('message', (data) => live.push(JSON.parse(String(data)) as LiveEvent));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  });

  after(async () => {
    ws?.close();
    await node?.stop();
  });

  it('serves the dashboard at / without a key, and it holds no data', async () => {
    const res = await fetch(`${node.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<title>Vigil<\/title>/);
    // The page's code is ES modules under /web/ (web/app.js and what it imports): each is
    // public too, none carries a key or a tenant's data, and one of them follows the live stream.
    const entry = /<script type="module" src="(\/web\/[\w.-]+\.js)"><\/script>/.exec(html)?.[1];
    assert.ok(entry, 'the page loads its code as a module from /web/');
    const modules = new Map<string, string>();
    for (const queue = [entry]; queue.length > 0;) {
      const path = queue.shift()!;
      if (modules.has(path)) continue;
      const m = await fetch(`${node.url}${path}`);
      assert.equal(m.status, 200, path);
      assert.match(m.headers.get('content-type') ?? '', /text\/javascript/, path);
      const code = await m.text();
      modules.set(path, code);
      for (const [, dep] of code.matchAll(/\bfrom '\.\/([\w.-]+\.js)'/g)) queue.push(`/web/${dep}`);
    }
    assert.ok(modules.size > 1, `the entry imports the other modules: ${[...modules.keys()].join(', ')}`);
    for (const [path, text] of [['/', html], ...modules] as Array<[string, string]>) {
      for (const secret of [...Object.values(KEYS), ADMIN, 'acme', 'globex']) assert.ok(!text.includes(secret), `${path} holds ${secret}`);
    }
    const stream = [...modules].filter(([, code]) => /new WebSocket\(/.test(code) && /\/v1\/stream/.test(code)).map(([path]) => path);
    assert.ok(stream.length > 0, `a module opens the live stream (/v1/stream) among ${[...modules.keys()].join(', ')}`);
  });

  it('refuses a request without a key (401) and with a wrong key (401)', async () => {
    assert.equal((await get(node, '/v1/incidents')).status, 401);
    assert.equal((await get(node, '/v1/incidents', 'not-a-key')).status, 401);
  });

  it('turns one spike into an anomaly, an alert and exactly one incident, seen by GET and the stream', async () => {
    const rng = new SeededRng(42);
    const start = Date.now() - 400 * STEP;
    const series = (service: string, metric: string, level: number, spikeAt?: number) => ({
      service, metric, labels: { region: 'eu' },
      samples: Array.from({ length: 400 }, (_, i): [number, number] => {
        const v = level + rng.normal() * level * 0.02;
        return [start + i * STEP, spikeAt !== undefined && i >= spikeAt ? v * 8 : v];
      }),
    });
    // History first (clean), in batches, then the spike on payments only.
    const checkout = series('checkout', 'latency_ms', 120);
    const payments = series('payments', 'latency_ms', 40, 390);
    for (let i = 0; i < 400; i += 100) {
      const res = await post(node, '/v1/metrics', KEYS.acme, {
        series: [checkout, payments].map((s) => ({ ...s, samples: s.samples.slice(i, i + 100) })),
      });
      assert.equal(res.status, 202, await res.text());
    }

    const anomalies = await eventually(async () => {
      const r = await get<{ anomalies: AnomalyEvent[] }>(node, '/v1/anomalies?service=payments', KEYS.acme);
      return r.body.anomalies.length > 0 ? r.body.anomalies : undefined;
    });
    assert.ok(anomalies.every((a) => a.service === 'payments' && a.timestamp >= start + 390 * STEP), JSON.stringify(anomalies.map((a) => [(a.timestamp - start) / STEP, a.value, a.expected, a.score])));
    // Newest first: the last one is the spike's onset, the most surprising sample.
    const onset = anomalies[anomalies.length - 1]!;
    assert.equal(onset.timestamp, start + 390 * STEP);
    assert.ok(onset.score >= 0.9 && onset.score <= 1, `onset score ${onset.score}`);
    assert.ok(onset.value > onset.expected * 4 && onset.direction === 'up');
    assert.ok(anomalies.every((a) => a.tier === 'basic'));

    const alerts = await eventually(async () => {
      const r = await get<{ alerts: Alert[] }>(node, '/v1/alerts', KEYS.acme);
      return r.body.alerts.length > 0 ? r.body.alerts : undefined;
    });
    assert.ok(alerts.every((a) => a.service === 'payments'));

    const { body } = await get<{ incidents: Incident[] }>(node, '/v1/incidents', KEYS.acme);
    assert.equal(body.incidents.length, 1, JSON.stringify(body.incidents));
    const inc = body.incidents[0]!;
    assert.equal(inc.status, 'open');
    assert.deepEqual(inc.services, ['payments']);
    assert.equal((await get<Incident>(node, `/v1/incidents/${inc.id}`, KEYS.acme)).status, 200);

    await eventually(async () => (['anomaly', 'alert', 'incident'].every((t) => live.some((e) => e.type === t)) ? true : undefined));
    assert.ok(live.every((e) => e.data.tenant === 'acme'));
    assert.ok(live.some((e) => e.type === 'incident' && e.data.id === inc.id));
  });

  it('shows another tenant none of it', async () => {
    assert.deepEqual((await get<{ anomalies: unknown[] }>(node, '/v1/anomalies', KEYS.globex)).body.anomalies, []);
    assert.deepEqual((await get<{ alerts: unknown[] }>(node, '/v1/alerts', KEYS.globex)).body.alerts, []);
    const incs = (await get<{ incidents: Incident[] }>(node, '/v1/incidents', KEYS.acme)).body.incidents;
    assert.deepEqual((await get<{ incidents: unknown[] }>(node, '/v1/incidents', KEYS.globex)).body.incidents, []);
    assert.equal((await get(node, `/v1/incidents/${incs[0]!.id}`, KEYS.globex)).status, 404);
    const ack = await post(node, `/v1/incidents/${incs[0]!.id}/ack`, KEYS.globex, {});
    assert.equal(ack.status, 404);
  });

  it('acknowledges and resolves the incident', async () => {
    const incs = (await get<{ incidents: Incident[] }>(node, '/v1/incidents', KEYS.acme)).body.incidents;
    const id = incs[0]!.id;
    const ack = await post(node, `/v1/incidents/${id}/ack`, KEYS.acme, {});
    assert.equal(ack.status, 200);
    assert.equal(((await ack.json()) as Incident).status, 'acknowledged');
    const res = await post(node, `/v1/incidents/${id}/resolve`, KEYS.acme, {});
    assert.equal(((await res.json()) as Incident).status, 'resolved');
    const open = (await get<{ incidents: Incident[] }>(node, '/v1/incidents?status=open', KEYS.acme)).body.incidents;
    assert.equal(open.length, 0);
  });
});
