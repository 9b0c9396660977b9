// Degradation on a real node process (issue 10): injected faults take the node to the level
// DESIGN.md maps them to, DELETE brings it back to L0 by itself (dwell 1 s here); a real
// Redis killed under the node shows as cache down and leaves it at L0; a time-series store
// failure spills the writers (L3) and no acknowledged sample is lost after it.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { SeriesInput } from '../protocols/index.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { freePort, killServer, startRedis } from './support/local-servers.ts';
import { MIN, NodeClient, type Status } from './support/resilience.ts';

const KEY = 'degrade-key-1';
const ADMIN = 'degrade-admin-1';

describe('degradation of a node process (injected and real faults)', function () {
  this.timeout(180_000);
  let node: TestNode | undefined;
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  const start = Date.now() - 86_400_000;
  let next = 0;
  let sent = 0;

  const client = new NodeClient(() => node!, KEY, ADMIN);
  const call = client.call.bind(client);
  const status = () => client.status();
  const level = (want: number, timeoutMs = 15_000) => client.level(want, timeoutMs);
  const fault = async (dependency: string, durationMs = 120_000, mode = 'fail'): Promise<void> => {
    const r = await call('POST', '/v1/admin/faults', { dependency, mode, durationMs });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  const clear = async (): Promise<void> => {
    const r = await call('DELETE', '/v1/admin/faults');
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  /** One batch of 50 one-minute samples of db/latency_ms; counts it once answered 202. */
  const post = async (): Promise<number> => {
    const series: SeriesInput[] = [{
      service: 'db', metric: 'latency_ms',
      samples: Array.from({ length: 50 }, (_, i): [number, number] => [start + (next + i) * MIN, 40 + ((next + i) % 7)]),
    }];
    const r = await call('POST', '/v1/metrics', { series }, KEY);
    if (r.status === 202) {
      next += 50;
      sent += 50;
    }
    return r.status;
  };

  before(async () => {
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    node = await startNodeProcess(testConfig({ acme: KEY }, ADMIN, (c) => { c.degradation.dwellMs = 1000; }), {
      VIGIL_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
  });

  after(async () => {
    await node?.stop();
    await killServer(redis);
  });

  it('reports L0 and the node breakers to a tenant key, more to the admin key, none to no key', async () => {
    const tenant = await call<Status>('GET', '/v1/status', undefined, KEY);
    assert.equal(tenant.status, 200);
    assert.equal(tenant.body.level, 0);
    assert.equal(tenant.body.levelName, 'full');
    assert.deepEqual(tenant.body.breakers, { graph_db: 'closed', ml_inference: 'closed' });
    assert.equal(tenant.body.dependencies, undefined, 'a tenant does not see the dependencies');
    const admin = await eventually(async () => {
      const s = await status();
      return s.dependencies?.cache === 'up' ? s : undefined; // Redis connected
    });
    assert.deepEqual(admin.dependencies, { model: 'up', graph: 'up', tsdb: 'up', cache: 'up', bus: 'up', webhook: 'up' });
    assert.equal((await call('GET', '/v1/status', undefined, null)).status, 401);
    assert.equal((await call('GET', '/v1/status', undefined, 'nope')).status, 401);
    const metrics = await call<string>('GET', '/metrics', undefined, null);
    assert.match(metrics.body, /^vigil_degradation_level 0$/m);
  });

  it('refuses bad fault requests and tenant keys', async () => {
    const bad = [
      { dependency: 'disk', mode: 'fail', durationMs: 1000 },
      { dependency: 'tsdb', mode: 'explode', durationMs: 1000 },
      { dependency: 'tsdb', mode: 'fail', durationMs: 0 },
      { dependency: 'tsdb', mode: 'fail', durationMs: '1000' },
      { dependency: 'tsdb', mode: 'fail', durationMs: 1000, extra: 1 },
      { dependency: 'tsdb', mode: 'fail' },
    ];
    for (const body of bad) {
      const r = await call<{ error: { code: string } }>('POST', '/v1/admin/faults', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    assert.equal((await call('POST', '/v1/admin/faults', { dependency: 'tsdb', mode: 'fail', durationMs: 1000 }, KEY)).status, 403);
    assert.equal((await call('DELETE', '/v1/admin/faults', undefined, KEY)).status, 403);
    assert.equal((await status()).level, 0, 'nothing refused was injected');
  });

  it('model → L1, model + graph → L2, and DELETE brings it back to L0 by itself', async () => {
    await fault('model');
    assert.equal((await level(1)).dependencies?.model, 'down');
    await fault('graph');
    // the graph's breaker opens on failing calls too: a topology read meets the fault
    assert.equal((await call('GET', '/v1/topology', undefined, KEY)).status >= 500, true);
    const l2 = await level(2);
    assert.equal(l2.levelName, 'no_ml');
    assert.equal(l2.dependencies?.graph, 'down');
    await clear();
    const back = await level(0);
    assert.deepEqual(back.faults, []);
    assert.equal(back.breakers.graph_db, 'closed');
    assert.equal((await call('GET', '/v1/topology', undefined, KEY)).status, 200);
  });

  it('a fault ends by itself after durationMs', async () => {
    await fault('model', 1500);
    await level(1);
    await level(0); // 1.5 s of fault, then 1 s of dwell
  });

  it('tsdb → L3 with the writers spilling, tsdb + bus → L4 (ingest 503); back to L0 with no acknowledged sample lost', async () => {
    for (let i = 0; i < 4; i++) assert.equal(await post(), 202);
    await fault('tsdb');
    // acknowledged while the store fails: these go to the log, then to the spill
    for (let i = 0; i < 4; i++) assert.equal(await post(), 202);
    const l3 = await level(3);
    assert.equal(l3.levelName, 'storage_degraded');
    await eventually(async () => (/spilling to disk/.test(node!.stderr()) ? true : undefined));
    await fault('bus');
    await level(4);
    const refused = await call<{ error: { code: string } }>('POST', '/v1/metrics', { series: [{ service: 'db', metric: 'latency_ms', samples: [[start + next * MIN, 1]] }] }, KEY);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'UNAVAILABLE');
    assert.match((await call<string>('GET', '/metrics', undefined, null)).body, /^vigil_degradation_level 4$/m);
    await clear();
    await level(0, 30_000);
    for (let i = 0; i < 2; i++) assert.equal(await post(), 202);
    const stored = await eventually(async () => {
      const r = await call<{ samples: unknown[] }>('GET', '/v1/series?service=db&metric=latency_ms', undefined, KEY);
      return r.status === 200 && r.body.samples.length === sent ? r.body.samples.length : undefined;
    }, 30_000);
    assert.equal(stored, sent);
  });

  it('operators force a breaker and hold a level; unknown breakers are 404', async () => {
    const forced = await call<{ state: string }>('POST', '/v1/admin/breakers/ml_inference', { command: 'open' });
    assert.equal(forced.status, 200);
    assert.equal(forced.body.state, 'forcedOpen');
    await level(1);
    assert.equal((await call<{ state: string }>('POST', '/v1/admin/breakers/ml_inference', { command: 'close' })).body.state, 'closed');
    await level(0);
    assert.equal((await call('POST', '/v1/admin/breakers/nope', { command: 'open' })).status, 404);
    assert.equal((await call('POST', '/v1/admin/breakers/graph_db', { command: 'explode' })).status, 400);
    const held = await call<Status & { override: { level: number } }>('POST', '/v1/admin/degrade', { level: 3, durationMs: 60_000 });
    assert.equal(held.status, 200);
    assert.equal(held.body.level, 3);
    assert.equal(held.body.override.level, 3);
    assert.equal((await call<Status>('POST', '/v1/admin/degrade', { level: 0, durationMs: 1 })).body.level, 0);
  });

  it('a real Redis outage shows as cache down and leaves the node at L0', async () => {
    await killServer(redis);
    const down = await eventually(async () => {
      const s = await status();
      return s.dependencies?.cache === 'down' ? s : undefined;
    });
    assert.equal(down.level, 0);
    assert.equal((await call('GET', '/v1/topology', undefined, KEY)).status, 200, 'reads go on without Redis');
    redis = await startRedis(redisPort);
    const up = await eventually(async () => {
      const s = await status();
      return s.dependencies?.cache === 'up' ? s : undefined;
    }, 30_000);
    assert.equal(up.level, 0);
  });
});
