// `vigil ctl nodes | shards | drain | undrain | rebalance` as real CLI processes against real
// node processes in cluster mode on a nats-server of the test's own (stopped by pid): what the
// tables and --json show, a drain that empties a node and a rebalance that fills it again, and
// one line with exit 2 for every usage mistake or unreachable cluster.
import { strict as assert } from 'node:assert';
import { ClusterControl, shardOf } from '../cluster/index.ts';
import { encodeMetricBatch } from '../protocols/index.ts';
import { freePort } from './support/local-servers.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { oneLineError, runVigil } from './support/cli-process.ts';

const NAME = 'ctlc';
const SHARDS = 32;
const TENANT = { id: 'acme', key: 'key-acme-0123456789' };
const ADMIN = 'admin-key-0123456789';
const IDS = ['node-1', 'node-2', 'node-3'];

interface NodesJson { nodes: Array<{ id: string; address: string; zone: string; capacity: number; shards: number; alive: boolean; draining: boolean; level: number; lastSeenMs: number }> }
interface ShardsJson { shards: Array<{ shard: number; node: string; token: number; position: number; logEnd: number }> }

describe('cli: vigil ctl nodes, shards, drain, rebalance (cluster over NATS, real node processes)', function () {
  this.timeout(300_000);
  let nats: NatsServer;
  const nodes = new Map<string, TestNode>();
  const ctl = (args: string[], env: Record<string, string> = {}) => runVigil(['ctl', ...args], { VIGIL_NATS_URL: nats.url, VIGIL_CLUSTER_NAME: NAME, ...env }, 120_000);
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await ctl([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  before(async () => {
    nats = await startNatsServer();
    for (const id of IDS) {
      const config = testConfig({ [TENANT.id]: TENANT.key }, ADMIN, (c) => {
        c.node.id = id;
        c.cluster = { ...c.cluster, enabled: true, natsUrl: nats.url, name: NAME, shards: SHARDS, zone: id === 'node-3' ? 'b' : 'a' };
      });
      nodes.set(id, await startNodeProcess(config));
    }
    const control = await ClusterControl.open({ servers: nats.url, name: NAME });
    try {
      // settled: every shard owned, each node some, and no move for 3 s (a round moves at most 10%)
      let last = '';
      let stableSince = Date.now();
      await eventually(async () => {
        const rows = await control.nodes();
        const owners = JSON.stringify(await control.shards());
        if (owners !== last) [last, stableSince] = [owners, Date.now()];
        const placed = rows.length === 3 && rows.every((n) => n.alive && n.shards > 0) && rows.reduce((a, n) => a + n.shards, 0) === SHARDS;
        return placed && Date.now() - stableSince >= 3_000 ? rows : undefined;
      }, 180_000, 500);
    } finally {
      await control.close();
    }
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await nats?.stop();
  });

  it('nodes: a table of every member (address, zone, capacity, shards, state, heartbeat age); --json the same rows', async () => {
    const r = await ctl(['nodes']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NODE +ADDRESS +ZONE +CAPACITY +SHARDS +STATE +LEVEL +HEARTBEAT$/);
    for (const id of IDS) {
      const url = nodes.get(id)!.url.replace(/\/$/, '');
      const line = lines.find((l) => l.startsWith(`${id} `));
      assert.ok(line, `a row for ${id}: ${r.stdout}`);
      assert.ok(line.includes(url), `${id}'s address ${url} in ${line}`);
      assert.match(line, new RegExp(` ${id === 'node-3' ? 'b' : 'a'} +1 +\\d+ +alive +L0 +\\d+\\.\\d+s ago$`));
    }
    const sum = lines.slice(1, -1).reduce((a, l) => a + Number(/ (\d+) +alive /.exec(l)![1]), 0);
    assert.equal(lines.at(-1), `3 alive, ${sum} shards leased`, r.stdout);
    assert.ok(sum > 0 && sum <= SHARDS, r.stdout);
    const j = await json<NodesJson>(['nodes']);
    assert.deepEqual(j.nodes.map((n) => n.id), IDS);
    assert.ok(j.nodes.reduce((a, n) => a + n.shards, 0) <= SHARDS);
    assert.ok(j.nodes.every((n) => n.alive && !n.draining && n.capacity === 1 && n.level === 0 && n.lastSeenMs < 3_000));
  });

  it('shards: every shard with its owner, lease token and position; --node shows one node\'s; a processed batch moves its shard\'s position', async () => {
    const all = await json<ShardsJson>(['shards']);
    assert.deepEqual(all.shards.map((s) => s.shard), Array.from({ length: SHARDS }, (_, i) => i));
    assert.ok(all.shards.every((s) => IDS.includes(s.node) && s.token > 0));
    // (a lease can lapse and be re-taken between two calls on a busy machine: each call is checked by itself)
    const mine = await json<ShardsJson>(['shards', '--node', 'node-2']);
    assert.ok(mine.shards.length > 0);
    assert.ok(mine.shards.every((s) => s.node === 'node-2' && s.token > 0), JSON.stringify(mine));

    const text = await ctl(['shards', '--node', 'node-2']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^SHARD +OWNER +TOKEN +POSITION +LOG END$/);
    const rows = lines.slice(1, -1);
    assert.ok(rows.length > 0);
    for (const l of rows) assert.match(l, /^ *\d+ +node-2 +\d+ +\d+ +(\d+|-)$/);
    assert.equal(lines.at(-1), `${rows.length} shard(s) on node-2`);

    // one batch, sent to any node: its shard's snapshot comes to cover it (checkpoints every 5 s)
    const shard = shardOf(TENANT.id, SHARDS);
    const res = await fetch(`${nodes.get('node-1')!.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TENANT.key}` },
      body: encodeMetricBatch(TENANT.id, [{ service: 'api', metric: 'm0', samples: [[Date.now(), 1]] }]),
    });
    assert.equal(res.status, 202, await res.text());
    const moved = await eventually(async () => {
      const s = (await json<ShardsJson>(['shards'])).shards.find((x) => x.shard === shard);
      return s && s.position > 0 ? s : undefined;
    }, 60_000, 1_000);
    assert.ok(moved.logEnd === 0 || moved.logEnd >= moved.position);
  });

  it('drain empties a node (it takes none after), undrain + rebalance give it shards again', async () => {
    const d = await ctl(['drain', 'node-3', '--timeout', '90s']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout.trimEnd(), /^drained node-3: it holds no shard \(\d+\.\d s\); it takes none until vigil ctl undrain node-3$/);
    const after = await json<NodesJson>(['nodes']);
    const n3 = after.nodes.find((n) => n.id === 'node-3')!;
    assert.equal(n3.shards, 0);
    assert.equal(n3.draining, true);
    assert.match((await ctl(['nodes'])).stdout, /^node-3 .* 0 +draining +/m);
    assert.equal((await ctl(['shards', '--node', 'node-3'])).stdout, 'node-3 holds no shard\n');
    assert.equal(after.nodes.reduce((a, n) => a + n.shards, 0), SHARDS, 'every shard still has an owner');

    const u = await ctl(['undrain', 'node-3']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout, 'node-3 takes shards again\n');
    const back = await eventually(async () => {
      const r = await ctl(['rebalance', '--wait', '5s']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NODE +SHARDS HELD$/m);
      assert.match(r.stdout, /^3 node\(s\) ran a placement round/m);
      const n = (await json<NodesJson>(['nodes'])).nodes.find((x) => x.id === 'node-3')!;
      return n.shards > 0 && !n.draining ? n : undefined;
    }, 90_000, 1_000);
    assert.ok(back.shards > 0);
  });

  it('bad arguments, an unknown node, an unknown cluster and an unreachable NATS: one line, exit 2', async () => {
    oneLineError(await ctl(['drain']), /^vigil ctl drain: missing the node id/);
    oneLineError(await ctl(['drain', 'a', 'b']), /^vigil ctl drain: unexpected argument "b"/);
    oneLineError(await ctl(['drain', 'node-1', '--timeout', '5x']), /^vigil ctl drain: --timeout must be a duration/);
    oneLineError(await ctl(['shards', '--node']), /^vigil ctl shards: .*--node/);
    oneLineError(await ctl(['nodes', '--bogus']), /^vigil ctl nodes: unknown option --bogus/);
    oneLineError(await ctl(['nodes', '--nats', 'http://127.0.0.1:1']), /^vigil ctl nodes: --nats must be nats:\/\/HOST:PORT/);
    oneLineError(await ctl(['nodes', '--cluster', 'a.b']), /^vigil ctl nodes: --cluster must be letters/);
    oneLineError(await ctl(['drain', 'node-9']), /^vigil ctl drain: node "node-9" does not answer/);
    oneLineError(await ctl(['nodes', '--cluster', 'nosuch']), /^vigil ctl nodes: no cluster named "nosuch"/);
    const port = await freePort();
    oneLineError(await ctl(['shards', '--nats', `nats://127.0.0.1:${port}`]), /^vigil ctl shards: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+/);
    oneLineError(await ctl(['nodes'], { VIGIL_NATS_URL: `nats://127.0.0.1:${port}` }), /^vigil ctl nodes: cannot reach NATS/);
  });
});
