// The level on the live stream: a level change reaches every tenant's WebSocket stream as a
// 'status' event naming that tenant (real node in process, real WebSocket clients).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import WebSocket from 'ws';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { LiveEvent } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

async function connect(httpUrl: string, key: string): Promise<{ ws: WebSocket; events: LiveEvent[] }> {
  const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${key}` } });
  const events: LiveEvent[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as LiveEvent));
  await once(ws, 'open');
  return { ws, events };
}

describe('degradation level on the WebSocket stream', function () {
  this.timeout(60_000);
  let node: NodeHandle;

  before(async () => {
    const config = testConfig();
    config.degradation.dwellMs = 300;
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
  });
  after(async () => {
    await node.stop();
  });

  it('sends every tenant a status event when the level changes, and when it recovers', async () => {
    const acme = await connect(node.url, KEYS.acme);
    const globex = await connect(node.url, KEYS.globex);
    const admin = new ApiClient(node.url, KEYS.admin);
    assert.equal((await admin.request('POST', '/v1/admin/faults', { dependency: 'model', mode: 'fail', durationMs: 60_000 })).status, 200);
    const levels = (events: LiveEvent[], tenant: string): number[] => events.flatMap((e) => {
      if (e.type !== 'status') return [];
      assert.equal(e.data.tenant, tenant);
      assert.deepEqual(Object.keys(e.data.breakers).sort(), ['graph_db', 'ml_inference']);
      return [e.data.level];
    });
    await eventually(async () => (levels(acme.events, 'acme').includes(1) && levels(globex.events, 'globex').includes(1) ? true : undefined), 'L1 on both streams');
    assert.equal((await admin.request('DELETE', '/v1/admin/faults')).status, 200);
    await eventually(async () => (levels(acme.events, 'acme').at(-1) === 0 && levels(globex.events, 'globex').at(-1) === 0 ? true : undefined), 'L0 on both streams');
    assert.deepEqual(levels(acme.events, 'acme'), [1, 0]);
    acme.ws.close();
    globex.ws.close();
  });
});
