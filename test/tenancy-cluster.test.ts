// Tenant configuration across a cluster: an admin API change on one node reaches every node
// (cluster/shared-tenants.ts, a NATS KV key the nodes follow), so a tenant's keys and quota are
// the same wherever its requests land. A node that starts later takes up the cluster's text;
// a broken text written to the shared place changes no node and says why. Real nodes in
// cluster mode on a nats-server of the test's own.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { hashKey } from '../api/index.ts';
import { KvSharedTenants } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const CLUSTER = 'tenshare';
const INITECH_KEY = 'initech-key-1';

interface NodeFigures { node: string; accepted: number; rate: number }
interface Usage { tenant: string; quota: { rate: number; burst: number } | null; accepted: number; rate: number; nodes?: NodeFigures[] }
interface TenantsView { version: number; lastReloadError: { message: string } | null; tenants: Array<{ id: string; rate?: number }> }

describe('tenancy: an admin change reaches every node of a cluster', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  const nodes: NodeHandle[] = [];
  const files: string[] = [];

  async function start(id: string): Promise<NodeHandle> {
    const config = testConfig();
    config.node.id = id;
    config.tenancy = { ...config.tenancy, file: join(config.node.dataDir, 'tenants.yaml') };
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: 16, heartbeatMs: 200, deadAfterMs: 1500 };
    const node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    nodes.push(node);
    files.push(config.tenancy.file!);
    return node;
  }

  const admin = (n: NodeHandle) => new ApiClient(n.url, KEYS.admin);
  const usageOn = (n: NodeHandle, key: string) => new ApiClient(n.url, key).get<Usage>('/v1/usage');

  before(async () => {
    nats = await startNatsServer();
    await start('n1');
    await start('n2');
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await nats?.stop();
  });

  it('a tenant created on one node is served by the other, and written to its tenants file', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    assert.equal((await usageOn(b, INITECH_KEY)).status, 401, 'no such tenant yet');
    const put = await admin(a).request('PUT', '/v1/admin/tenants/initech', { tier: 'small', rate: 5000, burst: 6000, keys: [{ id: 'k1', sha256: hashKey(INITECH_KEY) }] });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const usage = await eventually(async () => {
      const r = await usageOn(b, INITECH_KEY);
      return r.status === 200 ? r.body : undefined;
    }, 'node n2 serving initech', 10_000);
    assert.deepEqual([usage.tenant, usage.quota?.rate, usage.quota?.burst], ['initech', 5000, 6000]);
    assert.match(readFileSync(files[1]!, 'utf8'), /id: initech/);
  });

  it('a quota lowered on the second node is the quota on the first', async () => {
    const [a, b] = [nodes[0]!, nodes[1]!];
    const put = await admin(b).request('PUT', '/v1/admin/tenants/initech', { tier: 'small', rate: 1000, burst: 1500, keys: [{ id: 'k1', sha256: hashKey(INITECH_KEY) }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await eventually(async () => ((await usageOn(a, INITECH_KEY)).body.quota?.rate === 1000 ? true : undefined), 'n1 holding the new rate', 10_000);
    assert.equal((await usageOn(b, INITECH_KEY)).body.quota?.rate, 1000);
    // the two nodes agree on every tenant
    const [va, vb] = await Promise.all([a, b].map(async (n) => (await admin(n).get<TenantsView>('/v1/admin/tenants')).body.tenants));
    assert.deepEqual(va, vb);
  });

  it('a node that starts later takes up the cluster\'s tenants, over what its own file says', async () => {
    const c = await start('n3');
    const r = await usageOn(c, INITECH_KEY);
    assert.equal(r.status, 200, 'served from the start');
    assert.equal(r.body.quota?.rate, 1000);
  });

  it('GET /v1/usage sums the tenant\'s use over every node, and lists each node\'s', async () => {
    const [a, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    const t0 = Date.now() - 600_000;
    const batch = (n: number, from: number) => [{ service: 'web', metric: 'cpu', samples: Array.from({ length: n }, (_, i) => [t0 + (from + i) * 1000, i] as [number, number]) }];
    assert.equal((await new ApiClient(a.url, INITECH_KEY).postMetrics(batch(100, 0))).status, 202);
    assert.equal((await new ApiClient(b.url, INITECH_KEY).postMetrics(batch(200, 100))).status, 202);
    // asked on the node that took none of it
    const usage = (await usageOn(c, INITECH_KEY)).body;
    assert.equal(usage.accepted, 300, JSON.stringify(usage));
    assert.deepEqual(usage.nodes?.map((n) => [n.node, n.accepted]), [['n1', 100], ['n2', 200], ['n3', 0]]);
    assert.ok(Math.abs(usage.rate - usage.nodes!.reduce((r, n) => r + n.rate, 0)) < 1e-9, 'the rate is the nodes\' summed');
    // another tenant asking on the same node sees none of it
    const acme = (await usageOn(c, KEYS.acme)).body;
    assert.equal(acme.tenant, 'acme');
    assert.ok(acme.nodes?.every((n) => n.accepted === 0), JSON.stringify(acme.nodes));
  });

  it('a broken text in the shared place changes no node, and each says why', async () => {
    const nc: NatsConnection = await connect({ servers: nats.url });
    try {
      const shared = await KvSharedTenants.open(nc, { name: CLUSTER, replicas: 1 });
      await shared.write('tenants:\n  - id: initech\n    rate: -5\n');
      for (const n of nodes) {
        const view = await eventually(async () => {
          const v = (await admin(n).get<TenantsView>('/v1/admin/tenants')).body;
          return v.lastReloadError ? v : undefined;
        }, 'the refusal shown', 10_000);
        assert.match(view.lastReloadError!.message, /rate must be an integer/);
        assert.equal((await usageOn(n, INITECH_KEY)).body.quota?.rate, 1000, 'the old set kept');
      }
    } finally {
      await nc.close();
    }
  });

  it('deleting the tenant on one node ends its key on every node', async () => {
    const [a, , c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    assert.equal((await admin(c).request('DELETE', '/v1/admin/tenants/initech')).status, 200);
    for (const n of [a, c]) await eventually(async () => ((await usageOn(n, INITECH_KEY)).status === 401 ? true : undefined), 'initech gone', 10_000);
    assert.equal((await usageOn(a, KEYS.acme)).status, 200, 'the other tenants stay');
  });

  it('a hand edit of one node\'s tenants file reaches every node, and their files', async () => {
    const [a, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
    const hooli = 'hooli-key-1';
    writeFileSync(files[1]!, `tenants:\n  - { id: hooli, rate: 2000, keys: [{ id: k1, sha256: ${hashKey(hooli)} }] }\n`);
    for (const n of [a, b, c]) {
      const usage = await eventually(async () => {
        const r = await usageOn(n, hooli);
        return r.status === 200 ? r.body : undefined;
      }, 'hooli served', 10_000);
      assert.equal(usage.quota?.rate, 2000);
    }
    assert.match(readFileSync(files[0]!, 'utf8'), /id: hooli/, 'written to the other nodes\' files');
    const audit = await admin(a).get<{ entries: Array<{ actor: string; target: string }> }>('/v1/audit?tenant=hooli');
    assert.ok(audit.body.entries.some((e) => e.actor === 'cluster' && e.target === 'tenant/hooli'), JSON.stringify(audit.body));
  });

  it('changes made at the same moment on three nodes all land, on every node', async () => {
    const made: string[] = [];
    for (let round = 0; round < 3; round++) {
      const puts = nodes.map((n, i) => {
        const id = `t${round}-${i}`;
        made.push(id);
        return admin(n).request('PUT', `/v1/admin/tenants/${id}`, { tier: 'small', rate: 100 + i, keys: [{ id: 'k1', sha256: hashKey(`${id}-key`) }] });
      });
      for (const r of await Promise.all(puts)) assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const views = await Promise.all(nodes.map((n) => eventually(async () => {
      const v = (await admin(n).get<TenantsView>('/v1/admin/tenants')).body;
      return made.every((id) => v.tenants.some((t) => t.id === id)) ? v.tenants : undefined;
    }, `every tenant made on ${n.url}`, 10_000)));
    assert.deepEqual(views[1], views[0]);
    assert.deepEqual(views[2], views[0]);
    for (const id of made) assert.equal((await usageOn(nodes[2]!, `${id}-key`)).status, 200, `${id} served`);
  });
});
