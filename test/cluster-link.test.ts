// The cluster's KV listings (cluster/nats-link.ts) against the real NATS: a key written while
// it is being listed (heartbeats are, every round) is read once, so `vigil ctl nodes` never
// shows a node twice (a CI run did, after heartbeats began to come from two threads).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ClusterLink } from '../cluster/index.ts';
// Real NATS at 127.0.0.1:4222 (as the ingest-log tests); the buckets are this run's own and deleted after.
const NATS = '127.0.0.1:4222';

describe('cluster link: KV listings', function () {
  this.timeout(120_000);

  it('lists each node once while its heartbeat is being rewritten', async () => {
    const link = await ClusterLink.open({ servers: NATS, name: `lst${randomBytes(4).toString('hex')}`, deadAfterMs: 30_000, leaseTtlMs: 30_000, replicas: 1 });
    const beat = (id: string) => ({ id, address: `http://${id}`, capacity: 1, zone: 'z', pinnedTenants: [], at: Date.now() });
    let writing = true;
    const writer = (async () => {
      // rewrites far more often than a node's heartbeat (every 500 ms), with a pause per round so
      // a listing can still end on a loaded machine (one under a writer that never pauses may not)
      while (writing) {
        await Promise.all(['n1', 'n2', 'n3'].map((id) => link.heartbeat(beat(id))));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      for (let i = 0; i < 40; i++) {
        const ids = (await link.heartbeats()).map((b) => b.id).sort();
        assert.deepEqual(ids, [...new Set(ids)], `listing ${i} named a node twice: ${ids.join(', ')}`);
      }
    } finally {
      writing = false;
      await writer;
      await link.nodesKv.destroy().catch(() => undefined);
      await link.leasesKv.destroy().catch(() => undefined);
      await link.close();
    }
  });
});
