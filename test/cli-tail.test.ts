// `vigil tail` as a real process against a real node process: a spike posted over HTTP
// shows up as live anomaly, alert and incident lines (readable and --json), only on the
// tail of the tenant it belongs to; a wrong key, an unreachable node and bad flags are one
// line with exit 2; SIGINT ends it with 0; when the node goes away it ends (--no-reconnect)
// or reconnects to the node that comes back on the same port.
import { strict as assert } from 'node:assert';
import { SeededRng } from '../actors/runtime/index.ts';
import type { LiveEvent } from '../protocols/index.ts';
import { runVigil, spawnVigil, type Running, oneLineError } from './support/cli-process.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { freePort } from './support/local-servers.ts';

const KEYS = { acme: 'acme-tail-key-0123456789', globex: 'globex-tail-key-0123456789' };
const ADMIN = 'admin-tail-key-0123456789';
const STEP = 10_000;

/** Starts `vigil tail` and waits until it says it is connected. */
async function tail(url: string, key: string, ...flags: string[]): Promise<Running> {
  const t = spawnVigil(['tail', '--url', url, ...flags], { VIGIL_API_KEY: key });
  await eventually(async () => (t.stderr().includes('connected to ') ? true : undefined), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; tail stderr: ${t.stderr()}`);
  });
  return t;
}

/** 400 clean samples of latency, the last 10 eight times higher: one anomaly episode. */
async function postSpike(url: string, key: string, service: string, start: number, diag: () => string = () => ''): Promise<void> {
  const rng = new SeededRng(7);
  const samples = Array.from({ length: 400 }, (_, i): [number, number] => {
    const v = 40 + rng.normal() * 0.8;
    return [start + i * STEP, i >= 390 ? v * 8 : v];
  });
  for (let i = 0; i < samples.length; i += 100) {
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ service, metric: 'latency_ms', labels: { region: 'eu' }, samples: samples.slice(i, i + 100) }] }),
    });
    assert.equal(res.status, 202, `${await res.text()} ${diag()}`);
  }
}

describe('cli: vigil tail', function () {
  this.timeout(120_000);
  let node: TestNode;
  const tails: Running[] = [];

  before(async () => {
    node = await startNodeProcess(testConfig(KEYS, ADMIN));
  });
  after(async () => {
    await Promise.all(tails.map((t) => t.stop('SIGKILL')));
    await node?.stop();
  });

  it('prints the tenant\'s live anomaly, alert and incident as lines (and --json), and nothing to another tenant', async () => {
    const text = await tail(node.url, KEYS.acme);
    const json = await tail(node.url, KEYS.acme, '--json');
    const other = await tail(node.url, KEYS.globex);
    tails.push(text, json, other);
    await postSpike(node.url, KEYS.acme, 'payments', Date.now() - 400 * STEP, node.stderr);

    const incident = await text.waitFor((l) => / incident {2}opened /.test(l), 60_000);
    assert.match(incident, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}incident {2}opened inc_\S+ "[^"]*payments[^"]*" \(services: payments; peak score [01]\.\d{3}; \d+ alerts?\)$/);
    const id = /opened (inc_\S+) /.exec(incident)![1]!;
    const anomaly = await text.waitFor((l) => / anomaly {3}/.test(l));
    assert.match(anomaly, /^\S+ \S+Z {2}anomaly {3}payments latency_ms\{region=eu\} = \d+(\.\d+)? \(expected \d+(\.\d+)?, score [01]\.\d{3}, up\)$/);
    const alert = await text.waitFor((l) => / alert {5}/.test(l));
    assert.match(alert, new RegExp(`^\\S+ \\S+Z {2}alert {5}(warning|critical) payments latency_ms\\{region=eu\\} score [01]\\.\\d{3} \\(incident ${id}\\)$`));

    // --json: one stream event per line, the same incident, of this tenant only
    const line = await json.waitFor((l) => l.includes('"type":"incident"'), 30_000);
    const event = JSON.parse(line) as LiveEvent;
    assert.equal(event.type, 'incident');
    assert.equal(event.data.id, id);
    assert.equal(event.data.tenant, 'acme');
    await json.waitFor((l) => l.includes('"type":"anomaly"'));
    for (const l of json.lines) assert.doesNotThrow(() => JSON.parse(l), l);

    // the other tenant's tail saw none of it (acme's events have all reached acme's tails)
    assert.deepEqual(other.lines, []);

    // Ctrl-C: a clean stop
    assert.equal(await text.stop('SIGINT'), 0, text.stderr());
  });

  it('refuses a wrong key, an admin key and bad flags in one line with exit 2', async () => {
    const [wrong, admin, noKey, badUrl, badFlag] = await Promise.all([
      runVigil(['tail', '--url', node.url, '--api-key', 'not-a-key']),
      runVigil(['tail', '--url', node.url], { VIGIL_API_KEY: ADMIN }),
      runVigil(['tail', '--url', node.url], { VIGIL_API_KEY: '' }),
      runVigil(['tail', '--url', 'ftp://example.org', '--api-key', 'k']),
      runVigil(['tail', '--follow']),
    ]);
    oneLineError(wrong, /^vigil tail: the node refused the API key \(HTTP 401: [^)]+\); pass the tenant's key with --api-key or VIGIL_API_KEY$/);
    oneLineError(admin, /^vigil tail: the node refused the API key \(HTTP 403: /);
    oneLineError(noKey, /^vigil tail: no API key: pass --api-key or set VIGIL_API_KEY/);
    oneLineError(badUrl, /^vigil tail: --url must be an http\(s\) or ws\(s\) URL \(got "ftp:\/\/example\.org"\)/);
    oneLineError(badFlag, /^vigil tail: unknown option --follow \(see vigil tail --help\)$/);
  });

  it('says in one line, exit 2, that a node that is not there cannot be reached', async () => {
    const port = await freePort();
    oneLineError(await runVigil(['tail', '--url', `http://127.0.0.1:${port}`, '--api-key', KEYS.acme]),
      new RegExp(`^vigil tail: cannot reach the node at ws://127\\.0\\.0\\.1:${port}/v1/stream \\(ECONNREFUSED\\); is it running\\? \\(--url\\)$`));
  });
});

