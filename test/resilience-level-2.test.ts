// L2 (no ML) from real faults at once: Robust's learnt model throws on every call (the
// fixture's VIGIL_TEST_MODEL_FAULT) and the graph store's disk is full (a tmpfs over its
// folder, filled by the test), so topology writes fail with ENOSPC and the graph_db breaker
// opens. Model and graph down: L2. There, detection is rule-based (a value past the metric's
// static limit is reported with the limit as its expectation and score 1), alerts still go
// through correlation (time-based), nothing goes straight to the on-call. When both answer
// again, the breakers half-open (30 s and 60 s), their probes close them, and the node is back
// at L0 by itself; every sample answered 202 is stored.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/node-process.ts';
import { NodeUnderFault } from './support/resilience.ts';

const KEY = 'l2-key-0123456789';
const ADMIN = 'l2-admin-0123456789';
const METRICS = ['queue_depth', 'backlog'];

describe('L2 from real faults: the learnt model throws and the graph store\'s disk is full', function () {
  this.timeout(360_000);
  const rig = new NodeUnderFault({
    key: KEY, admin: ADMIN, webhooks: ['onCall'], disks: { graph: 4 },
    config: (c) => {
      c.tenants[0]!.tier = 'robust';
      c.tenants[0]!.metricLimits = { queue_depth: { above: 1000 } };
    },
  });
  const { client, hooks } = rig;
  const fault = join(mkdtempSync(join(tmpdir(), 'vigil-model-')), 'broken');
  const value = (i: number): number => 100 + 20 * Math.sin(i / 30) + ((i * 7919) % 13) / 4;
  const topology = { services: [{ name: 'api', dependsOn: ['db'] }, { name: 'db', dependsOn: [] }] };

  before(async function () { await rig.start(this, { VIGIL_TEST_MODEL_FAULT: fault }); });
  after(async () => {
    await rig.stop();
    rmSync(fault, { force: true });
  });

  it('reaches L2 with rule-based detection, and returns to L0 once model and graph answer', async () => {
    assert.equal((await client.call('PUT', '/v1/topology', topology, KEY)).status, 200);
    for (let i = 0; i < 6; i++) assert.equal(await client.post('api', METRICS, 100, value), 202);
    await new Promise((r) => setTimeout(r, 2500)); // the models train (queued, drained every second)

    writeFileSync(fault, 'x');
    await new Promise((r) => setTimeout(r, 300));
    await eventually(async () => {
      assert.equal(await client.post('api', METRICS, 10, value), 202);
      return (await client.status()).level === 1 ? true : undefined;
    }, 60_000, 500);

    rig.disk('graph').fill();
    // writes to the full graph folder fail: 3 of the last 6 graph calls failing open graph_db
    const l2 = await eventually(async () => {
      const put = await client.call('PUT', '/v1/topology', topology, KEY);
      assert.ok(put.status >= 500, `topology write on a full disk answered ${put.status}`);
      const s = await client.status();
      return s.level === 2 ? s : undefined;
    }, 30_000, 200);
    assert.equal(l2.levelName, 'no_ml');
    assert.deepEqual([l2.dependencies?.model, l2.dependencies?.graph], ['down', 'down']);
    assert.notEqual(l2.breakers.graph_db, 'closed');

    // L2: rules decide; past the static limit the event carries the limit and score 1
    const spikeAt = client.position('api', 'queue_depth') + 10;
    assert.equal(await client.post('api', METRICS, 20, (i) => (i === spikeAt ? 5000 : value(i))), 202);
    const found = await eventually(async () => {
      const r = await client.call<{ anomalies: Array<{ metric: string; timestamp: number; expected: number; score: number }> }>('GET', '/v1/anomalies?limit=1000', undefined, KEY);
      return r.body.anomalies.find((a) => a.metric === 'queue_depth' && a.timestamp === client.at(spikeAt));
    });
    assert.deepEqual([found.expected, found.score], [1000, 1], 'found by the static-limit rule, not the tier');
    // still correlated (by time): an alert is made of it; the on-call is not paged directly
    await eventually(async () => {
      const r = await client.call<{ alerts: Array<{ timestamp: number; metric: string }> }>('GET', '/v1/alerts?limit=1000', undefined, KEY);
      return r.body.alerts.some((a) => a.metric === 'queue_depth' && a.timestamp === client.at(spikeAt)) ? true : undefined;
    });
    assert.equal(hooks.on('/on-call').length, 0);
    assert.equal((await client.status()).level, 2);

    rmSync(fault);
    rig.disk('graph').free();
    // ml_inference probes after 30 s (on Robust's samples): the model back, the graph alone down
    // is L0 (topology from the cache); graph_db probes after 60 s (the node's own probe)
    const back = await eventually(async () => {
      assert.equal(await client.post('api', METRICS, 10, value), 202);
      const s = await client.status();
      return s.level === 0 && s.breakers.graph_db === 'closed' ? s : undefined;
    }, 150_000, 1000);
    assert.deepEqual([back.breakers.ml_inference, back.dependencies?.graph], ['closed', 'up']);
    assert.equal((await client.call('PUT', '/v1/topology', topology, KEY)).status, 200, 'the graph takes writes again');
    await client.allAckedStored();
  });
});
