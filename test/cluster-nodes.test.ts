// Cluster mode with real processes: a nats-server of its own (free port, own store folder) and
// Vigil node processes, stopped by pid. Placement balance, a join that moves only the joiner's
// shards, and kill -9 of a node: every shard has one owner again and the ownership log never
// shows two owners of a shard at once.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterLink, type OwnerEntry } from '../cluster/index.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { doubleOwned } from './support/vigil-cluster.ts';

const SHARDS = 256;
const NAME = 'ctest';

function countOf(owners: Map<number, OwnerEntry>): Map<string, number> {
  const c = new Map<string, number>();
  for (const o of owners.values()) c.set(o.node, (c.get(o.node) ?? 0) + 1);
  return c;
}

describe('cluster: nodes over a nats-server of their own (multi-process)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cluster-'));
  const logs: string[] = [];
  const nodes = new Map<string, TestNode>();
  let nats: NatsServer;
  let link: ClusterLink;

  const start = async (id: string, capacity = 1): Promise<TestNode> => {
    const ownershipLog = join(dir, `${id}.jsonl`);
    logs.push(ownershipLog);
    const node = await startNodeProcess(testConfig({ acme: 'acme-key' }, 'admin-key-0123456789', (c) => {
      c.node.id = id;
      c.cluster = { ...c.cluster, enabled: true, natsUrl: nats.url, name: NAME, shards: SHARDS, ownershipLog, capacity };
    }));
    nodes.set(id, node);
    return node;
  };

  /** Waits until every shard has an owner and the counts hold still over two reads. */
  const settled = (expectNodes: number) => eventually(async () => {
    const a = await link.owners();
    await new Promise((r) => setTimeout(r, 1_500));
    const b = await link.owners();
    if (a.size !== SHARDS || b.size !== SHARDS || countOf(b).size !== expectNodes) return undefined;
    for (const [s, o] of a) if (b.get(s)?.node !== o.node) return undefined;
    return b;
  }, 90_000, 500);

  before(async () => {
    nats = await startNatsServer();
    link = await ClusterLink.open({ servers: nats.url, name: NAME, deadAfterMs: 3_000, leaseTtlMs: 3_000, replicas: 1 });
    for (const id of ['node-1', 'node-2', 'node-3']) await start(id);
  });

  after(async () => {
    await link?.close();
    for (const n of nodes.values()) await n.stop();
    await nats?.stop();
  });

  let three: Map<number, OwnerEntry>;

  it('three nodes hold the 256 shards within ±20% of even', async () => {
    three = await settled(3);
    for (const [node, n] of countOf(three)) assert.ok(Math.abs(n - SHARDS / 3) <= 0.2 * SHARDS / 3, `${node} holds ${n}`);
  });

  it('a fourth joins: only the shards it takes move', async () => {
    await start('node-4');
    const four = await settled(4);
    let moved = 0;
    for (const [s, o] of four) {
      if (o.node !== three.get(s)!.node) {
        moved++;
        assert.equal(o.node, 'node-4', `shard ${s} moved from ${three.get(s)!.node} to ${o.node}`);
      }
    }
    assert.equal(moved, countOf(four).get('node-4'));
    assert.ok(moved > 0);
  });

  it('kill -9 of a node: each of its shards gets a new owner, and no shard ever had two', async () => {
    const before = await link.owners();
    const victim = nodes.get('node-2')!;
    const theirs = [...before].filter(([, o]) => o.node === 'node-2').map(([s]) => s);
    assert.ok(theirs.length > 0);
    const killedAt = Date.now();
    victim.kill();
    nodes.delete('node-2');
    const after = await eventually(async () => {
      const o = await link.owners();
      return theirs.every((s) => o.has(s) && o.get(s)!.node !== 'node-2') ? o : undefined;
    }, 60_000, 100);
    const failoverS = (Date.now() - killedAt) / 1000;
    console.log(`      failover of ${theirs.length} shards: every one re-owned ${failoverS.toFixed(1)} s after kill -9`);
    for (const s of theirs) assert.notEqual(after.get(s)!.node, 'node-2');
    await new Promise((r) => setTimeout(r, 2_000)); // let the logs take the last events
    assert.deepEqual(doubleOwned(logs, new Map([['node-2', killedAt]])), []);
  });

  it('a gateway (capacity 0) takes no shard; what it accepts, the shard owner stores, and a read through the gateway finds it', async () => {
    const gw = await start('gateway', 0);
    const owners = await settled(3);
    assert.ok(![...owners.values()].some((o) => o.node === 'gateway'), 'the gateway owns no shard');
    const t0 = Date.now() - 60_000;
    const headers = { authorization: 'Bearer acme-key', 'content-type': 'application/json' };
    const sent = await fetch(`${gw.url}/v1/metrics`, {
      method: 'POST', headers, body: JSON.stringify({ series: [{ service: 'gw-api', metric: 'latency_ms', samples: [[t0, 10], [t0 + 1000, 11]] }] }),
    });
    assert.equal(sent.status, 202, await sent.clone().text());
    // the tenant's shard owner stored them; the gateway answers the read by asking it
    const samples = await eventually(async () => {
      const r = await fetch(`${gw.url}/v1/series?service=gw-api&metric=latency_ms&from=${t0 - 1000}&to=${t0 + 5000}`, { headers });
      const body = await r.json() as { samples?: Array<[number, number]> };
      return body.samples?.length === 2 ? body.samples : undefined;
    }, 30_000, 250);
    assert.deepEqual(samples, [[t0, 10], [t0 + 1000, 11]]);
    const took = existsSync(join(dir, 'gateway.jsonl')) ? readFileSync(join(dir, 'gateway.jsonl'), 'utf8').trim() : '';
    assert.equal(took, '', 'the gateway\'s ownership log is empty');
  });
});
