// Fuzz of the WebSocket surface on a real gateway (sockets, since the stream is an upgrade):
// client messages of every size and kind (the stream takes none: each is ignored, or over
// 4 KB closes the stream with 1009), raw frames broken at the byte level after a good
// handshake (the stream is closed, the node serves on), and upgrade requests with broken
// keys, versions, paths, queries and credentials (a 4xx, or 101 only for a tenant's key).
// No input changes the node's state, and after each batch the node still answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import fc from 'fast-check';
import pino from 'pino';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../api/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';
import { counted, FUZZ_SEED, recordingEngine, runs, tally, type RecordingEngine } from './support/fuzz.ts';
import { enc, nastyString } from './support/fuzz-inputs.ts';

const BATCH = 50;

/** A client message: text or bytes, mostly small, some at and over the 4 KB limit. */
const message: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 4, arbitrary: nastyString.map((s) => s.slice(0, 4096)) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j).slice(0, 4096)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"subscribe","tenant":"globex"}', '{"tenant":"globex"}', '', 'x'.repeat(4096), Buffer.alloc(4096)) },
);

/** A frame as a client would put it on the wire, broken: opcodes, flags, lengths, masks, UTF-8. */
const rawFrame: fc.Arbitrary<Buffer> = fc.tuple(fc.integer({ min: 0, max: 15 }), fc.nat(7), fc.boolean(), fc.boolean(), fc.uint8Array({ maxLength: 200 }), fc.nat(4))
  .map(([opcode, rsv, fin, masked, payload, lengthTrick]) => {
    const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
    const len = lengthTrick === 0 ? 126 : lengthTrick === 1 ? 127 : payload.length;
    head.push((masked ? 0x80 : 0) | Math.min(len, 127));
    if (len === 126) head.push(0xff, 0xff);
    if (len === 127) head.push(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const mask = masked ? [1, 2, 3, 4] : [];
    return Buffer.from([...head, ...mask, ...payload]);
  });

/** An upgrade request with something wrong (or, now and then, nothing wrong). */
const upgrade: fc.Arbitrary<string> = fc.record({
  path: fc.oneof(fc.constant('/v1/stream'), fc.constantFrom('/v1/stream/', '/v1/Stream', '/v1/stream/x', '//v1/stream', '/v1/stream%00', '/v1/%73tream', '/', '/v1/incidents'), nastyString.map(enc).map((s) => `/${s}`)),
  query: fc.oneof(fc.constant(''), fc.constantFrom(`?api_key=${KEYS.acme}`, `?api_key=${KEYS.admin}`, '?api_key=', '?api_key', `?api_key=${KEYS.acme}&api_key=${KEYS.globex}`, '?tenant=globex'), nastyString.map((s) => `?api_key=${enc(s)}`)),
  auth: fc.oneof(fc.constant(`Bearer ${KEYS.acme}`), fc.constantFrom('', 'Bearer', `Basic ${KEYS.acme}`, `Bearer ${KEYS.admin}`, `Bearer ${KEYS.acme}x`, `Bearer ${'k'.repeat(3000)}`)),
  key: fc.oneof(fc.constant(randomBytes(16).toString('base64')), fc.constantFrom('', 'short', '!!!!', 'a'.repeat(100))),
  version: fc.constantFrom('13', '8', '', '13, 8', 'x'),
  upgrade: fc.constantFrom('websocket', 'WebSocket', 'h2c', ''),
  connection: fc.constantFrom('Upgrade', 'upgrade, keep-alive', 'close', ''),
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD'),
}).map((r) => [
  `${r.method} ${r.path}${r.query} HTTP/1.1`, 'Host: x',
  ...(r.upgrade ? [`Upgrade: ${r.upgrade}`] : []), ...(r.connection ? [`Connection: ${r.connection}`] : []),
  ...(r.key ? [`Sec-WebSocket-Key: ${r.key}`] : []), ...(r.version ? [`Sec-WebSocket-Version: ${r.version}`] : []),
  ...(r.auth ? [`Authorization: ${r.auth}`] : []), '', '',
].join('\r\n'));

/** Writes bytes on a fresh connection; the status line of the answer and whether the socket closed. */
function exchange(port: number, request: string, after?: Buffer): Promise<{ status: number; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), closed });
    };
    socket.on('data', (c: Buffer) => {
      const first = text === '';
      text += c.toString('latin1');
      if (first && after && text.startsWith('HTTP/1.1 101')) socket.write(after);
      else if (!after || !text.startsWith('HTTP/1.1 101')) done(false);
    });
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
    const timer = setTimeout(() => done(false), after ? 30 : 3000);
  });
}

