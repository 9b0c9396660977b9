// Isolation in cluster mode (issue 12): a tenant whose samples pile up on the node that
// processes its shard is pushed back at the gateways. The pure parts first (the notices,
// the backlog's pressure), then two running nodes on a nats-server of the test's own: a
// gateway node that owns no shard and a processing node whose detectors are slow. A medium
// tenant with a small backlog bound gets 503 with Retry-After from the gateway once the
// processing node is behind on it; a small tenant is not held back; every accepted sample
// reaches its detector; and the tenant is taken again once the node has caught up.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { VirtualClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import { IngestBacklog, PUSHBACK_REPEAT_MS, PUSHBACK_TTL_MS, TenantPushback, type PushbackNotice } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { eventually } from './support/api-client.ts';
import { testConfig } from './support/api-node.ts';
import { busyDetectors } from './support/busy-detector.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

describe('cluster pushback: the notices', () => {
  const board = () => {
    const clock = new VirtualClock(0);
    const sent: PushbackNotice[] = [];
    const pushback = new TenantPushback({ clock, node: 'n1', send: (n) => sent.push(n) });
    return { clock, sent, pushback };
  };

  it('announces a tenant once when it reaches its bound, repeats it while it lasts, and lets it go', () => {
    const { clock, sent, pushback } = board();
    pushback.report('acme', true);
    pushback.report('acme', true);
    assert.deepEqual(sent, [{ tenant: 'acme', node: 'n1', full: true }]);
    clock.advance(PUSHBACK_REPEAT_MS);
    assert.equal(sent.length, 2, 'repeated while it lasts');
    pushback.report('acme', false);
    assert.deepEqual(sent.at(-1), { tenant: 'acme', node: 'n1', full: false });
    clock.advance(5 * PUSHBACK_REPEAT_MS);
    assert.equal(sent.length, 3, 'no repeat once let go');
  });

  it('holds a tenant back while any node says so, and for at most the TTL without a repeat', () => {
    const { clock, pushback } = board();
    pushback.hear({ tenant: 'acme', node: 'n2', full: true });
    pushback.hear({ tenant: 'acme', node: 'n3', full: true });
    assert.equal(pushback.pushedBackBy('acme'), 'n2');
    assert.equal(pushback.pushedBackBy('globex'), undefined, 'another tenant is not held back');
    pushback.hear({ tenant: 'acme', node: 'n2', full: false });
    assert.equal(pushback.pushedBackBy('acme'), 'n3');
    clock.advance(PUSHBACK_TTL_MS);
    assert.equal(pushback.pushedBackBy('acme'), undefined, 'n3 went silent: its notice lapsed');
  });

  it('ignores what is not a notice', () => {
    const { pushback } = board();
    for (const bad of [null, 1, 'x', {}, { tenant: 'acme', node: 'n2' }, { tenant: 'acme', node: 2, full: true }, { tenant: ['acme'], node: 'n2', full: true }]) pushback.hear(bad);
    assert.equal(pushback.pushedBackBy('acme'), undefined);
  });

  it('lets go of every tenant it pushes back when it stops', () => {
    const { sent, pushback } = board();
    pushback.report('acme', true);
    pushback.report('globex', true);
    pushback.stop();
    assert.deepEqual(sent.slice(2), [{ tenant: 'acme', node: 'n1', full: false }, { tenant: 'globex', node: 'n1', full: false }]);
    pushback.report('acme', true);
    assert.equal(sent.length, 4, 'nothing after stop');
  });

  it('the backlog tells its bound reached and its half regained, once each, counting what it may not refuse', () => {
    const backlog = new IngestBacklog(100);
    const heard: Array<[string, boolean]> = [];
    backlog.onPressure((tenant, full) => heard.push([tenant, full]));
    const a = backlog.count('acme', 60);
    const b = backlog.count('acme', 60); // past the bound: read from the log, counted anyway
    assert.equal(backlog.sizeOf('acme'), 120);
    assert.deepEqual(heard, [['acme', true]]);
    a.settle();
    assert.deepEqual(heard, [['acme', true]], '60 waiting: above half the bound');
    b.settle();
    assert.deepEqual(heard, [['acme', true], ['acme', false]]);
    assert.equal(backlog.size, 0);
  });
});

