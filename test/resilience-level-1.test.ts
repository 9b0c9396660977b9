// L1 (reduced ML) from a real fault: Robust's learnt model (trained by tfjs in the node) starts
// throwing on every call (the fixture's VIGIL_TEST_MODEL_FAULT: a file the test creates and
// removes). Five failed blocks of model calls open the node's ml_inference breaker, which the
// node's health reads: L1. There, Robust scores statistically (a spike is still found, tagged
// robust) and alerts still go through correlation, not straight to the on-call. When the
// model answers again, the breaker half-opens after 30 s, two probe blocks close it, and the
// node is back at L0 by itself; every sample answered 202 is stored.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/node-process.ts';
import { NodeUnderFault } from './support/resilience.ts';

const KEY = 'l1-key-0123456789';
const ADMIN = 'l1-admin-0123456789';
const METRICS = ['queue_depth', 'backlog'];

describe('L1 from a real fault: the learnt model throws', function () {
  this.timeout(300_000);
  const rig = new NodeUnderFault({ key: KEY, admin: ADMIN, webhooks: ['onCall'], config: (c) => { c.tenants[0]!.tier = 'robust'; } });
  const { client, hooks } = rig;
  const fault = join(mkdtempSync(join(tmpdir(), 'vigil-model-')), 'broken');
  // a daily-ish cycle with noise: something for the model to learn
  const value = (i: number): number => 100 + 20 * Math.sin(i / 30) + ((i * 7919) % 13) / 4;

  before(async function () { await rig.start(this, { VIGIL_TEST_MODEL_FAULT: fault }); });
  after(async () => {
    await rig.stop();
    rmSync(fault, { force: true });
  });

  it('reaches L1 with Robust scoring statistically, and returns to L0 once the model answers', async () => {
    // 600 samples a series: each trains its model at sample 512 (queued, drained every second)
    for (let i = 0; i < 6; i++) assert.equal(await client.post('api', METRICS, 100, value), 202);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await client.status()).level, 0);

    writeFileSync(fault, 'x');
    await new Promise((r) => setTimeout(r, 300)); // the fixture looks every 100 ms
    const l1 = await eventually(async () => {
      assert.equal(await client.post('api', METRICS, 10, value), 202);
      const s = await client.status();
      return s.level === 1 ? s : undefined;
    }, 60_000, 500);
    assert.equal(l1.levelName, 'reduced_ml');
    assert.equal(l1.breakers.ml_inference, 'open');
    assert.equal(l1.dependencies?.model, 'down');

    // L1: a spike is still found by Robust's statistical score
    const spikeAt = client.position('api', 'queue_depth') + 10;
    assert.equal(await client.post('api', METRICS, 20, (i) => (i === spikeAt ? 400 : value(i))), 202);
    const found = await eventually(async () => {
      const r = await client.call<{ anomalies: Array<{ metric: string; timestamp: number; tier: string }> }>('GET', '/v1/anomalies?limit=1000', undefined, KEY);
      return r.body.anomalies.find((a) => a.metric === 'queue_depth' && a.timestamp === client.at(spikeAt));
    });
    assert.equal(found.tier, 'robust');
    assert.equal((await client.status()).level, 1);
    assert.equal(hooks.on('/on-call').length, 0, 'at L1 alerts go through correlation, not straight to the on-call');

    // the model answers again: 30 s later the breaker probes (two blocks of 16 calls) and closes
    rmSync(fault);
    const back = await eventually(async () => {
      assert.equal(await client.post('api', METRICS, 10, value), 202);
      const s = await client.status();
      return s.level === 0 ? s : undefined;
    }, 120_000, 1000);
    assert.equal(back.breakers.ml_inference, 'closed');
    assert.equal(back.dependencies?.model, 'up');
    await client.allAckedStored();
  });
});
