// Supervision on a real node process: a ServiceActor whose detector throws on a poisoned
// sample is restarted while the node keeps ingesting; restarts show in /metrics and in
// `vigil ctl tree`; too many crashes in the period escalate to the TenantActor.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TreeNode } from '../api/engine.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { flattenTree, type ActorRow } from '../supervisors/index.ts';

const run = promisify(execFile);
const KEY = 'acme-key-0123456789';
const ADMIN = 'admin-key-0123456789';
const POISON = 666.25;

/** The first actor of a tree (depth-first) that passes `pred`. */
const find = (tree: TreeNode, pred: (n: ActorRow) => boolean): ActorRow | undefined => flattenTree(tree).find(pred);

describe('node supervision: poisoned samples', function () {
  this.timeout(90_000);
  let node: TestNode;
  let t = Date.now() - 3_600_000;

  const send = async (service: string, values: number[]): Promise<number> => {
    const samples = values.map((v): [number, number] => [(t += 1000), v]);
    const res = await fetch(`${node.url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ service, metric: 'cpu', samples }] }),
    });
    return res.status;
  };
  const tree = async (): Promise<TreeNode> => {
    const res = await fetch(`${node.url}/v1/admin/tree`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as TreeNode;
  };
  const restartsOf = async (pathEnd: string): Promise<number> =>
    find(await tree(), (n) => n.path.endsWith(pathEnd))?.restarts ?? -1;

  before(async () => {
    node = await startNodeProcess(testConfig({ acme: KEY }, ADMIN), { VIGIL_TEST_POISON: String(POISON) });
  });
  after(async () => { await node?.stop(); });

  it('restarts the ServiceActor and keeps every later sample', async () => {
    assert.equal(await send('checkout', [1, 2, 3]), 202);
    await eventually(async () => (find(await tree(), (n) => n.path.endsWith('/acme/checkout')) ? true : undefined));
    assert.equal(await send('checkout', [4, POISON, 5]), 202);
    await eventually(async () => ((await restartsOf('/acme/checkout')) >= 1 ? true : undefined));
    assert.equal(await send('checkout', [6, 7]), 202);
    const samples = await eventually(async () => {
      const res = await fetch(`${node.url}/v1/series?service=checkout&metric=cpu`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = (await res.json()) as { samples: Array<[number, number]> };
      return body.samples.some((s) => s[1] === 7) ? body.samples : undefined;
    });
    // Raw samples are stored even when their detector throws, so the batch that crashed is kept;
    // the samples judged before the throw keep their verdicts, the rest of the batch has none.
    assert.deepEqual(samples.map((s) => s[1]), [1, 2, 3, 4, POISON, 5, 6, 7]);
    const band = await fetch(`${node.url}/v1/series/band?service=checkout&metric=cpu`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(band.status, 200);
    assert.deepEqual(((await band.json()) as { points: Array<{ value: number }> }).points.map((p) => p.value), [1, 2, 3, 4, 6, 7]);

    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    const m = /^vigil_actor_restarts_total (\d+)/m.exec(metrics);
    assert.ok(m && Number(m[1]) >= 1, 'vigil_actor_restarts_total counts the restart');

    // the crash is logged in the tenant's context
    const crash = node.stderr().split('\n').filter((l) => l.includes('actor crashed')).map((l) => JSON.parse(l) as { tenant?: string; actor?: string });
    assert.ok(crash.length >= 1, 'the crash is logged');
    assert.deepEqual({ tenant: crash[0]!.tenant, actor: crash[0]!.actor?.endsWith('/acme/checkout') }, { tenant: 'acme', actor: true });
  });

  it('shows the restart in `vigil ctl tree`', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'ctl', 'tree', '--url', node.url, '--admin-key', ADMIN, '--json']);
    const shown = JSON.parse(stdout) as TreeNode;
    const svc = find(shown, (n) => n.path.endsWith('/acme/checkout'));
    assert.ok(svc, 'the checkout ServiceActor is in the tree');
    assert.equal(svc.kind, 'service');
    assert.ok(svc.restarts >= 1);
    const text = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'ctl', 'tree', '--url', node.url, '--admin-key', ADMIN]);
    assert.match(text.stdout, /checkout/);
  });

  it('escalates to the TenantActor when the intensity is exceeded, and the node keeps serving', async () => {
    const before = await restartsOf('/tenants/acme');
    for (let i = 0; i < 5; i++) assert.equal(await send('payments', [POISON]), 202);
    await eventually(async () => ((await restartsOf('/tenants/acme')) > before ? true : undefined));
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
    assert.equal(await send('payments', [1, 2]), 202);
    await eventually(async () => {
      const res = await fetch(`${node.url}/v1/series?service=payments&metric=cpu`, { headers: { authorization: `Bearer ${KEY}` } });
      const body = (await res.json()) as { samples: Array<[number, number]> };
      return body.samples.some((s) => s[1] === 2) ? true : undefined;
    });
    assert.match(node.stderr(), /escalat/i);
  });
});