const CLUSTER = 'pushback';
const SHARDS = 4;
const MED_KEY = 'med-key-1';
const LITTLE_KEY = 'little-key-1';
const BATCH = 50;
/** the processing node's detectors: 1 ms a sample, so a 50-sample batch costs 50 ms */
const SAMPLE_MS = 1;
/** med may spend 25 ms of each 100 ms tick: each batch leaves it 25 ms in debt (0.1 s to repay); 150 samples waiting push it back */
const BUDGET = { inFlight: 1, tickMs: 100, share: 0.25, backlogSamples: 3 * BATCH };

describe('cluster pushback on running nodes: the gateway refuses a tenant its shard\'s node is behind on', function () {
  this.timeout(120_000);
  let nats: NatsServer;
  const nodes: NodeHandle[] = [];
  const taken = new Map<string, number>();
  // values carry their tenant: med sends 1, little sends 2
  const slow = busyDetectors(SAMPLE_MS, (v) => {
    const who = v === 1 ? 'med' : 'little';
    taken.set(who, (taken.get(who) ?? 0) + 1);
  });

  async function start(id: string, capacity: number): Promise<NodeHandle> {
    const config = testConfig();
    config.node.id = id;
    config.tenancy = { ...config.tenancy, file: join(config.node.dataDir, 'tenants.yaml') };
    writeFileSync(config.tenancy.file!, [
      'tenants:',
      `  - { id: med, tier: medium, rate: unlimited, budget: ${JSON.stringify(BUDGET)}, keys: [{ id: k, sha256: ${hashKey(MED_KEY)} }] }`,
      `  - { id: little, tier: small, rate: unlimited, keys: [{ id: k, sha256: ${hashKey(LITTLE_KEY)} }] }`,
      '',
    ].join('\n'));
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500, moveFraction: 1, capacity };
    const node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: slow });
    nodes.push(node);
    return node;
  }

  before(async () => {
    nats = await startNatsServer();
    await start('proc', 1);
    await start('gw', 0);
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    await nats?.stop();
  });

  // 50 ms apart: a batch spans 2.5 s, so three hours of past hold 4,320 batches
  const base = Date.now() - 3 * 3_600_000;
  let sent = 0;
  const post = async (key: string, value: number): Promise<{ status: number; retryAfter: string | null; body: string }> => {
    const b = sent++;
    const samples = Array.from({ length: BATCH }, (_, i) => [base + (b * BATCH + i) * 50, value]);
    const r = await fetch(`${nodes[1]!.url}/v1/metrics`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ service: 'web', metric: 'cpu', samples }] }),
    });
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
  };

  it('answers 503 with Retry-After at the gateway once the processing node is behind on the tenant, and serves the others', async () => {
    // the gateway serves as soon as the processing node holds the shards
    await eventually(async () => ((await post(LITTLE_KEY, 2)).status === 202 ? true : undefined), 'the cluster taking batches', 40_000);
    let accepted = 0;
    let refused: { status: number; retryAfter: string | null; body: string } | undefined;
    const until = Date.now() + 30_000;
    while (!refused && Date.now() < until) {
      const r = await post(MED_KEY, 1);
      assert.ok(r.status === 202 || r.status === 503, `${r.status}: ${r.body}`);
      if (r.status === 202) accepted++;
      else refused = r;
      await new Promise((res) => setTimeout(res, 10)); // a client at thousands of samples/s, far past what med may use (~330/s)
    }
    assert.ok(refused, `the gateway never pushed med back (${accepted} batches accepted)`);
    assert.equal(refused.status, 503, refused.body);
    assert.match(refused.retryAfter ?? '', /^[1-9]\d*$/, 'a 503 says when to retry');
    assert.match(refused.body, /waiting on node proc/);
    assert.ok(accepted >= BUDGET.backlogSamples / BATCH, `med was refused only past its bound: ${accepted} batches accepted`);
    const little = await post(LITTLE_KEY, 2);
    assert.equal(little.status, 202, `a small tenant is not held back: ${little.body}`);

    // everything accepted reaches its detector, and med is taken again once the node caught up
    await eventually(async () => ((taken.get('med') ?? 0) >= accepted * BATCH ? true : undefined), 'every accepted med sample taken in', 60_000);
    assert.equal(taken.get('med'), accepted * BATCH, 'no refused sample was taken in');
    await eventually(async () => ((await post(MED_KEY, 1)).status === 202 ? true : undefined), 'med accepted again', 20_000);
  });
});
