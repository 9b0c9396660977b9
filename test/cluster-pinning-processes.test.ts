// Large tenants on their own nodes, with node processes of their own (issue 12): three Vigil
// processes in cluster mode on a nats-server of the test's own read a tenants file where
// `whale` is large on `big1` and `big2`. Whale's shard goes to one of them and every other
// shard to `n1`. The one holding whale is then killed with SIGKILL: whale's shard goes to the
// other big node (never to n1, which takes no more than it had), and a sample sent to n1
// after the kill is read back through n1 from whale's new node.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { ClusterLink, shardOf } from '../cluster/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { ownersWhen } from './support/shard-owners.ts';
import { VigilCluster } from './support/vigil-cluster.ts';

const CLUSTER = 'pinproc';
const SHARDS = 16;
const WHALE_KEY = 'whale-key-0123456789';

describe('cluster pinning with node processes: a large tenant on its own nodes, through a kill -9', function () {
  this.timeout(240_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let link: ClusterLink;
  let cluster: VigilCluster;
  const whaleShard = shardOf('whale', SHARDS);

  before(async () => {
    nats = await startNatsServer();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-pinproc-')), 'tenants.yaml');
    writeFileSync(file, [
      'tenants:',
      `  - { id: whale, tier: large, rate: unlimited, nodes: [big1, big2], keys: [{ id: k, sha256: ${hashKey(WHALE_KEY)} }] }`,
      '',
    ].join('\n'));
    cluster = new VigilCluster(CLUSTER, [], (c) => {
      c.tenancy = { ...c.tenancy, file };
      c.cluster = { ...c.cluster, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500, moveFraction: 1 };
    });
    for (const id of ['n1', 'big1', 'big2']) await cluster.start(id, nats.url);
    nc = await connect({ servers: nats.url });
    link = await ClusterLink.bind(nc, CLUSTER);
  });

  after(async () => {
    await cluster?.stopAll();
    await nc?.close();
    await nats?.stop();
  });

  /** Resolves with the owners once every shard has one and `ok` accepts them. */
  const placed = (ok: (owners: Map<number, string>) => boolean, what: string): Promise<Map<number, string>> =>
    ownersWhen(link, SHARDS, (o) => (ok(o) ? undefined : `owners: ${[...o].map(([s, n]) => `${s}:${n}`).join(' ')}`), what);

  const othersOn = (owners: Map<number, string>, node: string): boolean =>
    [...owners].every(([s, n]) => s === whaleShard || n === node);

  it('keeps whale on its own nodes, and only there, when the one holding it is killed', async () => {
    // each process read the tenants file: the big nodes announce whale as theirs, n1 nothing
    await eventually(async () => {
      const beats = new Map((await link.heartbeats()).map((h) => [h.id, h.pinnedTenants]));
      return beats.size === 3 && beats.get('big1')?.includes('whale') && beats.get('big2')?.includes('whale') && beats.get('n1')?.length === 0 ? true : undefined;
    }, 'three heartbeats, whale pinned by big1 and big2', 30_000);
    const before = await placed((o) => ['big1', 'big2'].includes(o.get(whaleShard)!) && othersOn(o, 'n1'), 'whale on a big node, the rest on n1');
    const first = before.get(whaleShard)!;
    const other = first === 'big1' ? 'big2' : 'big1';
    const whale = new ApiClient(cluster.node('n1').url, WHALE_KEY);
    const t0 = Date.now() - 120_000;
    const sent = await whale.postMetrics([{ service: 'db', metric: 'cpu', samples: [[t0, 1]] }]);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));

    cluster.kill(first);
    const after = await placed((o) => o.get(whaleShard) === other && othersOn(o, 'n1'), `whale's shard on ${other} after ${first} was killed`);
    assert.ok(![...after.values()].includes(first), 'the killed node owns nothing');

    // served again: a sample sent to n1 now is stored by whale's new node and read back through n1
    const t1 = Date.now() - 60_000;
    await eventually(async () => ((await whale.postMetrics([{ service: 'db', metric: 'cpu', samples: [[t1, 2]] }])).status === 202 ? true : undefined), 'whale accepted after the kill', 30_000);
    const samples = await eventually(async () => {
      const r = await whale.get<{ samples: Array<[number, number]> }>('/v1/series?service=db&metric=cpu');
      return r.status === 200 && r.body.samples.some(([t]) => t === t1) ? r.body.samples : undefined;
    }, `whale's sample read back from ${other}`, 60_000);
    assert.ok(samples.some(([t, v]) => t === t1 && v === 2));
  });
});
