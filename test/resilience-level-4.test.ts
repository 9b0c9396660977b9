// L4 (emergency) from real faults at once: the time-series store's disk and the ingest log's
// disk both fill up under a running node (a tmpfs over each folder, filled by the test).
// The store fails first (L3: the writers spill); then appends to the log fail with ENOSPC and
// nothing durable is left: L4. Ingest answers 503 with Retry-After (nothing is acknowledged
// that could be lost), the SRE team's webhook (a real local HTTP server) hears the node enter
// L4 and the public status page says so. Freeing both disks ends it: the client's retried batch
// is taken, the spill drains, the SRE team hears L4 is over, the node is back at L0 by itself,
// and every sample answered 202 is stored.
import assert from 'node:assert/strict';
import { eventually } from './support/node-process.ts';
import { NodeUnderFault } from './support/resilience.ts';

const KEY = 'l4-key-0123456789';
const ADMIN = 'l4-admin-0123456789';

describe('L4 from real faults: the time-series store\'s and the ingest log\'s disks are full', function () {
  this.timeout(240_000);
  const rig = new NodeUnderFault({ key: KEY, admin: ADMIN, disks: { tsdb: 256, log: 64 } });
  const { client, hooks } = rig;

  before(async function () { await rig.start(this); });
  after(() => rig.stop());

  it('reaches L4, refuses what it cannot keep, tells the SRE team and the status page, and returns to L0', async () => {
    for (let i = 0; i < 4; i++) assert.equal(await client.post('db', ['latency_ms'], 50), 202);
    await client.allAckedStored();
    const page0 = await client.call<{ level: number; statusPage: boolean }>('GET', '/status', undefined, null);
    assert.equal(page0.status, 200, 'the status page needs no key');
    assert.deepEqual([page0.body.level, page0.body.statusPage], [0, false]);

    rig.disk('tsdb').fill();
    assert.equal(await client.post('db', ['latency_ms'], 50), 202);
    await client.level(3);
    rig.disk('log').fill();
    const refused = await client.call<{ error: { code: string; message: string } }>('POST', '/v1/metrics', {
      series: [{ service: 'db', metric: 'latency_ms', samples: [[client.at(client.position('db', 'latency_ms')), 41]] }],
    }, KEY);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'UNAVAILABLE');
    assert.ok(refused.headers.get('retry-after'), 'told when to retry');

    const l4 = await client.level(4);
    assert.equal(l4.levelName, 'emergency');
    assert.deepEqual([l4.dependencies?.tsdb, l4.dependencies?.bus], ['down', 'down']);
    const entered = await eventually(async () => hooks.on('/sre').find((r) => r.body.type === 'level' && r.body.level === 4));
    assert.equal(entered.body.levelName, 'emergency');
    const page = await client.call<{ level: number; levelName: string; statusPage: boolean; message: string }>('GET', '/status', undefined, null);
    assert.deepEqual([page.body.level, page.body.statusPage], [4, true]);
    assert.match(page.body.message, /SRE team/);
    const html = await fetch(`${rig.node!.url}/status`, { headers: { accept: 'text/html' } });
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await html.text(), /L4 · emergency/);
    assert.equal(hooks.on('/on-call').length, 0, 'no alert was raised: nothing new could be taken in');

    rig.disk('log').free();
    rig.disk('tsdb').free();
    // the client retries what was refused; the log takes it again and the bus is up
    const retried = await eventually(async () => ((await client.post('db', ['latency_ms'], 50)) === 202 ? true : undefined));
    assert.equal(retried, true);
    await client.level(0, 90_000);
    await eventually(async () => hooks.on('/sre').find((r) => r.body.type === 'level' && r.body.level < 4));
    await client.allAckedStored();
    assert.equal((await client.call<{ level: number }>('GET', '/status', undefined, null)).body.level, 0);
  });
});