describe('cli: vigil tail when the node goes away', function () {
  this.timeout(120_000);
  let node: TestNode | undefined;
  const tails: Running[] = [];
  after(async () => {
    await Promise.all(tails.map((t) => t.stop('SIGKILL')));
    await node?.stop();
  });

  it('ends with exit 0 under --no-reconnect; otherwise reconnects to the node back on the same port', async () => {
    node = await startNodeProcess(testConfig(KEYS, ADMIN));
    const port = Number(new URL(node.url).port);
    const once = await tail(node.url, KEYS.acme, '--no-reconnect');
    const keeps = await tail(node.url, KEYS.acme);
    tails.push(once, keeps);
    const exited = new Promise<number | null>((resolve) => once.child.once('exit', resolve));
    await node.stop(); // SIGTERM: the node closes its streams with 1001
    node = undefined;
    assert.equal(await exited, 0, once.stderr());
    assert.match(once.stderr(), /vigil tail: the node closed the stream \(code 1001: node shutting down\)\n$/);

    await eventually(async () => (keeps.stderr().includes('connection lost (code 1001') ? true : undefined));
    assert.equal(keeps.child.exitCode, null, 'the default tail keeps running');
    node = await startNodeProcess(testConfig(KEYS, ADMIN, (c) => { c.http.port = port; }));
    await eventually(async () => (keeps.stderr().includes('reconnected') ? true : undefined), 60_000);
    // and it streams again
    await postSpike(node.url, KEYS.acme, 'checkout', Date.now() - 400 * STEP, node.stderr);
    await keeps.waitFor((l) => / incident {2}opened inc_\S+ "[^"]*checkout/.test(l), 60_000);
    assert.equal(await keeps.stop('SIGINT'), 0);
  });
});
