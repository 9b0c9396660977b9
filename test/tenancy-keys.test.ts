// API key rotation without downtime: a new key is added and the old keys get an end; both
// work until then, a client that moves over in the overlap never sees a failed request, and
// after the end the old key is refused (401, saying it expired). Also the key ring's rules.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashKey } from '../api/index.ts';
import { KeyRing } from '../api/keys.ts';
import { parseTenantsYaml } from '../api/tenancy/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient, type ErrorReply } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { runVigil } from './support/cli-process.ts';

describe('tenancy: the key ring', () => {
  it('refuses a key past its end and says when it ended; the admin key has none', () => {
    let now = 1_000;
    const ring = new KeyRing({ auth: { adminKeyHash: hashKey('adm') }, tenants: [] }, () => now);
    ring.load(hashKey('adm'), [{ tenant: 'a', sha256: hashKey('old'), expiresAt: 2_000 }, { tenant: 'a', sha256: hashKey('new') }]);
    assert.deepEqual(ring.resolve('old'), { kind: 'tenant', tenant: 'a' });
    now = 2_000;
    assert.equal(ring.resolve('old'), undefined);
    assert.deepEqual(ring.lookup('old'), { expiredAt: 2_000 });
    assert.deepEqual(ring.resolve('new'), { kind: 'tenant', tenant: 'a' });
    assert.deepEqual(ring.resolve('adm'), { kind: 'admin' });
    assert.equal(ring.resolve('nope'), undefined);
  });

  it('keeps its keys when a load is refused', () => {
    const ring = new KeyRing({ auth: {}, tenants: [{ id: 'a', keyHashes: [hashKey('k')] }] });
    assert.throws(() => ring.load(undefined, [{ tenant: 'a', sha256: hashKey('x') }, { tenant: 'b', sha256: hashKey('x') }]), /tenants a and b share an API key/);
    assert.throws(() => ring.load(hashKey('x'), [{ tenant: 'a', sha256: hashKey('x') }]), /tenant a uses the admin key/);
    assert.deepEqual(ring.resolve('k'), { kind: 'tenant', tenant: 'a' });
  });
});

describe('tenancy: key rotation on a running node', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  let admin: ApiClient;
  let file: string;
  const overlapMs = 2_500;

  before(async () => {
    const c = testConfig();
    // the file does not exist yet: the first change creates it
    file = join(mkdtempSync(join(tmpdir(), 'vigil-rotate-')), 'tenants.yaml');
    c.tenancy = { ...c.tenancy, file };
    node = await startNode(c, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    admin = new ApiClient(node.url, KEYS.admin);
  });
  after(async () => node.stop());

  it('serves the old and the new key during the overlap, fails no request of a client that moves over, then ends the old key', async () => {
    const old = new ApiClient(node.url, KEYS.acme);
    const failures: string[] = [];
    let current = old;
    let moving = true;
    let sent = 0;
    // a client sending all along: old key first, the new one from the middle of the overlap
    const client = (async () => {
      while (moving) {
        const r = await current.postMetrics([{ service: 'web', metric: 'rps', samples: [[Date.now() - 1000, sent++]] }]);
        if (r.status !== 202) failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    await new Promise((res) => setTimeout(res, 300));

    const rotated = await admin.request<{ tenant: string; keyId: string; key: string; oldKeysExpireAt: string }>('POST', '/v1/admin/tenants/acme/keys', { overlapMs, keyId: 'acme-next' });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const end = Date.parse(rotated.body.oldKeysExpireAt);
    assert.equal(rotated.body.keyId, 'acme-next');
    assert.match(rotated.body.key, /^vk_[A-Za-z0-9_-]{43}$/);
    const fresh = new ApiClient(node.url, rotated.body.key);

    // during the overlap both keys work, for every route
    assert.equal((await old.get('/v1/incidents')).status, 200);
    assert.equal((await fresh.get('/v1/incidents')).status, 200);
    assert.equal((await fresh.get<{ tenant: string }>('/v1/usage')).body.tenant, 'acme');
    await new Promise((res) => setTimeout(res, overlapMs / 2));
    current = fresh; // the client redeploys with the new key
    // the old key keeps working up to its end, then is refused saying why
    let lastOldOk = 0;
    let firstRefusal: { at: number; body: ErrorReply } | undefined;
    while (!firstRefusal) {
      const sentAt = Date.now();
      const r = await old.get<ErrorReply>('/v1/incidents');
      if (r.status === 200) lastOldOk = sentAt;
      else firstRefusal = { at: Date.now(), body: r.body };
      await new Promise((res) => setTimeout(res, 20));
    }
    moving = false;
    await client;
    assert.ok(firstRefusal.at >= end, `the old key was refused ${end - firstRefusal.at} ms before its end`);
    assert.ok(lastOldOk > 0 && lastOldOk < end, `the old key worked until ${end - lastOldOk} ms before its end`);
    assert.equal(firstRefusal.body.error.code, 'UNAUTHORIZED');
    assert.match(firstRefusal.body.error.message, /this API key expired at .*Z; use its replacement/);
    assert.deepEqual(failures, [], `no failed request (of ${sent})`);
    assert.equal((await fresh.get('/v1/incidents')).status, 200);
    assert.equal((await new ApiClient(node.url, 'acme-key-2').get('/v1/incidents')).status, 401, 'every old key ends');

    // written to the tenants file: hashes only, the old keys with their end, the tenant still unlimited
    assert.ok(existsSync(file));
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(rotated.body.key), 'the key itself is never stored');
    const [acme] = parseTenantsYaml(text, file).filter((s) => s.id === 'acme');
    assert.equal(acme!.rate, undefined);
    assert.deepEqual(acme!.keys.map((k) => [k.sha256, k.expiresAt]), [
      [hashKey(KEYS.acme), end], [hashKey('acme-key-2'), end], [hashKey(rotated.body.key), undefined],
    ]);
    // the rotation is in the audit log as a key change
    const audit = await admin.get<{ entries: Array<{ action: string; actor: string }> }>('/v1/audit?tenant=acme');
    assert.equal(audit.body.entries[0]!.action, 'tenant.key_change');
  });

  it('vigil key rotate asks the node and prints the new key once', async () => {
    const r = await runVigil(['key', 'rotate', 'globex', '--overlap', '90s', '--url', node.url, '--admin-key', KEYS.admin]);
    assert.equal(r.code, 0, r.stderr);
    const key = /^key:\s+(\S+)$/m.exec(r.stdout)![1]!;
    assert.equal((await new ApiClient(node.url, key).get<{ tenant: string }>('/v1/usage')).body.tenant, 'globex');
    assert.equal((await new ApiClient(node.url, KEYS.globex).get('/v1/incidents')).status, 200, 'the old key still works for 90 s');
    const bad = await runVigil(['key', 'rotate', 'nobody', '--url', node.url, '--admin-key', KEYS.admin]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no tenant nobody/);
  });
});
