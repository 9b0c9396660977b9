// The cluster's KV listings (cluster/nats-link.ts) against the real NATS: a key written while
// it is being listed (heartbeats are, every round) is read once, so `vigil ctl nodes` never
// shows a node twice (a CI run did, after heartbeats began to come from two threads), and every
// listing ends while keys are being created (kv.keys() did not always: `vigil ctl` hung).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ClusterLink } from '../cluster/index.ts';
import { endsWithin } from './support/hang-bound.ts';
// Real NATS at 127.0.0.1:4222 (as the ingest-log tests); the buckets are this run's own and deleted after.
const NATS = '127.0.0.1:4222';

/** Runs `use` on a link to buckets of its own (`ttlMs` for both), with `write` going on beside it until `use` ends. */
async function withWriter(prefix: string, ttlMs: number, write: (link: ClusterLink, still: () => boolean) => Promise<void>, use: (link: ClusterLink) => Promise<void>): Promise<void> {
  const link = await ClusterLink.open({ servers: NATS, name: `${prefix}${randomBytes(4).toString('hex')}`, deadAfterMs: ttlMs, leaseTtlMs: ttlMs, replicas: 1 });
  let writing = true;
  const writer = write(link, () => writing);
  try {
    await use(link);
  } finally {
    writing = false;
    await writer;
    await link.nodesKv.destroy().catch(() => undefined);
    await link.leasesKv.destroy().catch(() => undefined);
    await link.close();
  }
}

describe('cluster link: KV listings', function () {
  this.timeout(120_000);

  it('lists each node once while its heartbeat is being rewritten', async () => {
    const beat = (id: string) => ({ id, address: `http://${id}`, capacity: 1, zone: 'z', pinnedTenants: [], at: Date.now() });
    // rewrites far more often than a node's heartbeat (every 500 ms), with a pause per round
    // (kept from when the listing was kv.keys(), which such a writer could keep from ending)
    const rewrite = async (link: ClusterLink, still: () => boolean): Promise<void> => {
      while (still()) {
        await Promise.all(['n1', 'n2', 'n3'].map((id) => link.heartbeat(beat(id))));
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await withWriter('lst', 30_000, rewrite, async (link) => {
      for (let i = 0; i < 40; i++) {
        const ids = (await link.heartbeats()).map((b) => b.id).sort();
        assert.deepEqual(ids, [...new Set(ids)], `listing ${i} named a node twice: ${ids.join(', ')}`);
      }
    });
  });

  it('ends every listing of the leases while new shards are taken, renewed and given up', async () => {
    // kv.keys() waited for an end its consumer never saw while keys were being created (two
    // nodes taking their shards at start): `vigil ctl shards` hung, once in about four runs of
    // test/cluster-owner-route.test.ts, and 64 listings in here were enough to see it
    let taken = 0;
    const take = async (link: ClusterLink, still: () => boolean): Promise<void> => {
      for (let round = 0; still(); round++) {
        // 16 shards never held before, as a node's first round takes them; a third given up
        const shards = Array.from({ length: 16 }, (_, i) => round * 16 + i);
        const leases = await Promise.all(shards.map((s) => link.acquire(s, round % 2 ? 'n1' : 'n2', Date.now())));
        taken += leases.filter(Boolean).length;
        await new Promise((r) => setTimeout(r, 20));
        const renewed = await Promise.all(leases.map((l) => (l ? link.renew(l, Date.now()) : undefined)));
        await Promise.all(renewed.flatMap((l, i) => (l && i % 3 === 0 ? [link.release(l)] : [])));
      }
    };
    await withWriter('lps', 1_000, take, async (link) => {
      for (let i = 0; i < 300; i++) {
        const owners = await endsWithin(link.owners(), 20_000, `listing ${i}`);
        for (const [shard, o] of owners) assert.ok(o.node === 'n1' || o.node === 'n2', `shard ${shard}: ${JSON.stringify(o)}`);
        await new Promise((r) => setTimeout(r, (i * 7) % 30)); // listings at varied moments of the rounds
      }
    });
    assert.ok(taken > 0, 'the taker took shards');
  });
});
