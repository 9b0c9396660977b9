// Large tenants on their own nodes, on running nodes (issue 12): two nodes in cluster mode on
// a nats-server of the test's own read a tenants file where `whale` is large on `big1`. Each
// announces its pinned tenants in its heartbeat, the placement gives whale's shard to big1
// and every other shard to n1, and the leases in NATS say so. Moving whale to n1 through the
// admin API (shared with every node) swaps them: n1 then holds only whale's shard.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { ClusterLink, shardOf } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { ownersWhen } from './support/shard-owners.ts';

const CLUSTER = 'pinning';
const SHARDS = 16;
const WHALE_KEY = 'whale-key-1';
const TENANTS = [
  'tenants:',
  `  - { id: whale, tier: large, nodes: [big1], keys: [{ id: k, sha256: ${hashKey(WHALE_KEY)} }] }`,
  `  - { id: minnow, tier: small, keys: [{ id: k, sha256: ${hashKey('minnow-key-1')} }] }`,
  '',
].join('\n');

describe('cluster pinning on running nodes: a large tenant on its own node', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let link: ClusterLink;
  const nodes: NodeHandle[] = [];
  const whaleShard = shardOf('whale', SHARDS);

  async function start(id: string): Promise<NodeHandle> {
    const config = testConfig();
    config.node.id = id;
    config.tenancy = { ...config.tenancy, file: join(config.node.dataDir, 'tenants.yaml') };
    writeFileSync(config.tenancy.file!, TENANTS);
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500, moveFraction: 1 };
    const node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    nodes.push(node);
    return node;
  }

  /** Resolves once every shard has an owner and the owners are as `expect` says. */
  async function placedAs(expect: (shard: number) => string, what: string): Promise<void> {
    await ownersWhen(link, SHARDS, (owners) => {
      const wrong: string[] = [];
      for (let s = 0; s < SHARDS; s++) if (owners.get(s) !== expect(s)) wrong.push(`${s}: ${owners.get(s) ?? 'none'}`);
      return wrong.length === 0 ? undefined : `shards placed otherwise: ${wrong.join(', ')}`;
    }, what, 40_000);
  }

  before(async () => {
    nats = await startNatsServer();
    await start('n1');
    await start('big1');
    nc = await connect({ servers: nats.url });
    link = await ClusterLink.bind(nc, CLUSTER);
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await nc?.close();
    await nats?.stop();
  });

  it('gives the large tenant\'s shard to its node and every other shard to the other', async () => {
    await placedAs((s) => (s === whaleShard ? 'big1' : 'n1'), 'whale on big1, the rest on n1');
    // whale's requests are served from either node: the shared one routes them to big1
    const r = await new ApiClient(nodes[0]!.url, WHALE_KEY).postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 60_000, 1]] }]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });

  it('moves the large tenant when its node list changes, and frees its old node for the others', async () => {
    const put = await new ApiClient(nodes[1]!.url, KEYS.admin).request('PUT', '/v1/admin/tenants/whale', { tier: 'large', nodes: ['n1'], keys: [{ id: 'k', sha256: hashKey(WHALE_KEY) }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await placedAs((s) => (s === whaleShard ? 'n1' : 'big1'), 'whale on n1, the rest on big1');
  });
});
