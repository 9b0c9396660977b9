// bench:tenancy --split's prototype gateway (bench/tenancy-gateway.ts): a process of its own that
// acknowledges a batch once it is in its log and then forwards it to the node. Checked against a
// small HTTP server standing for the node, which records what reaches it.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningChild } from '../bench/listening-child.ts';
import type { GatewaySpec } from '../bench/tenancy-gateway.ts';
import { wire } from '../protocols/index.ts';

function batch(samples: number): Uint8Array {
  const timestamps = Array.from({ length: samples }, (_, i) => 1_700_000_000_000 + i * 1000);
  return wire.MetricBatch.encode({ tenant: '', series: [{ service: 's', metric: 'm', labels: {}, timestamps, values: timestamps.map(() => 1) }] }).finish();
}

describe('bench:tenancy split gateway (prototype)', () => {
  let child: ChildProcess;
  let base: string;
  let dir: string;
  let node: http.Server;
  const reached: Array<{ key: string; body: Buffer }> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-split-gateway-'));
    node = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        reached.push({ key: String(req.headers.authorization), body: Buffer.concat(chunks) });
        res.writeHead(202).end('{"accepted":0}');
      });
    });
    node.listen(0, '127.0.0.1');
    await once(node, 'listening');
    const spec: GatewaySpec = { node: `http://127.0.0.1:${(node.address() as AddressInfo).port}`, log: join(dir, 'gateway.log'), quotas: { ka: 100, kb: 1000 } };
    ({ child, url: base } = await listeningChild(new URL('../bench/tenancy-gateway.ts', import.meta.url), [JSON.stringify(spec)], 'the gateway'));
    assert.match(base, /:[1-9]\d*$/, 'the gateway reports the port it listens on');
  });

  after(async () => {
    if (child.exitCode === null) {
      child.send({ exit: true });
      await once(child, 'exit');
    }
    node.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (key: string, body: Uint8Array) => fetch(`${base}/v1/metrics`, {
    method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' },
  });

  it('acknowledges a batch once it is in the log, with its count, then forwards it with the same key', async () => {
    const body = batch(10);
    const res = await post('kb', body);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: 10 });
    assert.deepEqual(await readFile(join(dir, 'gateway.log')), Buffer.from(body), 'the log holds the acknowledged body');
    for (let i = 0; i < 100 && reached.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(reached.length, 1, 'the node got the batch');
    assert.deepEqual(reached[0], { key: 'Bearer kb', body: Buffer.from(body) });
  });

  it("refuses a tenant over its bucket with 429 and Retry-After, and forwards nothing of it", async () => {
    assert.equal((await post('ka', batch(100))).status, 202, 'the burst');
    const res = await post('ka', batch(100));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await res.json() as { error: { code: string } }).error.code, 'QUOTA_EXCEEDED');
    for (let i = 0; i < 100 && reached.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(reached.filter((r) => r.key === 'Bearer ka').length, 1, 'only the admitted batch reached the node');
  });

  it('answers 401 to an unknown key and 400 to a body that is not a MetricBatch', async () => {
    assert.equal((await post('nobody', batch(1))).status, 401);
    assert.equal((await post('kb', new Uint8Array([0xff, 0xff, 0xff, 0xff]))).status, 400);
  });

  it('exits when told, reporting what the node refused or never got', async () => {
    const counts = once(child, 'message');
    const exited = once(child, 'exit');
    child.send({ exit: true });
    assert.deepEqual((await counts)[0], { forwardRefused: 0, forwardFailed: 0 });
    assert.equal((await exited)[0], 0);
  });
});
