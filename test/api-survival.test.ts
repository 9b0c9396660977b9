// A node in its own process takes a barrage of hostile input — random bytes as protobuf,
// truncated bodies, lying Content-Length, aborted uploads, garbage HTTP — and keeps
// serving, with every sample it accepted before still readable.
import assert from 'node:assert/strict';
import net from 'node:net';
import { encodeMetricBatch } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { KEYS, spawnTestNode, type ChildNode } from './support/api-node.ts';

/** Deterministic bytes (xorshift32), so a failure replays. */
function randomBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Sends raw bytes on a fresh TCP connection; resolves with whatever comes back before close. */
function raw(url: string, bytes: string | Uint8Array, opts: { endAfterWrite?: boolean; destroyAfterMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (opts.endAfterWrite) socket.end();
      if (opts.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), opts.destroyAfterMs);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    setTimeout(() => socket.destroy(), 3000);
  });
}

describe('api: the node survives hostile input (separate process)', () => {
  let node: ChildNode;
  let api: ApiClient;
  const t0 = Date.now() - 60_000;
  const accepted: Array<[number, number]> = [[t0, 1], [t0 + 1000, 2], [t0 + 2000, 3]];

  async function stillServing(): Promise<void> {
    assert.equal(node.child.exitCode, null, 'the node process is alive');
    assert.equal((await api.get('/healthz')).status, 200);
    assert.deepEqual(await api.samples('checkout', 'latency_ms'), accepted);
  }

  before(async () => {
    node = await spawnTestNode();
    api = new ApiClient(node.url, KEYS.acme);
    assert.equal((await api.postProtobuf([{ service: 'checkout', metric: 'latency_ms', samples: accepted }])).status, 202);
    await eventually(async () => ((await api.samples('checkout', 'latency_ms')).length === 3 ? true : undefined), 'accepted samples');
  });
  after(async () => node.stop());

  it('refuses 300 random byte strings sent as protobuf, each with a 4xx', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const body = randomBytes(i + 1, 1 + ((i * 37) % 2000));
      const r = await api.request<ErrorReply>('POST', '/v1/metrics', body, { 'content-type': 'application/x-protobuf' });
      assert.ok(r.status >= 400 && r.status < 500, `seed ${i + 1}: status ${r.status}`);
      assert.ok(r.body.error.message.length > 0);
      statuses.add(r.status);
    }
    assert.deepEqual([...statuses], [400]);
    await stillServing();
  });

  it('refuses every truncation of a valid protobuf batch or accepts it whole', async () => {
    const full = encodeMetricBatch('', [{ service: 'trunc', metric: 'm', labels: { a: 'b' }, samples: [[t0, 1], [t0 + 1, 2]] }]);
    for (let n = 1; n < full.length; n++) {
      const r = await api.request<{ accepted?: number } & Partial<ErrorReply>>('POST', '/v1/metrics', full.subarray(0, n), { 'content-type': 'application/x-protobuf' });
      // a prefix can still be a valid (smaller) message; otherwise it must be a 400
      assert.ok(r.status === 400 || r.status === 202, `prefix ${n}: ${r.status}`);
    }
    await stillServing();
  });

  it('survives lying Content-Length, aborted uploads and garbage HTTP', async () => {
    const head = (len: number, type = 'application/json') =>
      `POST /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: ${type}\r\nContent-Length: ${len}\r\n\r\n`;
    // says 1000 bytes, sends 10 and closes its side
    await raw(node.url, `${head(1000)}{"series":`, { endAfterWrite: true });
    // says 10 bytes, sends more (the rest is a second, garbage request)
    const extra = await raw(node.url, `${head(10)}{"series":[]} and then some`, { endAfterWrite: true });
    assert.match(extra, /^HTTP\/1\.1 4\d\d/);
    // an upload cut off in the middle
    await raw(node.url, `${head(100_000, 'application/x-protobuf')}${'x'.repeat(5000)}`, { destroyAfterMs: 50 });
    // a Content-Length over the body limit is refused before the body is read
    const over = await raw(node.url, head(10_000_000), { endAfterWrite: true });
    assert.match(over, /^HTTP\/1\.1 413/);
    // not HTTP at all
    const junk = await raw(node.url, randomBytes(7, 512), { endAfterWrite: true });
    assert.match(junk, /^HTTP\/1\.1 400|^$/);
    // a header block far too large
    await raw(node.url, `GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, { endAfterWrite: true });
    await stillServing();
  });

  it('refuses deeply nested and huge-number JSON without harm', async () => {
    const deep = `{"series":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    assert.equal((await api.request('POST', '/v1/metrics', deep)).status, 400);
    const longNumber = `{"series":[{"service":"a","metric":"b","samples":[[${'9'.repeat(400)},1]]}]}`;
    assert.equal((await api.request('POST', '/v1/metrics', longNumber)).status, 400);
    await stillServing();
  });
});
