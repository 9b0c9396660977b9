// WebSocket /v1/stream on a real node: a tenant's live events reach its connections and
// no other tenant's; keys by header or ?api_key=; refused upgrades get an HTTP error;
// pings keep connections alive; a consumer that stops reading is dropped.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../api/index.ts';
import type { NodeHandle } from '../node/index.ts';
import type { LiveEvent } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

function wsUrl(httpUrl: string, query = ''): string {
  return `${httpUrl.replace(/^http/, 'ws')}/v1/stream${query}`;
}

/** Opens a stream and collects its events. */
async function connect(url: string, key?: string): Promise<{ ws: WebSocket; events: LiveEvent[] }> {
  const ws = new WebSocket(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  const events: LiveEvent[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as LiveEvent));
  await once(ws, 'open');
  return { ws, events };
}

/** The HTTP status of a refused upgrade. */
async function refusedStatus(url: string, key?: string): Promise<number> {
  const ws = new WebSocket(url, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  ws.on('error', () => {});
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
  res.resume();
  ws.terminate();
  return res.statusCode;
}

describe('api: WebSocket stream', () => {
  let node: NodeHandle;
  let acme: ApiClient;
  const t = Date.now() - 60_000;

  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  it('delivers the caller\'s anomalies, alerts and incidents, and nothing to another tenant', async () => {
    const mine = await connect(wsUrl(node.url), KEYS.acme);
    const byQuery = await connect(wsUrl(node.url, `?api_key=${KEYS.acme}`));
    const other = await connect(wsUrl(node.url), KEYS.globex);
    assert.equal((await acme.postMetrics([{ service: 'checkout', metric: 'latency_ms', samples: [[t, 10], [t + 1000, SPIKE]] }])).status, 202);
    for (const c of [mine, byQuery]) {
      await eventually(async () => (['anomaly', 'alert', 'incident'].every((k) => c.events.some((e) => e.type === k)) ? true : undefined), 'all three event types');
      const anomaly = c.events.find((e) => e.type === 'anomaly');
      assert.equal(anomaly?.data.tenant, 'acme');
      assert.equal(anomaly?.type === 'anomaly' && anomaly.data.value, SPIKE);
    }
    // globex's stream got none of it (acme's events have all arrived by now)
    assert.deepEqual(other.events, []);
    for (const c of [mine, byQuery, other]) c.ws.close();
    await Promise.all([mine, byQuery, other].map((c) => once(c.ws, 'close')));
  });

  it('refuses an upgrade without a valid tenant key or on another path', async () => {
    assert.equal(await refusedStatus(wsUrl(node.url)), 401);
    assert.equal(await refusedStatus(wsUrl(node.url), 'wrong-key'), 401);
    assert.equal(await refusedStatus(wsUrl(node.url), KEYS.admin), 403);
    assert.equal(await refusedStatus(`${node.url.replace(/^http/, 'ws')}/v1/elsewhere`, KEYS.acme), 404);
    // a plain GET says an upgrade is needed
    assert.equal((await acme.get('/v1/stream')).status, 426);
  });

  it('closes open streams with 1001 when the gateway stops, and refuses new ones', async () => {
    const gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }));
    const { ws } = await connect(wsUrl(gw.url), KEYS.acme);
    const closed = once(ws, 'close');
    await gw.close();
    const [code] = (await closed) as [number];
    assert.equal(code, 1001);
    await assert.rejects(connect(wsUrl(gw.url), KEYS.acme));
  });

  describe('with tight stream limits (more gateways over the same node)', () => {
    let pinging: Gateway;
    let tight: Gateway;
    let capped: Gateway;
    before(async () => {
      capped = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }), { stream: { maxPerTenant: 2 } });
      pinging = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }), { stream: { pingIntervalMs: 50 } });
      tight = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }), { stream: { pingIntervalMs: 3_600_000, maxBufferedBytes: 1 } });
    });
    after(async () => {
      await pinging.close();
      await tight.close();
      await capped.close();
    });

    it('pings connections to keep them alive', async () => {
      const { ws } = await connect(wsUrl(pinging.url), KEYS.acme);
      await once(ws, 'ping');
      await once(ws, 'ping'); // it answered the first (ws pongs automatically), so it was kept
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
      await once(ws, 'close');
    });

    it('caps the open streams of one tenant (429), not of the others', async () => {
      const a = await connect(wsUrl(capped.url), KEYS.acme);
      const b = await connect(wsUrl(capped.url), KEYS.acme);
      assert.equal(await refusedStatus(wsUrl(capped.url), KEYS.acme), 429);
      const g = await connect(wsUrl(capped.url), KEYS.globex);
      a.ws.close();
      await once(a.ws, 'close');
      // the slot frees once the server has seen the close
      const c = await eventually(async () => {
        try {
          return await connect(wsUrl(capped.url), KEYS.acme);
        } catch {
          return undefined;
        }
      }, 'a freed slot');
      for (const x of [b, g, c]) x.ws.close();
      await Promise.all([b, g, c].map((x) => once(x.ws, 'close')));
    });

    it('drops a consumer that stops reading, and the node keeps serving', async () => {
      let socket: net.Socket | undefined;
      // ws dials through this, so the test holds the raw socket and can stop reading it
      const dial = ((opts: net.NetConnectOpts) => (socket = net.createConnection(opts))) as typeof net.createConnection;
      const ws = new WebSocket(wsUrl(tight.url), { headers: { authorization: `Bearer ${KEYS.acme}` }, createConnection: dial });
      await once(ws, 'open');
      socket!.pause(); // stop reading: unsent data piles up on the node
      const closed = once(ws, 'close');
      // Spikes on many series (every one an anomaly, an alert and an incident change) until
      // the node reports the stream gone; the gauge counts this node's streams, and this is
      // the only one open now.
      const streams = async () => Number(/^vigil_stream_connections (\d+)$/m.exec((await acme.withKey(undefined).get<string>('/metrics')).body)?.[1]);
      assert.equal(await streams(), 1);
      for (let round = 0; round < 100 && (await streams()) > 0; round++) {
        const series = Array.from({ length: 1000 }, (_, i) => ({ service: 'flood', metric: `m${i}`, samples: [[t + 2000 + round, SPIKE]] as Array<[number, number]> }));
        assert.equal((await acme.postProtobuf(series)).status, 202);
        await new Promise((r) => setTimeout(r, 300));
      }
      assert.equal(await streams(), 0, 'the node dropped the stream');
      socket!.resume();
      const [code] = (await closed) as [number];
      // 1013 when the close frame got through, 1006 when the node had to cut the socket
      assert.ok(code === 1013 || code === 1006, `close code ${code}`);
      assert.equal((await acme.get('/healthz')).status, 200);
    });
  });
});
