// `vigil start` as a real process: configured from environment and flags, serving on a
// free port, operated with `vigil ctl`, logging JSON lines with the context keys, and
// stopping cleanly on SIGTERM (or dying for real on SIGKILL).
import { strict as assert } from 'node:assert';
import type { TreeNode } from '../api/index.ts';
import { runVigil, spawnVigil, type Running } from './support/cli-process.ts';
import { flattenTree, type ActorRow } from '../supervisors/index.ts';

const DEMO_KEY = 'demo-key-0123456789';
const ADMIN = 'admin-key-0123456789';

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  node?: string;
  tenant?: string | null;
  actor?: string | null;
  reqId?: string | null;
}

/** The first actor of a tree (depth-first) that passes `pred`. */
const find = (tree: TreeNode, pred: (n: ActorRow) => boolean): ActorRow | undefined => flattenTree(tree).find(pred);

describe('cli: vigil start and vigil ctl against it', function () {
  this.timeout(90_000);
  let node: Running;
  let url: string;

  before(async () => {
    node = spawnVigil(['start', '--port', '0', '--node-id', 'cli-test', '--log-level', 'debug'], {
      VIGIL_DEMO_API_KEY: DEMO_KEY, VIGIL_ADMIN_API_KEY: ADMIN, VIGIL_PORT: '1', VIGIL_CONFIG: '',
    });
    const ready = JSON.parse(await node.waitFor((l) => l.includes('vigil node ready'), 60_000)) as LogLine;
    url = ready.url!;
  });
  after(async () => { await node?.stop('SIGKILL'); });

  it('listens on the port the flag asked for (0: a free one), over the environment\'s', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(url).port, '1');
    const res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
  });

  it('has the demo tenant with VIGIL_DEMO_API_KEY and refuses other keys', async () => {
    const ok = await fetch(`${url}/v1/incidents`, { headers: { authorization: `Bearer ${DEMO_KEY}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { incidents: unknown[] }).incidents, []);
    const bad = await fetch(`${url}/v1/incidents`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
  });

  it('shows the supervision tree with vigil ctl tree (text and --json)', async () => {
    // a sample makes the tenant's actors exist
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEMO_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ service: 'db', metric: 'latency_ms', samples: [[Date.now() - 1000, 4]] }] }),
    });
    assert.equal(res.status, 202, await res.text());
    const json = await runVigil(['ctl', 'tree', '--url', url, '--admin-key', ADMIN, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const tree = JSON.parse(json.stdout) as TreeNode;
    assert.equal(tree.path, '/root');
    assert.ok(find(tree, (n) => n.path === '/root/tenants'), 'the tenants supervisor is in the tree');

    const text = await runVigil(['ctl', 'tree', '--url', url], { VIGIL_ADMIN_API_KEY: ADMIN });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^PATH\s+KIND\s+STATUS\s+RESTARTS\s+MAILBOX$/);
    assert.match(lines[1]!, /^\/root\s+\S+\s+running\s+\d+\s+\d+$/);
    assert.ok(lines.some((l) => /^ {2}\/root\/tenants\s/.test(l)), `indented child: ${text.stdout}`);
  });

  it('restarts an actor with vigil ctl restart, and refuses an unknown path or a wrong key', async () => {
    const r = await runVigil(['ctl', 'restart', '/root/tenants', '--url', url, '--admin-key', ADMIN]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'restarted /root/tenants\n');
    const after = JSON.parse((await runVigil(['ctl', 'tree', '--json', '--url', url, '--admin-key', ADMIN])).stdout) as TreeNode;
    assert.ok(find(after, (n) => n.path === '/root/tenants')!.restarts >= 1, 'the restart is counted');

    const missing = await runVigil(['ctl', 'restart', '/root/nope', '--url', url, '--admin-key', ADMIN]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^vigil ctl restart: POST \/v1\/admin\/restart: HTTP 404: .+\n$/);
    const wrong = await runVigil(['ctl', 'tree', '--url', url, '--admin-key', 'wrong']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^vigil ctl tree: the node refused the admin key \(HTTP 401/);
  });

  it('logs JSON lines that all carry node, tenant, actor and reqId', () => {
    const logs = node.lines.map((l) => JSON.parse(l) as LogLine);
    assert.ok(logs.length >= 2);
    for (const l of logs) {
      assert.equal(l.node, 'cli-test', JSON.stringify(l));
      for (const k of ['tenant', 'actor', 'reqId'] as const) assert.ok(k in l, `${k} on ${JSON.stringify(l)}`);
    }
    assert.ok(logs.some((l) => typeof l.reqId === 'string' && l.reqId !== ''), 'request lines carry their request id');
    for (const raw of node.lines) {
      for (const k of ['node', 'tenant', 'actor', 'reqId']) assert.equal(raw.split(`"${k}":`).length, 2, `${k} once in ${raw}`);
    }
  });

  it('refuses a second node on the same port in one line with exit 2', async () => {
    const r = await runVigil(['start', '--port', new URL(url).port, '--log-level', 'silent'], { VIGIL_CONFIG: '' });
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`127\\.0\\.0\\.1:${new URL(url).port}.*(EADDRINUSE|in use)`));
  });

  it('stops cleanly on SIGTERM with exit 0', async () => {
    const code = await node.stop('SIGTERM');
    assert.equal(code, 0, node.stderr());
    assert.ok(node.lines.some((l) => l.includes('"msg":"stopped"')));
    const gone = await fetch(`${url}/healthz`).then(() => 'up', () => 'down');
    assert.equal(gone, 'down');
  });
});

describe('cli: vigil start killed for real', function () {
  this.timeout(90_000);

  it('dies on SIGKILL and its port stops answering', async () => {
    const node = spawnVigil(['start', '--port', '0', '--log-level', 'info'], { VIGIL_CONFIG: '' });
    const ready = JSON.parse(await node.waitFor((l) => l.includes('vigil node ready'), 60_000)) as LogLine;
    assert.equal((await fetch(`${ready.url!}/healthz`)).status, 200);
    const code = await node.stop('SIGKILL');
    assert.equal(code, null, 'killed by the signal, not exited');
    assert.equal(node.child.signalCode, 'SIGKILL');
    assert.equal(await fetch(`${ready.url!}/healthz`).then(() => 'up', () => 'down'), 'down');
  });
});
