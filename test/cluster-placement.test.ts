// The cluster's pure cores: rendezvous placement, moves per round, membership and leases.
import { strict as assert } from 'node:assert';
import { countByNode, ownerOf, placeShards, planMoves, weight, type PlacedNode } from '../cluster/placement.ts';
import { agedAcrossOutage, liveNodes, parseHeartbeat, placeable, type Heartbeat } from '../cluster/membership.ts';
import { fencingAccepts, isValid, parseLeaseValue, validUntil, type Lease } from '../cluster/lease.ts';
import { shardOf } from '../cluster/index.ts';

const SHARDS = 256;
const nodes = (...ids: string[]): PlacedNode[] => ids.map((id) => ({ id }));
const byTenant = (t: string): number => shardOf(t, SHARDS);

describe('cluster: placement (rendezvous hashing)', () => {
  it('spreads 256 shards over 3 nodes within ±20% of even', () => {
    const placed = placeShards(SHARDS, nodes('node-1', 'node-2', 'node-3'), byTenant);
    assert.equal(placed.size, SHARDS);
    for (const [id, n] of countByNode(placed)) assert.ok(Math.abs(n - SHARDS / 3) <= 0.2 * SHARDS / 3, `${id} holds ${n}`);
  });

  it('is the same in every process: a pure function of shard and node names', () => {
    assert.deepEqual(placeShards(SHARDS, nodes('a', 'b', 'c'), byTenant), placeShards(SHARDS, nodes('c', 'a', 'b'), byTenant));
    assert.equal(weight(7, 'a'), weight(7, 'a'));
  });

  it('a join moves only the shards the new node takes; a leave only the leaver\'s', () => {
    const before = placeShards(SHARDS, nodes('node-1', 'node-2', 'node-3'), byTenant);
    const after = placeShards(SHARDS, nodes('node-1', 'node-2', 'node-3', 'node-4'), byTenant);
    let moved = 0;
    for (let s = 0; s < SHARDS; s++) {
      if (before.get(s) !== after.get(s)) {
        moved++;
        assert.equal(after.get(s), 'node-4', `shard ${s} moved between old nodes`);
      }
    }
    assert.ok(moved > 0.15 * SHARDS && moved < 0.35 * SHARDS, `${moved} moved`);
    const left = placeShards(SHARDS, nodes('node-1', 'node-3'), byTenant);
    for (let s = 0; s < SHARDS; s++) if (before.get(s) !== 'node-2') assert.equal(left.get(s), before.get(s));
  });

  it('weighs capacity: a node of capacity 3 takes about three times the shards', () => {
    const c = countByNode(placeShards(SHARDS * 4, [{ id: 'big', capacity: 3 }, { id: 'small' }], byTenant));
    const ratio = c.get('big')! / c.get('small')!;
    assert.ok(ratio > 2.3 && ratio < 3.9, `ratio ${ratio}`);
  });

  it('gives a pinned tenant\'s shard to the node that pins it, and that node nothing else', () => {
    const n = [{ id: 'big', pinnedTenants: ['whale'] }, { id: 'n1' }, { id: 'n2' }];
    const placed = placeShards(SHARDS, n, byTenant);
    assert.equal(placed.get(byTenant('whale')), 'big');
    assert.deepEqual([...placed].filter(([, o]) => o === 'big').map(([s]) => s), [byTenant('whale')]);
    // every node dedicated: nothing is left without an owner
    assert.equal(placeShards(SHARDS, [{ id: 'big', pinnedTenants: ['whale'] }], byTenant).size, SHARDS);
  });

  it('gives a gateway (capacity 0) no shard, even when it is the only node', () => {
    const placed = placeShards(SHARDS, [{ id: 'gw', capacity: 0 }, { id: 'n1' }, { id: 'n2', zone: 'b' }], byTenant);
    assert.equal(placed.size, SHARDS);
    assert.ok(![...placed.values()].includes('gw'));
    assert.equal(placeShards(SHARDS, [{ id: 'gw', capacity: 0 }], byTenant).size, 0);
  });

  it('spreads over zones first: two zones get about half each whatever their node counts', () => {
    const n: PlacedNode[] = [{ id: 'a1', zone: 'a' }, { id: 'a2', zone: 'a' }, { id: 'a3', zone: 'a' }, { id: 'b1', zone: 'b', capacity: 3 }];
    const c = countByNode(placeShards(SHARDS * 4, n, byTenant));
    const zoneA = c.get('a1')! + c.get('a2')! + c.get('a3')!;
    assert.ok(Math.abs(zoneA - c.get('b1')!) < 0.2 * SHARDS * 4, `a ${zoneA} b ${c.get('b1')}`);
    assert.equal(ownerOf(3, []), undefined);
  });
});

