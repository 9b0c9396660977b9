// Limits a hostile or broken client meets: a WebSocket consumer that stops reading is dropped
// (1013) once its unsent bytes would pass the bound, while a reading one on the same tenant is
// not; client messages over 4 KB close the stream (1009); request bodies over the limit get 413
// on every body route (by Content-Length and while streaming); a silent connection, slow
// headers and a slow body get 408 and the socket is closed; and no key reaches a log line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { compress } from 'snappyjs';
import WebSocket from 'ws';
import { startGateway, type Gateway } from '../api/index.ts';
import { REDACTED, redactingLogger, safeUrl } from '../api/redaction.ts';
import type { NodeHandle } from '../node/index.ts';
import { encodeMetricBatch } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, SMALL_BODY_LIMIT, startTestNode, testConfig } from './support/api-node.ts';

const wsUrl = (base: string, query = '') => `${base.replace(/^http/, 'ws')}/v1/stream${query}`;

/** Raw bytes on a fresh TCP connection, written a piece at a time; resolves with what came back by the close. */
function drip(port: number, pieces: string[], everyMs: number): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let i = 0;
    const timer = setInterval(() => { if (i < pieces.length && !socket.destroyed) socket.write(pieces[i++]!); }, everyMs);
    const giveUp = setTimeout(() => { socket.destroy(); resolve({ reply: Buffer.concat(chunks).toString(), closed: false }); }, 15_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ reply: Buffer.concat(chunks).toString(), closed: true });
    });
  });
}

