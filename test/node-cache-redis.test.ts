// The node's cache over a Redis the test runs on a spare port: killing Redis mid-run costs
// no client an error (L1 and the stores carry on), shows in /metrics, and L2 is used again
// once Redis is back.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { freePort, startRedis } from './support/local-servers.ts';

const KEY = 'cache-key-1';

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

describe('the node\'s cache when its Redis dies and comes back (real processes)', function () {
  this.timeout(120_000);
  let node: TestNode | undefined;
  let redis: ChildProcess | undefined;
  after(async () => {
    await node?.stop();
    if (redis && redis.exitCode === null) redis.kill('SIGKILL');
  });

  it('serves every read through the outage and uses Redis again afterwards', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    node = await startNodeProcess(testConfig({ acme: KEY }, 'cache-admin-1'), { VIGIL_REDIS_URL: `redis://127.0.0.1:${port}` });
    const topology = { services: [{ name: 'api', dependsOn: ['db'] }, { name: 'db', dependsOn: [] }] };
    const put = await fetch(`${node.url}/v1/topology`, { method: 'PUT', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(topology) });
    assert.equal(put.status, 200);
    const read = async (): Promise<void> => {
      const res = await fetch(`${node!.url}/v1/topology`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as typeof topology).services.map((s) => s.name), ['api', 'db']);
    };
    await eventually(async () => ((await gauge(node!.url, 'vigil_cache_l2_up')) === 1 ? true : undefined), 20_000);
    for (let i = 0; i < 20; i++) await read();

    redis.kill('SIGKILL');
    await once(redis, 'exit');
    for (let i = 0; i < 50; i++) await read(); // no error reaches a client
    await eventually(async () => ((await gauge(node!.url, 'vigil_cache_l2_up')) === 0 ? true : undefined), 20_000);

    redis = await startRedis(port);
    await eventually(async () => {
      await read();
      return (await gauge(node!.url, 'vigil_cache_l2_up')) === 1 ? true : undefined;
    }, 30_000, 200);
  });
});
