// Large tenants that name no nodes, on node processes of their own (issue 12): n1 is a shared
// node, d1 and d2 are kept for large tenants (cluster.dedicated). The tenants file has
// two large tenants without `nodes`, orca and shark. Every node computes the same placement:
// each large tenant gets a dedicated node of its own and every other shard goes to n1, as the
// leases in NATS show. When the node holding orca is killed (SIGKILL), orca goes to the
// dedicated node left (beside shark), never to n1; a third dedicated node that joins gives
// them a node each again. Processes, not nodes in the test's own process: a kill is real and
// the clean-up cannot hang on a node's stop.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { ClusterLink, shardOf } from '../cluster/index.ts';
import { ApiClient } from './support/api-client.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { ownersWhen } from './support/shard-owners.ts';
import { VigilCluster } from './support/vigil-cluster.ts';

const CLUSTER = 'dedicated';
const SHARDS = 16;
const ORCA_KEY = 'orca-key-0123456789';
const TENANTS = [
  'tenants:',
  `  - { id: orca, tier: large, rate: unlimited, keys: [{ id: k, sha256: ${hashKey(ORCA_KEY)} }] }`,
  `  - { id: shark, tier: large, rate: unlimited, keys: [{ id: k, sha256: ${hashKey('shark-key-1')} }] }`,
  `  - { id: minnow, tier: small, keys: [{ id: k, sha256: ${hashKey('minnow-key-1')} }] }`,
  '',
].join('\n');

describe('cluster: large tenants without nodes go on the nodes kept for them', function () {
  this.timeout(240_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let link: ClusterLink;
  let cluster: VigilCluster;
  const orca = shardOf('orca', SHARDS);
  const shark = shardOf('shark', SHARDS);

  const placed = (wrong: (owners: Map<number, string>) => string | undefined, what: string) => ownersWhen(link, SHARDS, wrong, what);

  /** What is wrong with the owners, if anything: the large tenants on dedicated nodes (each its own when `apart`), the rest on n1. */
  const check = (apart: boolean) => (owners: Map<number, string>): string | undefined => {
    const [o, s] = [owners.get(orca)!, owners.get(shark)!];
    if (!o.startsWith('d') || !s.startsWith('d')) return `orca on ${o}, shark on ${s}`;
    if (apart && o === s) return `orca and shark share ${o}`;
    const misplaced = [...owners].filter(([shard, n]) => shard !== orca && shard !== shark && n !== 'n1');
    return misplaced.length > 0 ? `other shards off n1: ${misplaced.map(([shard, n]) => `${shard} on ${n}`).join(', ')}` : undefined;
  };

  before(async () => {
    assert.notEqual(orca, shark, 'the test needs the two large tenants on two shards');
    nats = await startNatsServer();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-dedicated-')), 'tenants.yaml');
    writeFileSync(file, TENANTS);
    cluster = new VigilCluster(CLUSTER, [], (c) => {
      c.tenancy = { ...c.tenancy, file };
      // the process takes its configuration whole (not from VIGIL_* variables): d* are dedicated
      c.cluster = { ...c.cluster, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500, moveFraction: 1, dedicated: c.node.id.startsWith('d') };
    });
    await cluster.start('n1', nats.url);
    await cluster.start('d1', nats.url);
    await cluster.start('d2', nats.url);
    nc = await connect({ servers: nats.url });
    link = await ClusterLink.bind(nc, CLUSTER);
  });

  after(async () => {
    await cluster?.stopAll();
    await nc?.close();
    await nats?.stop();
  });

  it('gives each large tenant a dedicated node of its own and every other shard to the shared node', async () => {
    await placed(check(true), 'orca and shark on d1 and d2, the rest on n1');
    const r = await new ApiClient(cluster.node('n1').url, ORCA_KEY).postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 60_000, 1]] }]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });

  it('moves a large tenant whose node was killed to the dedicated node left, never to the shared one', async () => {
    const before = await placed(check(true), 'placed');
    const gone = before.get(orca)!;
    const kept = before.get(shark)!;
    cluster.kill(gone);
    const after = await placed((owners) => check(false)(owners) ?? (owners.get(orca) === kept ? undefined : `orca on ${owners.get(orca)}`), `orca on ${kept} beside shark`);
    assert.equal(after.get(shark), kept, 'shark did not move');
  });

  it('a dedicated node that joins takes one of them, so each has its own again', async () => {
    await cluster.start('d3', nats.url);
    await placed(check(true), 'orca and shark on two dedicated nodes again');
  });
});