describe('security: limits on clients (stream backpressure, body size, time, logs)', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  let acme: ApiClient;
  const t = Date.now() - 60_000;

  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
  });
  after(async () => node.stop());

  describe('WebSocket backpressure', () => {
    const BOUND = 64 * 1024;
    let gw: Gateway;
    const warnings: Array<Record<string, unknown>> = [];
    before(async () => {
      const sink = new Writable({ write(chunk: Buffer, _e, done) { warnings.push(JSON.parse(String(chunk)) as Record<string, unknown>); done(); } });
      gw = await startGateway(node.engine, testConfig(), pino({ level: 'warn' }, sink), { stream: { maxBufferedBytes: BOUND, pingIntervalMs: 3_600_000 } });
    });
    after(async () => gw.close());

    it('drops a real ws client that stops reading (1013) before its unsent bytes pass the bound; a reading client of the same tenant stays', async () => {
      let socket: net.Socket | undefined;
      const dial = ((opts: net.NetConnectOpts) => (socket = net.createConnection(opts))) as typeof net.createConnection;
      const slow = new WebSocket(wsUrl(gw.url), { headers: { authorization: `Bearer ${KEYS.acme}` }, createConnection: dial });
      await once(slow, 'open');
      const reader = new WebSocket(wsUrl(gw.url), { headers: { authorization: `Bearer ${KEYS.acme}` } });
      let read = 0;
      let largest = 0; // bytes of the largest event (an incident's grows with its alerts)
      reader.on('message', (d: Buffer) => { read++; largest = Math.max(largest, d.length); });
      await once(reader, 'open');
      socket!.pause(); // the slow client stops reading: what the node sends piles up in its buffers
      const slowClosed = once(slow, 'close');
      let dropped = false;
      void slowClosed.then(() => { dropped = true; });
      for (let round = 0; round < 40 && !warnings.some((w) => w.msg === 'dropping a slow stream consumer'); round++) {
        const series = Array.from({ length: 200 }, (_, i) => ({ service: 'flood', metric: `m${round}_${i}`, samples: [[t + round, SPIKE]] as Array<[number, number]> }));
        assert.equal((await acme.postProtobuf(series)).status, 202);
        await new Promise((r) => setTimeout(r, 200));
      }
      const warning = warnings.find((w) => w.msg === 'dropping a slow stream consumer');
      assert.ok(warning, 'the node dropped the slow consumer');
      assert.equal(warning.tenant, 'acme');
      // unsent bytes never pass the bound, but for one event sent to a consumer that had caught up
      assert.ok(typeof warning.buffered === 'number' && warning.buffered <= Math.max(BOUND, largest),
        `unsent bytes at the drop: ${String(warning.buffered)} (bound ${BOUND}, largest event ${largest})`);
      socket!.resume();
      const [code, reason] = (await slowClosed) as [number, Buffer];
      assert.ok(dropped);
      // 1013 when the close frame got through, 1006 when the node had to cut the socket after 1 s
      assert.ok(code === 1013 || code === 1006, `close code ${code}`);
      if (code === 1013) assert.match(String(reason), /slow consumer/);
      // the reading client got the flood and is still open
      assert.ok(read > 0);
      assert.equal(reader.readyState, WebSocket.OPEN);
      const before = read;
      assert.equal((await acme.postMetrics([{ service: 'after', metric: 'm', samples: [[t, SPIKE]] }])).status, 202);
      await eventually(async () => (read > before ? true : undefined), 'the reader keeps getting events');
      reader.close();
      await once(reader, 'close');
    });

    it('closes a stream whose client sends a message over 4 KB (1009) and ignores smaller ones', async () => {
      const ws = new WebSocket(wsUrl(gw.url), { headers: { authorization: `Bearer ${KEYS.acme}` } });
      await once(ws, 'open');
      for (const m of ['{}', 'not json', Buffer.from([0, 255, 1]), 'x'.repeat(4096)]) ws.send(m);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(ws.readyState, WebSocket.OPEN, 'small messages are ignored');
      const closed = once(ws, 'close');
      ws.send('x'.repeat(4097));
      const [code] = (await closed) as [number];
      assert.equal(code, 1009);
    });
  });

  describe('request size', () => {
    const over = SMALL_BODY_LIMIT + 1;

    it('refuses a body over the limit with 413 on every body route, by Content-Length and while streaming', async () => {
      const admin = new ApiClient(node.url, KEYS.admin);
      const cases: Array<[ApiClient, string, string, string | Uint8Array, Record<string, string>]> = [
        [acme, 'POST', '/v1/metrics', `{"series":[${' '.repeat(over)}]}`, {}],
        [acme, 'POST', '/v1/metrics', new Uint8Array(over), { 'content-type': 'application/x-protobuf' }],
        [acme, 'POST', '/api/v1/write', new Uint8Array(over), { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }],
        [acme, 'POST', '/v1/silences', `{"comment":"${'x'.repeat(over)}"}`, {}],
        [acme, 'PUT', '/v1/topology', `{"services":[${' '.repeat(over)}]}`, {}],
        [acme, 'POST', '/api/v2/alerts', `[${' '.repeat(over)}]`, {}],
        [admin, 'PUT', '/v1/admin/tenants/acme/runbooks', `# ${'x'.repeat(over)}`, { 'content-type': 'application/yaml' }],
        [admin, 'PUT', '/v1/admin/tenants', `{"tenants":[${' '.repeat(over)}]}`, {}],
      ];
      for (const [client, method, path, body, headers] of cases) {
        const r = await client.request<ErrorReply>(method, path, body, headers);
        assert.equal(r.status, 413, `${method} ${path} ${headers['content-type'] ?? 'json'}`);
        assert.equal(r.body.error.code, 'PAYLOAD_TOO_LARGE');
      }
      // chunked (no Content-Length): counted as it streams in
      const { port } = new URL(node.url);
      const chunk = 'x'.repeat(16 * 1024);
      const pieces = [`POST /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        ...Array.from({ length: 8 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`), '0\r\n\r\n'];
      const { reply } = await drip(Number(port), pieces, 5);
      assert.match(reply, /^HTTP\/1\.1 413 /);
      assert.equal((await acme.get('/healthz')).status, 200);
    });

    it('refuses a remote-write body that would decompress past the limit before decompressing it', async () => {
      const bomb = compress(Buffer.alloc(SMALL_BODY_LIMIT * 4)); // small on the wire
      assert.ok(bomb.length < SMALL_BODY_LIMIT);
      const r = await acme.request<ErrorReply>('POST', '/api/v1/write', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' });
      assert.equal(r.status, 413);
      assert.match(r.body.error.message, /decompress/);
    });
  });

  describe('request time', () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }), { timeouts: { headersMs: 400, requestMs: 1200, checkIntervalMs: 100 } });
    });
    after(async () => gw.close());

    it('closes a silent connection, slow headers and a slow body with 408', async () => {
      const [silent, slowHeaders, slowBody] = await Promise.all([
        drip(gw.port, [], 1000),
        drip(gw.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n'.split(''), 100),
        drip(gw.port, [`POST /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`, ...'{"series":['.split('')], 300),
      ]);
      for (const [name, r] of [['silent', silent], ['slow headers', slowHeaders], ['slow body', slowBody]] as const) {
        assert.ok(r.closed, `${name}: the node closed the connection`);
        assert.match(r.reply, /^HTTP\/1\.1 408 /, `${name}: ${r.reply.slice(0, 80)}`);
      }
      assert.match(slowBody.reply, /"code":"TIMEOUT"/);
    });

    it('keeps an open WebSocket stream past those limits (an upgraded socket is not a request)', async () => {
      const ws = new WebSocket(wsUrl(gw.url), { headers: { authorization: `Bearer ${KEYS.acme}` } });
      await once(ws, 'open');
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close();
      await once(ws, 'close');
    });
  });

  describe('secrets in logs', () => {
    it('censors keys and Authorization headers in whatever the gateway logs, and API keys in logged URLs', () => {
      const lines: string[] = [];
      const log = redactingLogger(pino({ level: 'trace' }, { write: (s: string) => { lines.push(s); } }));
      log.info({ headers: { authorization: 'Bearer s1', 'x-api-key': 's2', cookie: 's3', host: 'h' } }, 'a');
      log.child({ tenant: 'acme' }).warn({ req: { headers: { authorization: 'Bearer s4' } }, key: 's5', body: { apiKey: 's6', adminKey: 's7' } }, 'b');
      log.error({ err: new Error('x'), request: { headers: { authorization: 's8' } } }, 'c');
      const text = lines.join('');
      for (const s of ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8']) assert.doesNotMatch(text, new RegExp(`"${s}"|Bearer ${s}`), s);
      assert.equal(text.split(REDACTED).length - 1, 7);
      assert.match(text, /"host":"h"/, 'other fields stay');
      assert.equal(safeUrl('/v1/stream?x=1&api_key=abc&b=2'), `/v1/stream?x=1&api_key=${REDACTED}&b=2`);
    });

    it('censors secrets on every line of a node process, not only the gateway\'s: the root logger of `vigil start` redacts for every child', () => {
      // a child process, because createLogger writes to the process's own stdout
      const script = [
        "import { createLogger } from './cli/log.ts';",
        "const log = createLogger({ level: 'info', pretty: false, node: 'n1' });",
        "log.child({ actor: 'cluster' }).warn({ key: 's1', headers: { authorization: 'Bearer s2' } }, 'a');",
        "log.child({ tenant: 'acme' }).child({ actor: 'webhook' }).info({ target: { password: 's3' }, adminKey: 's4' }, 'b');",
      ].join('\n');
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
      for (const s of ['s1', 's2', 's3', 's4']) assert.doesNotMatch(out, new RegExp(`"${s}"|Bearer ${s}`), s);
      assert.equal(out.split(REDACTED).length - 1, 4, out);
      assert.match(out, /"actor":"webhook"/, 'the lines themselves are written');
    });

    it('writes no key of a tenant or the admin into a trace-level log of requests, refusals, streams and a key rotation', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write(chunk: Buffer, _e, done) { lines.push(String(chunk)); done(); } });
      const gw = await startGateway(node.engine, testConfig(), pino({ level: 'trace' }, sink));
      let rotated = '';
      try {
        const base = new ApiClient(gw.url);
        await base.withKey(KEYS.acme).get('/v1/incidents');
        await base.withKey(KEYS.acme).postMetrics([{ service: 'log', metric: 'm', samples: [[t, 1]] }]);
        await base.withKey(KEYS.acme).postMetrics([{ service: 'bad name!', metric: 'm', samples: [[t, 1]] }]);
        await base.withKey(KEYS.acme).request('POST', '/v1/metrics', encodeMetricBatch('x', []).subarray(0, 1), { 'content-type': 'application/x-protobuf' });
        await base.withKey(KEYS.admin).get('/v1/incidents');
        await base.withKey(`${KEYS.acme}x`).get('/v1/incidents');
        await base.get(`/v1/incidents?api_key=${KEYS.globex}`);
        await base.withKey(KEYS.admin).get('/metrics');
        const rotation = await base.withKey(KEYS.admin).request<{ key: string }>('POST', '/v1/admin/tenants/globex/keys', {});
        assert.equal(rotation.status, 201, JSON.stringify(rotation.body));
        rotated = rotation.body.key;
        const ws = new WebSocket(wsUrl(gw.url, `?api_key=${KEYS.globex}`));
        await once(ws, 'open');
        ws.send('hello');
        ws.close();
        await once(ws, 'close');
        const refused = new WebSocket(wsUrl(gw.url, `?api_key=${KEYS.admin}`));
        refused.on('error', () => {});
        await once(refused, 'unexpected-response');
        refused.terminate();
      } finally {
        await gw.close();
      }
      const text = lines.join('');
      assert.ok(lines.length > 10, `${lines.length} log lines`);
      for (const secret of [KEYS.acme, KEYS.globex, KEYS.admin, rotated]) assert.ok(!text.includes(secret), `a key in the log: ${secret.slice(0, 4)}…`);
    });
  });
});
