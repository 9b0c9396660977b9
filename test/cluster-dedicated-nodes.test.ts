// Large tenants that name no nodes, on running nodes (issue 12): n1 is a shared node, d1 and d2
// are kept for large tenants (cluster.dedicated). The tenants file has two large tenants
// without `nodes`, orca and shark. Every node computes the same placement: each large tenant
// gets a dedicated node of its own and every other shard goes to n1, as the leases in NATS
// show. When the node holding orca stops, orca goes to the dedicated node left (beside shark),
// never to n1; a third dedicated node that joins gives them a node each again.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { ClusterLink, shardOf } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { testConfig } from './support/api-node.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const CLUSTER = 'dedicated';
const SHARDS = 16;
const ORCA_KEY = 'orca-key-1';
const TENANTS = [
  'tenants:',
  `  - { id: orca, tier: large, keys: [{ id: k, sha256: ${hashKey(ORCA_KEY)} }] }`,
  `  - { id: shark, tier: large, keys: [{ id: k, sha256: ${hashKey('shark-key-1')} }] }`,
  `  - { id: minnow, tier: small, keys: [{ id: k, sha256: ${hashKey('minnow-key-1')} }] }`,
  '',
].join('\n');

describe('cluster: large tenants without nodes go on the nodes kept for them', function () {
  this.timeout(120_000);
  let nats: NatsServer;
  let nc: NatsConnection;
  let link: ClusterLink;
  const nodes = new Map<string, NodeHandle>();
  const orca = shardOf('orca', SHARDS);
  const shark = shardOf('shark', SHARDS);

  async function start(id: string, dedicated: boolean): Promise<NodeHandle> {
    const config = testConfig();
    config.node.id = id;
    config.tenancy = { ...config.tenancy, file: join(config.node.dataDir, 'tenants.yaml') };
    writeFileSync(config.tenancy.file!, TENANTS);
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500, moveFraction: 1, dedicated };
    const node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    nodes.set(id, node);
    return node;
  }

  /** Resolves with the owners once every shard has one and `ok` holds for them. */
  async function placed(ok: (owners: Map<number, string>) => string | undefined, what: string): Promise<Map<number, string>> {
    let last = '';
    try {
      return await eventually(async () => {
        const owners = new Map([...(await link.owners())].map(([s, o]) => [s, o.node]));
        last = owners.size < SHARDS ? `${SHARDS - owners.size} shard(s) without an owner` : ok(owners) ?? '';
        return last === '' ? owners : undefined;
      }, what, 40_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}; ${last}`, { cause: err });
    }
  }

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
    await start('n1', false);
    await start('d1', true);
    await start('d2', true);
    nc = await connect({ servers: nats.url });
    link = await ClusterLink.bind(nc, CLUSTER);
  });

  after(async () => {
    for (const n of nodes.values()) await n.stop().catch(() => undefined);
    await nc?.close();
    await nats?.stop();
  });

  it('gives each large tenant a dedicated node of its own and every other shard to the shared node', async () => {
    await placed(check(true), 'orca and shark on d1 and d2, the rest on n1');
    const r = await new ApiClient(nodes.get('n1')!.url, ORCA_KEY).postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 60_000, 1]] }]);
    assert.equal(r.status, 202, JSON.stringify(r.body));
  });

  it('moves a large tenant whose node stopped to the dedicated node left, never to the shared one', async () => {
    const before = await placed(check(true), 'placed');
    const gone = before.get(orca)!;
    const kept = before.get(shark)!;
    await nodes.get(gone)!.stop();
    nodes.delete(gone);
    const after = await placed((owners) => check(false)(owners) ?? (owners.get(orca) === kept ? undefined : `orca on ${owners.get(orca)}`), `orca on ${kept} beside shark`);
    assert.equal(after.get(shark), kept, 'shark did not move');
  });

  it('a dedicated node that joins takes one of them, so each has its own again', async () => {
    await start('d3', true);
    await placed(check(true), 'orca and shark on two dedicated nodes again');
  });
});