describe('fuzz: the WebSocket stream (a real gateway)', function () {
  this.timeout(300_000);
  let node: NodeHandle;
  let gw: Gateway;
  let rec: RecordingEngine;

  before(async () => {
    node = await startTestNode();
    rec = recordingEngine(node.engine);
    gw = await startGateway(rec.engine, testConfig(), pino({ level: 'silent' }), { stream: { pingIntervalMs: 3_600_000 } });
  });
  after(async () => {
    await gw?.close();
    await node?.stop();
  });

  async function stillServing(): Promise<void> {
    const r = await gw.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 200);
    assert.equal(rec.changes(), 0, `a stream input changed state (${rec.lastChange()})`);
  }

  it('client messages of every kind are ignored; over 4 KB closes the stream with 1009', async () => {
    let ws: WebSocket | undefined;
    const open = async (): Promise<WebSocket> => {
      const c = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
      c.on('error', () => {});
      await once(c, 'open');
      return c;
    };
    const batches = Math.ceil(runs('websocket: client messages') / BATCH);
    const arb = fc.tuple(fc.array(message, { minLength: BATCH, maxLength: BATCH }), fc.nat(9));
    await fc.assert(fc.asyncProperty(arb, async ([messages, oversize]) => {
      ws ??= await open();
      for (const m of messages) ws.send(m);
      // the server read every message before it answers this ping
      ws.ping();
      await once(ws, 'pong');
      assert.equal(ws.readyState, WebSocket.OPEN, 'messages up to 4 KB leave the stream open');
      for (let i = 0; i < messages.length; i++) tally('websocket: client messages', 'refused');
      if (oversize === 0) {
        const closed = once(ws, 'close');
        ws.send(Buffer.alloc(4097 + oversize * 1000));
        const [code] = (await closed) as [number];
        assert.equal(code, 1009);
        tally('websocket: client messages', 'refused');
        ws = undefined;
      }
    }), { numRuns: batches, seed: FUZZ_SEED, endOnFailure: true });
    ws?.close();
    await stillServing();
  });

  it('raw frames broken at the byte level after a good handshake: the stream ends, the node serves on', async () => {
    const handshake = [`GET /v1/stream HTTP/1.1`, 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13', `Authorization: Bearer ${KEYS.acme}`, '', ''].join('\r\n');
    await fc.assert(fc.asyncProperty(fc.array(rawFrame, { minLength: 1, maxLength: 4 }), async (frames) => {
      const r = await exchange(gw.port, handshake, Buffer.concat(frames));
      assert.equal(r.status, 101);
      tally('websocket: raw frames', 'refused');
    }), { numRuns: runs('websocket: raw frames'), seed: FUZZ_SEED, endOnFailure: true });
    await stillServing();
  });

  it('upgrade requests: a 4xx, or 101 only for a tenant\'s key on the stream path', async () => {
    const good = [`GET /v1/stream HTTP/1.1`, 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13', `Authorization: Bearer ${KEYS.acme}`, '', ''].join('\r\n');
    assert.equal((await exchange(gw.port, good)).status, 101, 'a good upgrade passes (the check below is not refusing everything)');
    await fc.assert(fc.asyncProperty(upgrade, async (request) => {
      const r = await exchange(gw.port, request);
      assert.ok(r.status < 500, `${r.status} for ${request.slice(0, 300)}`);
      if (r.status === 101) {
        assert.match(request, /^GET \/v1\/stream(\?|\s)/);
        assert.ok(request.includes(`Bearer ${KEYS.acme}\r\n`) || (!/Authorization: Bearer \S/.test(request) && request.includes(`api_key=${KEYS.acme}`)), request);
        tally('websocket: upgrade requests', 'accepted');
      } else {
        tally('websocket: upgrade requests', 'refused');
      }
    }), { numRuns: runs('websocket: upgrade requests'), seed: FUZZ_SEED, endOnFailure: true });
    assert.ok(counted('websocket: upgrade requests').refused > 0);
    await stillServing();
  });
});
