// Large tenants on their own nodes (issue 12): `tier: large` with `nodes: [...]` in the
// tenants file becomes each named node's pinned tenants (pinnedOn, what node/tenancy.ts
// announces in the node's heartbeat), and the pure placement then puts the tenant's shard
// only there and no other shard there. In cluster mode a tenant's shard is hash(tenant).
import assert from 'node:assert/strict';
import { hashKey } from '../api/index.ts';
import { parseTenantsYaml, pinnedOn, TenancyInvalid, type TenantSpec } from '../api/tenancy/index.ts';
import { placeShards, shardOf, type PlacedNode } from '../cluster/index.ts';

const SHARDS = 256;
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'big1', 'big2'];
const key = (t: string): string => `keys: [{ id: k, sha256: ${hashKey(`${t}-key`)} }]`;

/** 40 small and medium tenants, and `whale` (large) on big1 and big2. */
function tenants(): TenantSpec[] {
  const lines = ['tenants:', `  - { id: whale, tier: large, nodes: [big1, big2], ${key('whale')} }`];
  for (let i = 0; i < 40; i++) lines.push(`  - { id: t${i}, tier: ${i % 2 ? 'medium' : 'small'}, ${key(`t${i}`)} }`);
  return parseTenantsYaml(lines.join('\n'), 'tenants.yaml');
}

/** The nodes as their heartbeats describe them: each announces what pinnedOn gives it. */
function placed(specs: TenantSpec[], configured: Record<string, string[]> = {}): PlacedNode[] {
  return NODES.map((id) => ({ id, pinnedTenants: pinnedOn(id, specs, configured[id] ?? []) }));
}

describe('cluster pinning: large tenants on their own nodes', () => {
  const byTenant = (t: string): number => shardOf(t, SHARDS);

  it('pins a large tenant on the nodes it names, and only there', () => {
    const specs = tenants();
    assert.deepEqual(pinnedOn('big1', specs), ['whale']);
    assert.deepEqual(pinnedOn('big2', specs), ['whale']);
    assert.deepEqual(pinnedOn('n1', specs), []);
    assert.deepEqual(pinnedOn('n1', specs, ['legacy']), ['legacy'], 'cluster.pinnedTenants still counts');
  });

  it('places the large tenant\'s shard on its nodes and every other tenant\'s elsewhere', () => {
    const specs = tenants();
    const owners = placeShards(SHARDS, placed(specs), byTenant);
    assert.equal(owners.size, SHARDS, 'every shard has an owner');
    const whale = owners.get(byTenant('whale'))!;
    assert.ok(['big1', 'big2'].includes(whale), `whale's shard on ${whale}`);
    for (const s of specs) {
      if (s.id === 'whale' || byTenant(s.id) === byTenant('whale')) continue;
      const at = owners.get(byTenant(s.id))!;
      assert.ok(!at.startsWith('big'), `${s.id} (shard ${byTenant(s.id)}) placed on dedicated ${at}`);
    }
    for (const [shard, node] of owners) if (node.startsWith('big')) assert.equal(shard, byTenant('whale'), `shard ${shard} on ${node}`);
  });

  it('moves the large tenant when its node list changes, and frees the old node for others', () => {
    const specs = tenants().map((s) => (s.id === 'whale' ? { ...s, nodes: ['n5'] } : s));
    const owners = placeShards(SHARDS, placed(specs), byTenant);
    assert.equal(owners.get(byTenant('whale')), 'n5');
    for (const [shard, node] of owners) if (node === 'n5') assert.equal(shard, byTenant('whale'));
    assert.ok([...owners.values()].some((n) => n === 'big1' || n === 'big2'), 'big1/big2 take shared shards again');
  });

  it('shares the shard: a tenant hashed to the large tenant\'s shard goes with it (shard = hash(tenant))', () => {
    // find a tenant id that lands on whale's shard: placement is by shard, so it follows whale
    let twin = '';
    for (let i = 0; twin === ''; i++) if (byTenant(`x${i}`) === byTenant('whale')) twin = `x${i}`;
    const owners = placeShards(SHARDS, placed(tenants()), byTenant);
    assert.equal(owners.get(byTenant(twin)), owners.get(byTenant('whale')));
  });

  it('refuses nodes on a tenant that is not large, and a bad node id, naming the place', () => {
    const doc = (entry: string): (() => TenantSpec[]) => () => parseTenantsYaml(`tenants:\n  - ${entry}\n`, 'tenants.yaml');
    assert.throws(doc(`{ id: m, tier: medium, nodes: [n1], ${key('m')} }`),
      (e: unknown) => e instanceof TenancyInvalid && /tenants\[0\]\.nodes pins a tenant to its own nodes, which only tier large has \(this tenant is medium\)/.test(e.message));
    assert.throws(doc(`{ id: w, tier: large, nodes: ["Bad Node"], ${key('w')} }`),
      (e: unknown) => e instanceof TenancyInvalid && /tenants\[0\]\.nodes\[0\] must be a node id/.test(e.message));
    assert.throws(doc(`{ id: w, tier: large, nodes: [], ${key('w')} }`), (e: unknown) => e instanceof TenancyInvalid && /at least one node/.test(e.message));
    const ok = doc(`{ id: w, tier: large, nodes: [n1, n1, n2], ${key('w')} }`)();
    assert.deepEqual(ok[0]!.nodes, ['n1', 'n2']);
  });
});
