// A node kept for large tenants that starts before the shared nodes (issue 12, isolation): alone
// in its view it would take every shard (placement.ts: no shard without an owner), and hand them
// over a moment later when the shared node beats. Just started, it waits deadAfterMs before it
// stands in for nodes it has not heard from (coordinator.ts), taking only its own tenant's shard.
// d1 (dedicated) starts first, then n1 (shared): every lease in NATS, read every 100 ms from d1's
// start on, shows d1 with orca's shard only. Once n1 is killed, d1 alone takes every shard: the
// wait delays that rule, it does not remove it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { ClusterLink, shardOf } from '../cluster/index.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { ownersWhen } from './support/shard-owners.ts';
import { VigilCluster } from './support/vigil-cluster.ts';

const CLUSTER = 'dedicatedstart';
const SHARDS = 16;
// long enough for n1's process to start and beat within it on a slow machine
const DEAD_AFTER_MS = 12_000;
const TENANTS = [
  'tenants:',
  `  - { id: orca, tier: large, rate: unlimited, keys: [{ id: k, sha256: ${hashKey('orca-key-0123456789')} }] }`,
  `  - { id: minnow, tier: small, keys: [{ id: k, sha256: ${hashKey('minnow-key-1')} }] }`,
  '',
].join('\n');

describe('cluster: a node kept for large tenants that starts first takes no shared shard', function () {
  this.timeout(240_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let link: ClusterLink;
  let cluster: VigilCluster;
  const orca = shardOf('orca', SHARDS);

  before(async () => {
    nats = await startNatsServer();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-dedicated-start-')), 'tenants.yaml');
    writeFileSync(file, TENANTS);
    cluster = new VigilCluster(CLUSTER, [], (c) => {
      c.tenancy = { ...c.tenancy, file };
      c.cluster = { ...c.cluster, shards: SHARDS, heartbeatMs: 200, deadAfterMs: DEAD_AFTER_MS, moveFraction: 1, dedicated: c.node.id.startsWith('d') };
    });
    nc = await connect({ servers: nats.url });
  });

  after(async () => {
    await cluster?.stopAll();
    await nc?.close();
    await nats?.stop();
  });

  it('holds only its tenant\'s shard while the shared node starts, and every shard once it is alone', async () => {
    await cluster.start('d1', nats.url);
    link = await ClusterLink.bind(nc, CLUSTER); // (d1 made the cluster's buckets)
    // every listing of the leases from d1's start until n1 holds its shards: those d1 held besides orca's
    const strays = new Set<number>();
    let reads = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const [shard, o] of await link.owners()) if (o.node === 'd1' && shard !== orca) strays.add(shard);
        reads++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await cluster.start('n1', nats.url);
      await ownersWhen(link, SHARDS, (owners) => {
        const wrong = [...owners].filter(([shard, n]) => n !== (shard === orca ? 'd1' : 'n1'));
        return wrong.length > 0 ? wrong.map(([shard, n]) => `${shard} on ${n}`).join(', ') : undefined;
      }, 'orca on d1, every other shard on n1');
    } finally {
      watching = false;
      await watch;
    }
    assert.ok(reads > 10, `the leases were read ${reads} times`);
    assert.deepEqual([...strays].sort((a, b) => a - b), [], 'shared shards d1 held while n1 started');

    cluster.kill('n1');
    await ownersWhen(link, SHARDS, (owners) => {
      const elsewhere = [...owners].filter(([, n]) => n !== 'd1');
      return elsewhere.length > 0 ? `${elsewhere.length} shard(s) not on d1` : undefined;
    }, 'every shard on d1, alone', 90_000);
  });
});