describe('cluster: moves per round', () => {
  const live = new Set(['node-1', 'node-2', 'node-3', 'node-4']);
  const current = placeShards(SHARDS, nodes('node-1', 'node-2', 'node-3'), byTenant);
  const desired = placeShards(SHARDS, nodes('node-1', 'node-2', 'node-3', 'node-4'), byTenant);

  it('moves at most 10% of the shards per round away from live owners', () => {
    const moves = planMoves(SHARDS, current, desired, live);
    assert.equal(moves.length, Math.ceil(0.1 * SHARDS));
    for (const m of moves) assert.equal(m.to, 'node-4');
    assert.equal(planMoves(SHARDS, current, desired, live, 0.05).length, Math.ceil(0.05 * SHARDS));
  });

  it('converges in rounds, moving each shard once', () => {
    const now = new Map(current);
    const seen = new Set<number>();
    for (let round = 0; round < 20; round++) {
      const moves = planMoves(SHARDS, now, desired, live);
      if (moves.length === 0) break;
      for (const m of moves) {
        assert.ok(!seen.has(m.shard), `shard ${m.shard} moved twice`);
        seen.add(m.shard);
        now.set(m.shard, m.to);
      }
    }
    assert.deepEqual(now, desired);
  });

  it('places every shard of a dead owner at once, past the budget', () => {
    const afterDeath = placeShards(SHARDS, nodes('node-1', 'node-3'), byTenant);
    const moves = planMoves(SHARDS, current, afterDeath, new Set(['node-1', 'node-3']));
    const orphans = [...current].filter(([, o]) => o === 'node-2').length;
    assert.equal(moves.length, orphans);
    assert.ok(orphans > Math.ceil(0.1 * SHARDS));
    for (const m of moves) assert.equal(m.from, undefined);
  });
});

describe('cluster: membership', () => {
  const beat = (id: string, at: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({ id, address: `http://x/${id}`, capacity: 1, zone: '', pinnedTenants: [], at, ...extra });

  it('a node is dead once its heartbeat is older than the lapse (default 3 s)', () => {
    const beats = [beat('b', 10_000), beat('a', 7_500), beat('c', 6_999)];
    assert.deepEqual(liveNodes(beats, 10_000).map((b) => b.id), ['a', 'b']);
    assert.deepEqual(liveNodes(beats, 10_000, 1_000).map((b) => b.id), ['b']);
  });

  it('back from an outage of its own view, a node does not count the outage against the others\' heartbeats', () => {
    // this node's view stood still from 20 s to 32 s (its last own heartbeat, then its first again)
    const outage = { from: 20_000, to: 32_000 };
    const beats = [beat('before', 19_500), beat('during', 25_000), beat('after', 32_500), beat('dead-before', 15_000)];
    const aged = agedAcrossOutage(beats, outage);
    assert.deepEqual(aged.map((b) => b.at), [31_500, 32_000, 32_500, 27_000]);
    // at 33 s: without the ageing only the one heard after the outage is alive (the storm: it takes every shard)
    assert.deepEqual(liveNodes(beats, 33_000).map((b) => b.id), ['after']);
    assert.deepEqual(liveNodes(aged, 33_000).map((b) => b.id), ['after', 'before', 'during']);
    // a node dead before the outage stays dead, and one silent since is dead deadAfterMs after it
    assert.deepEqual(liveNodes(aged, 35_100).map((b) => b.id), ['after']);
  });

  it('a draining node is alive but takes no shards', () => {
    assert.deepEqual(placeable([beat('a', 1), beat('b', 1, { draining: true })]).map((b) => b.id), ['a']);
  });

  it('a degraded node (L3 or worse) takes no shards while a healthier one is there, and does when none is', () => {
    assert.deepEqual(placeable([beat('a', 1, { level: 1 }), beat('b', 1, { level: 3 })]).map((b) => b.id), ['a']);
    assert.deepEqual(placeable([beat('a', 1, { level: 4 }), beat('b', 1, { level: 3 }), beat('c', 1, { draining: true })]).map((b) => b.id), ['a', 'b']);
  });

  it('a gateway (capacity 0) takes no shards, even while every other node is degraded', () => {
    assert.deepEqual(placeable([beat('gw', 1, { capacity: 0 }), beat('b', 1, { level: 3 })]).map((b) => b.id), ['b']);
    assert.equal(parseHeartbeat(JSON.stringify(beat('gw', 1, { capacity: 0 })))?.capacity, 0);
  });

  it('reads a heartbeat back and refuses a malformed one', () => {
    const b = beat('n', 5, { zone: 'z', pinnedTenants: ['t'], capacity: 2, level: 2 });
    assert.deepEqual(parseHeartbeat(JSON.stringify(b)), b);
    assert.equal(parseHeartbeat('{"id":1}'), undefined);
    assert.equal(parseHeartbeat('nope'), undefined);
  });
});

describe('cluster: leases with fencing', () => {
  const lease: Lease = { shard: 1, node: 'a', token: 17, revision: 20, renewedAt: 1_000 };

  it('the holder stops before the server can let another node take the lease', () => {
    assert.equal(validUntil(lease, 3_000, 500), 3_500);
    assert.ok(isValid(lease, 3_499, 3_000, 500));
    assert.ok(!isValid(lease, 3_500, 3_000, 500));
    assert.ok(validUntil(lease, 3_000, 500) < lease.renewedAt + 3_000, 'gives up before the entry can lapse');
    assert.ok(!isValid(undefined, 0));
  });

  it('refuses a write whose token is older than the newest seen', () => {
    assert.ok(fencingAccepts(undefined, 3));
    assert.ok(fencingAccepts(3, 3));
    assert.ok(fencingAccepts(3, 9));
    assert.ok(!fencingAccepts(9, 3));
  });

  it('reads a lease value back', () => {
    assert.deepEqual(parseLeaseValue('{"node":"a","token":4}'), { node: 'a', token: 4 });
    assert.equal(parseLeaseValue('{"node":"a"}'), undefined);
  });
});
