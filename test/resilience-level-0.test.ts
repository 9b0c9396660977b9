// L0 under a real fault that must not degrade the node: the Redis behind the cache (one this
// test starts for itself) is killed. The cache's L2 is down, reads go to the in-process level
// and the origin, and everything else is whole, so the node stays at L0 and behaves as L0:
// the tier's verdict (Robust, its model in service), alerts through correlation into an
// incident, nothing sent straight to the on-call. Redis comes back: the cache is up again,
// still L0; every sample answered 202 is stored.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { eventually } from './support/node-process.ts';
import { freePort, killServer, startRedis } from './support/local-servers.ts';
import { NodeUnderFault } from './support/resilience.ts';

const KEY = 'l0-key-0123456789';
const ADMIN = 'l0-admin-0123456789';


describe('L0 under a real fault that leaves full service: Redis is killed', function () {
  this.timeout(240_000);
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  const rig = new NodeUnderFault({ key: KEY, admin: ADMIN, config: (c) => { c.tenants[0]!.tier = 'robust'; } });
  const { client, hooks } = rig;
  const value = (i: number): number => 100 + 20 * Math.sin(i / 30) + ((i * 7919) % 13) / 4;

  before(async function () {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    await rig.start(this, { VIGIL_REDIS_URL: `redis://127.0.0.1:${redisPort}` });
  });

  after(async () => {
    await rig.stop();
    await killServer(redis);
  });

  it('stays at L0 and does everything L0 does while Redis is gone, and sees it come back', async () => {
    await eventually(async () => ((await client.status()).dependencies?.cache === 'up' ? true : undefined));
    for (let i = 0; i < 6; i++) assert.equal(await client.post('api', ['latency_ms'], 100, value), 202);

    await killServer(redis);
    const down = await eventually(async () => {
      const s = await client.status();
      return s.dependencies?.cache === 'down' ? s : undefined;
    });
    assert.equal(down.level, 0, 'the cache alone does not degrade the node');
    assert.ok(Object.values(down.breakers).every((b) => b === 'closed'), JSON.stringify(down.breakers));
    assert.equal((await client.call('GET', '/v1/topology', undefined, KEY)).status, 200, 'reads go on without Redis');

    // L0: the tier decides, and its alert goes through correlation into an incident
    const spikeAt = client.position('api', 'latency_ms') + 10;
    assert.equal(await client.post('api', ['latency_ms'], 30, (i) => (i === spikeAt ? 600 : value(i))), 202);
    const incident = await eventually(async () => {
      const alerts = await client.call<{ alerts: Array<{ timestamp: number; tier: string; incidentId: string }> }>('GET', '/v1/alerts?limit=1000', undefined, KEY);
      return alerts.body.alerts.find((a) => a.timestamp === client.at(spikeAt));
    }, 30_000);
    assert.equal(incident.tier, 'robust');
    assert.ok(incident.incidentId, 'correlated into an incident');
    assert.equal(hooks.received.length, 0, 'nobody is paged directly at L0');
    assert.equal((await client.status()).level, 0);

    redis = await startRedis(redisPort);
    const up = await eventually(async () => {
      const s = await client.status();
      return s.dependencies?.cache === 'up' ? s : undefined;
    }, 60_000);
    assert.equal(up.level, 0);
    await client.allAckedStored();
  });
});
