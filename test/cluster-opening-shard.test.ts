// A call for a tenant whose shard this node has taken (its lease) and not opened yet (the
// snapshot being read) waits for the shard's actors and is answered by them. It used to be
// dropped: the owner-routing test then got 504 after 5 s in about half its runs, when the
// alert arrived in that window. Real parts: the actor runtime and the cluster's
// shard/tenant/correlator actors.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createActorSystem, SeededRng, SystemClock, type ActorRef } from '../actors/runtime/index.ts';
import { IngestReceipt } from '../actors/tenant/index.ts';
import type { SilenceView } from '../actors/correlation/index.ts';
import { shardsBehavior, tierDetectors, type ShardsMsg } from '../cluster/index.ts';

const SUPERVISION = { strategy: 'one_for_one', intensity: 3, periodMs: 5_000 } as const;
const ASK_MS = 1_000;

describe('cluster: calls for a shard that is opening', function () {
  this.timeout(20_000);
  let opening: Set<number>;
  let shards: ActorRef<ShardsMsg>;
  let stop: () => Promise<void>;

  beforeEach(() => {
    opening = new Set();
    const system = createActorSystem({ clock: new SystemClock(), rng: new SeededRng(1), log: pino({ level: 'silent' }), supervision: SUPERVISION });
    shards = system.spawn<ShardsMsg>('shards', shardsBehavior({
      shardOf: (tenant) => (tenant === 'acme' ? 0 : 1),
      opening: (shard) => opening.has(shard),
      tenantSettings: (id) => ({ id, tier: 'basic', metricTiers: new Map() }),
      supervision: SUPERVISION,
      correlation: { windowMs: 60_000, autoResolveMs: 600_000, minAlertScore: 0.9, criticalScore: 0.99 },
      detectors: tierDetectors(), incidents: { unresolved: () => [] },
      sink: { samples: async () => undefined, anomaly: () => {}, alert: () => {}, incident: () => {} },
      serviceIdleMs: 600_000,
    }));
    stop = () => system.stop();
  });
  afterEach(async () => { await stop(); });

  const silences = (tenant: string) => shards.ask<SilenceView[]>((reply) => ({ type: 'to-tenant', tenant, msg: { type: 'correlator', msg: { type: 'silences', reply } } }), ASK_MS);
  const open = (shard: number) => shards.ask<true>((reply) => ({ type: 'open-shard', shard, restored: new Map(), reply }));

  it('holds a call while the shard opens and hands it to the shard once open', async () => {
    opening.add(0);
    const answer = silences('acme');
    await new Promise((r) => setTimeout(r, 100)); // the call is in, the shard not open yet
    await open(0);
    assert.deepEqual(await answer, [], 'answered by the tenant\'s correlator once the shard opened');
  });

  it('drops a call for a shard this node does not hold (its asker times out, as before)', async () => {
    await assert.rejects(silences('other'), /did not answer/);
  });

  it('does not hold an ingest for an opening shard: the batch stays in the log', async () => {
    opening.add(0);
    const receipt = new IngestReceipt(1, () => undefined);
    shards.tell({ type: 'to-tenant', tenant: 'acme', msg: { type: 'ingest', series: [{ service: 'api', metric: 'm', samples: [[Date.now(), 1]] }], receipt } });
    await assert.rejects(receipt.stored, /dropped/);
  });

  it('lets the held calls go when the shard closes before it opens, or its lease goes', async () => {
    opening.add(0).add(1);
    const closed = silences('acme');
    shards.tell({ type: 'close-shard', shard: 0, reply: () => undefined });
    const lost = silences('other');
    await new Promise((r) => setTimeout(r, 50));
    opening.delete(1);
    const receipt = new IngestReceipt(1, () => undefined); // the next message for shard 1 finds its lease gone
    shards.tell({ type: 'to-tenant', tenant: 'other', msg: { type: 'ingest', series: [], receipt } });
    await open(0);
    await open(1);
    await assert.rejects(closed, /did not answer/, 'a closed shard does not answer later for calls held before');
    await assert.rejects(lost, /did not answer/, 'a shard whose lease went does not answer later for calls held before');
  });
});
