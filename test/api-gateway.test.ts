// The gateway's life cycle over a real node's engine: a taken port is a clear error,
// close is idempotent and leaves nothing listening, and answers what is in flight without
// waiting out the keep-alive of its connection.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import pino from 'pino';
import { startGateway } from '../api/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { VigilError } from '../protocols/index.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';
import { endsWithin } from './support/hang-bound.ts';

describe('api: gateway life cycle', () => {
  let node: NodeHandle;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => node.stop());

  it('refuses a taken port with an UNAVAILABLE VigilError naming it', async () => {
    const config = testConfig();
    config.http.port = node.port;
    await assert.rejects(startGateway(node.engine, config, pino({ level: 'silent' })), (err: unknown) => {
      assert.ok(VigilError.is(err, 'UNAVAILABLE'));
      assert.match(err.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${node.port} \\(EADDRINUSE\\)`));
      return true;
    });
    // the node's own gateway is untouched
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200);
  });

  it('refuses a config whose keys would be ambiguous or malformed (CONFIG_INVALID)', async () => {
    const shared = testConfig();
    shared.tenants[1]!.keyHashes.push(shared.tenants[0]!.keyHashes[0]!);
    const adminAsTenant = testConfig();
    adminAsTenant.tenants[0]!.keyHashes.push(adminAsTenant.auth.adminKeyHash!);
    const malformed = testConfig();
    malformed.tenants[0]!.keyHashes = ['not-a-hash'];
    const cases: Array<[typeof shared, RegExp]> = [
      [shared, /tenants acme and globex share an API key/],
      [adminAsTenant, /tenant acme uses the admin key/],
      [malformed, /tenant acme: key hash "not-a-hash" is not a sha256 hex digest/],
    ];
    for (const [config, reason] of cases) {
      await assert.rejects(startGateway(node.engine, config, pino({ level: 'silent' })), (err: unknown) => {
        assert.ok(VigilError.is(err, 'CONFIG_INVALID'));
        assert.match(err.message, reason);
        return true;
      });
    }
  });

  it('closes once, however often asked, and stops listening', async () => {
    const gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }));
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    await Promise.all([gw.close(), gw.close()]);
    await gw.close();
    await assert.rejects(fetch(`${gw.url}/healthz`));
  });

  it('answers a request in flight when close begins, then ends its keep-alive connection (close does not wait 72 s)', async () => {
    const gw = await startGateway(node.engine, testConfig(), pino({ level: 'silent' }));
    const body = JSON.stringify({ series: [{ service: 'svc', metric: 'm', samples: [[Date.now(), 1]] }] });
    const socket = connect(gw.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // the head and half the body: the request is in flight
    socket.write(`POST /v1/metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer ${KEYS.acme}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    await new Promise((r) => setTimeout(r, 100));
    let closed = false;
    const closing = gw.close().then(() => { closed = true; });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(closed, false, 'close waits for the request in flight');
    socket.write(body.slice(10));
    await endsWithin(closing, 10_000, 'close'); // before the fix it took the keep-alive timeout, 72 s
    await ended;
    assert.match(answer, /^HTTP\/1\.1 202 /, 'the request in flight was answered');
  });
});
