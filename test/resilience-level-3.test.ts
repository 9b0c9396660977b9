// L3 (storage degraded) from a real fault: the time-series store's disk fills up under a running
// node (a tmpfs over its chdb folder, filled by the test). Inserts fail with ENOSPC, the writers
// spill to disk and report the table down: the node goes to L3. There, detection is rule-based
// and every anomaly goes straight to the on-call webhook (a real local HTTP server), with no
// alert or incident made by correlation. Freeing the disk ends the fault: the spill drains, the
// node comes back to L0 by itself, and every sample answered 202 is stored.
import assert from 'node:assert/strict';
import { eventually } from './support/node-process.ts';
import { NodeUnderFault } from './support/resilience.ts';

const KEY = 'l3-key-0123456789';
const ADMIN = 'l3-admin-0123456789';

describe('L3 from a real fault: the time-series store\'s disk is full', function () {
  this.timeout(240_000);
  const rig = new NodeUnderFault({
    key: KEY, admin: ADMIN, disks: { tsdb: 256 },
    config: (c) => { c.tenants[0]!.metricLimits = { latency_ms: { above: 1000 } }; },
  });
  const { client, hooks } = rig;

  before(async function () { await rig.start(this); });
  after(() => rig.stop());

  it('reaches L3, passes alerts straight to the on-call, and returns to L0 with nothing acknowledged lost', async () => {
    for (let i = 0; i < 6; i++) assert.equal(await client.post('db', ['latency_ms', 'cpu'], 50), 202);
    await client.allAckedStored(); // written before the fault
    assert.equal((await client.status()).level, 0);

    rig.disk('tsdb').fill();
    // still acknowledged: the ingest log takes them; the writers cannot store them and spill
    for (let i = 0; i < 4; i++) assert.equal(await client.post('db', ['latency_ms', 'cpu'], 50), 202);
    const l3 = await client.level(3);
    assert.equal(l3.levelName, 'storage_degraded');
    assert.equal(l3.dependencies?.tsdb, 'down');
    // logged before the level changed, but written asynchronously: wait for it, not one read
    await rig.logged(/spilling to disk/);

    // a spike past the metric's static limit, while at L3
    const spikeAt = client.position('db', 'latency_ms') + 20;
    assert.equal(await client.post('db', ['latency_ms'], 40, (i) => (i === spikeAt ? 5000 : 40 + (i % 7))), 202);
    const told = await eventually(async () => {
      const got = hooks.on('/on-call').flatMap((r) => (r.body.alerts ?? []).map((a) => ({ ...a, level: r.body.level, detection: r.body.detection })));
      return got.find((a) => a.metric === 'latency_ms' && a.timestamp === client.at(spikeAt));
    });
    assert.equal(told.level, 3);
    assert.equal(told.detection, 'rule');
    assert.equal(told.value, 5000);
    assert.equal(told.severity, 'critical', 'a static limit crossed');
    assert.equal(hooks.on('/sre').length, 0, 'the SRE team is told at L4, not L3');
    assert.equal((await client.status()).level, 3, 'still degraded while the disk is full');

    rig.disk('tsdb').free();
    const back = await client.level(0, 90_000);
    assert.equal(back.dependencies?.tsdb, 'up');
    await client.allAckedStored();
    // the L3 anomaly is stored (it was spilled), but correlation never saw it: no alert, no incident
    const anomalies = await client.call<{ anomalies: Array<{ metric: string; timestamp: number }> }>('GET', '/v1/anomalies?limit=1000', undefined, KEY);
    assert.ok(anomalies.body.anomalies.some((a) => a.metric === 'latency_ms' && a.timestamp === client.at(spikeAt)), 'the anomaly itself was kept');
    const alerts = await client.call<{ alerts: Array<{ timestamp: number }> }>('GET', '/v1/alerts?limit=1000', undefined, KEY);
    assert.ok(!alerts.body.alerts.some((a) => a.timestamp === client.at(spikeAt)), 'no alert from correlation at L3');
  });
});
