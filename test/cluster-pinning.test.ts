// Large tenants on their own nodes (issue 12): `tier: large` with `nodes: [...]` in the
// tenants file becomes each named node's pinned tenants (pinnedOn, what node/tenancy.ts
// announces in the node's heartbeat), and the pure placement then puts the tenant's shard
// only there and no other shard there. In cluster mode a tenant's shard is hash(tenant).
import assert from 'node:assert/strict';
import { hashKey } from '../api/index.ts';
import { largeWithoutNodes, parseTenantsYaml, pinnedOn, TenancyInvalid, type TenantSpec } from '../api/tenancy/index.ts';
import { dedicate, placeShards, shardOf, type PlacedNode } from '../cluster/index.ts';

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

  describe('large tenants that name no nodes, on nodes kept for them (cluster.dedicated)', () => {
    /** whale as above, orca and shark large without nodes, 40 others; n1-n5 shared, d1-d3 dedicated */
    function fleet(): { specs: TenantSpec[]; nodes: PlacedNode[] } {
      const extra = ['orca', 'shark'].map((t) => `  - { id: ${t}, tier: large, ${key(t)} }`);
      const specs = parseTenantsYaml([...['tenants:', `  - { id: whale, tier: large, nodes: [big1, big2], ${key('whale')} }`], ...extra,
        ...Array.from({ length: 40 }, (_, i) => `  - { id: t${i}, tier: small, ${key(`t${i}`)} }`)].join('\n'), 'tenants.yaml');
      const nodes: PlacedNode[] = [...placed(specs), ...['d1', 'd2', 'd3'].map((id) => ({ id, dedicated: true }))];
      return { specs, nodes };
    }
    const dedicatedOwners = (nodes: PlacedNode[], specs: TenantSpec[], current?: Map<number, string>): Map<number, string> =>
      placeShards(SHARDS, dedicate(nodes, largeWithoutNodes(specs), byTenant, current), byTenant);

    it('gives each its own node kept for them, and no other shard goes there', () => {
      const { specs, nodes } = fleet();
      assert.deepEqual(largeWithoutNodes(specs), ['orca', 'shark']);
      assert.notEqual(byTenant('orca'), byTenant('shark'), 'the test needs two shards');
      const owners = dedicatedOwners(nodes, specs);
      const [orca, shark] = [owners.get(byTenant('orca'))!, owners.get(byTenant('shark'))!];
      assert.ok(orca.startsWith('d') && shark.startsWith('d') && orca !== shark, `orca on ${orca}, shark on ${shark}`);
      const onDedicated = [...owners].filter(([, n]) => n.startsWith('d')).map(([s]) => s).sort((a, b) => a - b);
      assert.deepEqual(onDedicated, [byTenant('orca'), byTenant('shark')].sort((a, b) => a - b), 'the third is a spare');
      assert.ok(['big1', 'big2'].includes(owners.get(byTenant('whale'))!), 'a tenant naming its nodes keeps them');
    });

    it('moves only the tenant whose node is gone, to the spare', () => {
      const { specs, nodes } = fleet();
      const before = dedicatedOwners(nodes, specs);
      const lost = before.get(byTenant('orca'))!;
      const kept = before.get(byTenant('shark'))!;
      const after = dedicatedOwners(nodes.filter((n) => n.id !== lost), specs, before);
      assert.equal(after.get(byTenant('shark')), kept, 'shark stays where it is');
      const spare = ['d1', 'd2', 'd3'].find((d) => d !== lost && d !== kept);
      assert.equal(after.get(byTenant('orca')), spare);
    });

    it('without a node kept for them they are placed as any other tenant; with one node they share it', () => {
      const { specs, nodes } = fleet();
      const none = dedicatedOwners(nodes.filter((n) => n.dedicated !== true), specs);
      assert.ok(!none.get(byTenant('orca'))!.startsWith('d') && !none.get(byTenant('orca'))!.startsWith('big'));
      const one = dedicatedOwners(nodes.filter((n) => n.id !== 'd2' && n.id !== 'd3'), specs);
      assert.equal(one.get(byTenant('orca')), 'd1');
      assert.equal(one.get(byTenant('shark')), 'd1');
    });

    it('a node kept for large tenants that is the only node left takes every shard', () => {
      const owners = placeShards(SHARDS, dedicate([{ id: 'd1', dedicated: true }], ['orca'], byTenant), byTenant);
      assert.equal(owners.size, SHARDS);
      assert.ok([...owners.values()].every((n) => n === 'd1'));
    });
  });
});
