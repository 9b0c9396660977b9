// Tenant configuration (api/tenancy): the schema names the exact place of a mistake, the
// two sources combine by id, the file is hot-reloaded (an invalid file keeps the old
// tenants and says why), and the admin API changes tenants with every change audited.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { allowedBy } from '../actors/automation/index.ts';
import { SystemClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import {
  checkTenantsDocument, parseTenantsYaml, Tenancy, TenancyInvalid, TenantRegistry, type TenantSpec,
} from '../api/tenancy/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { startNode } from '../node/index.ts';
import type { AuditRecord } from '../storage/audit/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

const H = (k: string) => hashKey(k);
const silent = pino({ level: 'silent' });

function refusal(fn: () => unknown): TenancyInvalid {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TenancyInvalid, `a TenancyInvalid, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('tenancy: the tenants schema', () => {
  it('reads the annotated example shipped in config/', () => {
    const specs = parseTenantsYaml(readFileSync('config/tenants.yaml', 'utf8'), 'config/tenants.yaml');
    assert.deepEqual(specs.map((s) => s.id), ['acme', 'globex']);
    const acme = specs[0]!;
    assert.equal(acme.tier, 'medium');
    assert.equal(acme.rate, 20000);
    assert.equal(acme.burst, 40000);
    assert.deepEqual(acme.detectionTiers, ['basic', 'agile']);
    assert.deepEqual(acme.metricLimits, { error_rate: { above: 0.05 } });
    assert.deepEqual(acme.budget, { share: 0.25 });
    assert.equal(acme.maxUnfinishedRuns, 200);
    assert.equal(specs[1]!.maxUnfinishedRuns, undefined, 'globex keeps the node\'s bound');
    assert.equal(acme.keys[0]!.sha256, H('acme-example-key-1'));
    assert.equal(acme.keys[0]!.expiresAt, Date.parse('2031-01-01T00:00:00Z'));
    assert.equal(acme.keys[1]!.expiresAt, undefined);
    assert.equal(specs[1]!.keys[0]!.sha256, H('globex-example-key'));
    // a small tenant without a rate gets its tier's default
    assert.equal(specs[1]!.rate, 10000);
    assert.equal(specs[1]!.burst, undefined);
  });

  it('names the path and the line of each mistake', () => {
    const file = (tenant: string) => `tenants:\n  - id: ok\n  - id: acme\n${tenant}`;
    const cases: Array<[string, RegExp]> = [
      ['    rate: -5\n', /^t\.yaml: tenants\[1\]\.rate must be an integer 1\.\.1000000000 or "unlimited" \(got -5\) \(line 4\)$/],
      ['    burst: "lots"\n', /tenants\[1\]\.burst must be an integer .* \(got "lots"\) \(line 4\)$/],
      ['    tier: huge\n', /tenants\[1\]\.tier must be one of small, medium, large \(got "huge"\) \(line 4\)$/],
      ['    bogus: 1\n', /tenants\[1\]\.bogus is not a known key \(known: id, tier, rate.*\) \(line 4\)$/],
      ['    keys:\n      - { id: k1, sha256: abc }\n', /tenants\[1\]\.keys\[0\]\.sha256 must be a sha256 hex hash .* \(got "abc"\) \(line 5\)$/],
      [`    keys:\n      - { id: k1, sha256: ${H('a')}, expiresAt: soon }\n`, /tenants\[1\]\.keys\[0\]\.expiresAt must be a time with its zone/],
      ['    detectionTiers: [basic]\n    detectionTier: robust\n', /tenants\[1\]\.detectionTier "robust" is not among this tenant's detectionTiers \(basic\) \(line 5\)$/],
      ['    detectionTiers: [basic]\n    metricTiers: { latency: agile }\n', /tenants\[1\]\.metricTiers\.latency "agile" is not among/],
      ['    webhooks: ["ftp://x.example/"]\n', /tenants\[1\]\.webhooks\[0\] must be an http or https URL/],
      ['    webhooks: ["https://user:pw@x.example/"]\n', /webhooks\[0\] must not carry credentials/],
      ['    rate: unlimited\n    burst: 5\n', /tenants\[1\]\.burst needs a rate/],
      ['    rawRetentionDays: 0\n', /tenants\[1\]\.rawRetentionDays must be an integer 1\.\.3650 \(got 0\)/],
      ['    maxUnfinishedRuns: 20000\n', /tenants\[1\]\.maxUnfinishedRuns must be an integer 1\.\.10000 \(got 20000\) \(line 4\)$/],
      ['    metricLimits: { errors: { above: 1, below: 2 } }\n', /tenants\[1\]\.metricLimits\.errors\.below must be less than above \(1\)/],
      ['    metricLimits: { errors: { over: 1 } }\n', /tenants\[1\]\.metricLimits\.errors\.over is not a known key \(known: above, below\)/],
      ['    metricSensitivity: { mem: { drift: "yes" } }\n', /tenants\[1\]\.metricSensitivity\.mem\.drift must be true or false \(got "yes"\)/],
      ['    budget: { inFlight: 2 }\n', /^t\.yaml: tenants\[1\]\.budget sets a budget of the tenant's own, which only tier medium has \(this tenant is small\) \(line 4\)$/],
      ['    tier: medium\n    budget: { share: 0 }\n', /tenants\[1\]\.budget\.share must be a number over 0 and at most 1 \(got 0\) \(line 5\)$/],
      ['    tier: medium\n    budget: { tickMs: 5 }\n', /tenants\[1\]\.budget\.tickMs must be an integer 10\.\.60000 \(got 5\)/],
      ['    tier: medium\n    budget: { inFlight: 0.5 }\n', /tenants\[1\]\.budget\.inFlight must be an integer 1\.\.1024 \(got 0\.5\)/],
      ['    tier: medium\n    budget: { backlog: 5 }\n', /tenants\[1\]\.budget\.backlog is not a known key \(known: inFlight, tickMs, share, backlogSamples\)/],
      ['    tier: medium\n    budget: 5\n', /tenants\[1\]\.budget must be a mapping of inFlight, tickMs, share, backlogSamples \(got 5\)/],
    ];
    for (const [tenant, expected] of cases) assert.match(refusal(() => parseTenantsYaml(file(tenant), 't.yaml')).message, expected, tenant);
  });

  it('refuses duplicate ids, a key of two tenants, bad YAML and a bad top level', () => {
    assert.match(refusal(() => parseTenantsYaml('tenants:\n  - id: a\n  - id: a\n', 'f')).message, /^f: tenants\[1\]\.id "a" is already the id of tenants\[0\] \(line 3\)$/);
    const shared = `tenants:\n  - { id: a, keys: [{ id: k, sha256: ${H('x')} }] }\n  - { id: b, keys: [{ id: k, sha256: ${H('x')} }] }\n`;
    assert.match(refusal(() => parseTenantsYaml(shared, 'f')).message, /tenants\[1\]\.keys\[0\]\.sha256 is also a key of tenant "a"/);
    assert.match(refusal(() => parseTenantsYaml('tenants:\n  - id: a\n   x: [\n', 'f')).message, /^f: is not valid YAML: .* \(line \d+\)$/);
    assert.match(refusal(() => parseTenantsYaml('tenant: []\n', 'f')).message, /^f: tenant is not a known key \(known: tenants\) \(line 1\)$/);
    assert.match(refusal(() => checkTenantsDocument({ tenants: {} }, 'body')).message, /^body: tenants must be a list of tenants \(got a mapping\)$/);
    assert.match(refusal(() => checkTenantsDocument({ tenants: [{ id: 'Bad Id' }] }, 'body')).message, /^body: tenants\[0\]\.id must be an id/);
  });

  it('lets a webhook call only under an allowed prefix, same scheme, host and port (the check runbooks run)', () => {
    const webhookAllowed = (spec: TenantSpec, url: string): boolean => allowedBy(spec.webhooks, url) !== undefined;
    const [spec] = checkTenantsDocument({ tenants: [{ id: 'a', webhooks: ['https://hooks.example.com/vigil/', 'https://pd.example.com/v2/enqueue'] }] }, 'b');
    assert.equal(webhookAllowed(spec!, 'https://hooks.example.com/vigil/incident'), true);
    assert.equal(webhookAllowed(spec!, 'https://pd.example.com/v2/enqueue'), true);
    for (const url of [
      'https://hooks.example.com/other', 'http://hooks.example.com/vigil/x', 'https://hooks.example.com:8443/vigil/x',
      'https://hooks.example.com.evil.net/vigil/x', 'https://pd.example.com/v2/enqueuex', 'https://u:p@hooks.example.com/vigil/x', 'not a url',
    ]) assert.equal(webhookAllowed(spec!, url), false, url);
  });
});

describe('tenancy: node config and tenants file together', () => {
  const nodeConfig = {
    auth: { adminKeyHash: H('admin') },
    tenants: [{ id: 'demo', keyHashes: [H('demo-key')] }, { id: 'acme', keyHashes: [H('acme-old')], maxSeries: 5 }],
  };
  const file = (specs: unknown[]): TenantSpec[] => checkTenantsDocument({ tenants: specs }, 'f');

  it('serves both; a file entry replaces the node-config entry of the same id whole', () => {
    const r = new TenantRegistry(nodeConfig);
    assert.deepEqual(r.keys.resolve('acme-old'), { kind: 'tenant', tenant: 'acme' });
    assert.equal(r.get('acme')!.rate, undefined, 'a node-config tenant has no rate limit');
    r.setFileTenants(file([{ id: 'acme', rate: 500, keys: [{ id: 'n', sha256: H('acme-new') }] }, { id: 'initech' }]), 'f');
    assert.deepEqual(r.list().map((v) => [v.spec.id, v.source]), [['acme', 'tenants-file'], ['demo', 'node-config'], ['initech', 'tenants-file']]);
    assert.equal(r.keys.resolve('acme-old'), undefined, 'the override replaced the keys');
    assert.deepEqual(r.keys.resolve('acme-new'), { kind: 'tenant', tenant: 'acme' });
    assert.equal(r.get('acme')!.maxSeries, undefined, 'and the limits');
    assert.equal(r.get('acme')!.rate, 500);
    assert.deepEqual(r.keys.resolve('demo-key'), { kind: 'tenant', tenant: 'demo' });
  });

  it('refuses a file key that another source already gives another tenant, or the admin key; keeps the old set', () => {
    const r = new TenantRegistry(nodeConfig);
    const v = r.version;
    assert.match(refusal(() => r.setFileTenants(file([{ id: 'x', keys: [{ id: 'k', sha256: H('demo-key') }] }]), 'f')).message, /keys\[0\]\.sha256 is also a key of tenant "demo"/);
    assert.match(refusal(() => r.setFileTenants(file([{ id: 'x', keys: [{ id: 'k', sha256: H('admin') }] }]), 'f')).message, /tenants\[0\]\.keys\[0\]\.sha256 is the admin key/);
    assert.equal(r.version, v);
    assert.equal(r.get('x'), undefined);
    assert.deepEqual(r.keys.resolve('demo-key'), { kind: 'tenant', tenant: 'demo' });
  });
});

describe('tenancy: hot reload of the tenants file', () => {
  let dir: string;
  let path: string;
  let tenancy: Tenancy;
  const audited: AuditRecord[] = [];
  const yaml = (rate: number | string, extra = '') => `tenants:\n  - id: acme\n    rate: ${rate}\n    keys: [{ id: k1, sha256: ${H('acme-1')} }]\n${extra}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-tenants-'));
    path = join(dir, 'tenants.yaml');
    writeFileSync(path, yaml(100));
    tenancy = await Tenancy.open({
      nodeConfig: { auth: {}, tenants: [] }, file: path, clock: new SystemClock(), log: silent, debounceMs: 30,
      audit: { append: async (r) => { audited.push(r); } },
    });
  });
  after(() => tenancy.close());

  it('applies a saved change without a restart, and audits it as the file', async () => {
    assert.equal(tenancy.registry.get('acme')!.rate, 100);
    await writeFile(path, yaml(250, '  - id: globex\n'));
    await eventually(async () => (tenancy.registry.get('globex') ? true : undefined), 'the reload');
    assert.equal(tenancy.registry.get('acme')!.rate, 250);
    assert.equal(tenancy.lastReloadError, undefined);
    const acme = audited.find((a) => a.tenant === 'acme')!;
    assert.equal(acme.actor, 'file:tenants.yaml');
    assert.equal(acme.action, 'config.change');
    assert.equal((acme.before as { rate: number }).rate, 100);
    assert.equal((acme.after as { rate: number }).rate, 250);
    assert.equal(audited.find((a) => a.tenant === 'globex')!.before, null);
  });

  it('keeps the old tenants when the file turns invalid, and says exactly why', async () => {
    const version = tenancy.registry.version;
    const n = audited.length;
    await writeFile(path, yaml('"fast"'));
    await eventually(async () => tenancy.lastReloadError, 'the refusal');
    assert.match(tenancy.lastReloadError!.message, /tenants\.yaml: tenants\[0\]\.rate must be an integer .* \(got "fast"\) \(line 3\)$/);
    assert.equal(tenancy.registry.version, version);
    assert.equal(tenancy.registry.get('acme')!.rate, 250);
    assert.deepEqual(tenancy.registry.keys.resolve('acme-1'), { kind: 'tenant', tenant: 'acme' });
    assert.equal(audited.length, n, 'a refused file is not a change');
  });

  it('takes a file replaced by rename (as editors save), and clears the error', async () => {
    const tmp = join(dir, 'tenants.yaml.new');
    await writeFile(tmp, yaml(300));
    await rename(tmp, path);
    await eventually(async () => (tenancy.registry.get('acme')!.rate === 300 ? true : undefined), 'the reload after rename');
    assert.equal(tenancy.lastReloadError, undefined);
    assert.equal(tenancy.registry.get('globex'), undefined, 'globex left the file');
  });

  it('changes nothing when the audit log does not take the change', async () => {
    const failing = await Tenancy.open({
      nodeConfig: { auth: {}, tenants: [] }, file: path, clock: new SystemClock(), log: silent, watch: false,
      audit: { append: async () => { throw new Error('disk full'); } },
    });
    const before = readFileSync(path, 'utf8');
    await assert.rejects(failing.put(checkTenantsDocument({ tenants: [{ id: 'newco' }] }, 'b')[0]!, 'admin'),
      (err: Error) => /audit log did not take the change \(disk full\); nothing changed/.test(err.message));
    assert.equal(failing.registry.get('newco'), undefined);
    assert.equal(readFileSync(path, 'utf8'), before, 'the file is as it was');
    await writeFile(path, yaml(301));
    assert.equal(await failing.reload(), false);
    assert.match(failing.lastReloadError!.message, /disk full/);
    assert.equal(failing.registry.get('acme')!.rate, 300);
    failing.close();
  });
});

describe('tenancy: the admin API', () => {
  let node: NodeHandle;
  let admin: ApiClient;
  let file: string;

  before(async () => {
    const c = testConfig();
    file = join(mkdtempSync(join(tmpdir(), 'vigil-tenants-api-')), 'tenants.yaml');
    writeFileSync(file, `tenants:\n  - id: initech\n    rate: 1000\n    keys: [{ id: k1, sha256: ${H('initech-1')} }]\n`);
    c.tenancy = { ...c.tenancy, file, reloadDebounceMs: 30 };
    node = await startNode(c, { logger: silent, detectors: thresholdDetectors });
    admin = new ApiClient(node.url, KEYS.admin);
  });
  after(async () => node.stop());

  it('lists both sources, the file and the reload state', async () => {
    const r = await admin.get<{ file: string; version: number; lastReloadError: unknown; tenants: Array<{ id: string; rate: unknown }>; sources: Record<string, string> }>('/v1/admin/tenants');
    assert.equal(r.status, 200);
    assert.equal(r.body.file, file);
    assert.equal(r.body.lastReloadError, null);
    assert.deepEqual(r.body.sources, { acme: 'node-config', globex: 'node-config', initech: 'tenants-file' });
    assert.equal(r.body.tenants.find((t) => t.id === 'acme')!.rate, 'unlimited');
    assert.equal(r.body.tenants.find((t) => t.id === 'initech')!.rate, 1000);
    for (const path of ['/v1/admin/tenants', '/v1/admin/tenants/initech']) {
      assert.equal((await admin.withKey(KEYS.acme).get(path)).status, 403, path);
      assert.equal((await admin.withKey(undefined).get(path)).status, 401, path);
    }
  });

  it('creates, changes and deletes a tenant; its key works at once; each change is audited and written to the file', async () => {
    const created = await admin.request<{ tenant: { id: string } }>('PUT', '/v1/admin/tenants/hooli', { tier: 'medium', keys: [{ id: 'h1', sha256: H('hooli-1') }] });
    assert.equal(created.status, 201);
    const hooli = admin.withKey('hooli-1');
    assert.equal((await hooli.get('/v1/incidents')).status, 200, 'the new key works at once');
    assert.match(readFileSync(file, 'utf8'), /id: hooli/);
    const changed = await admin.request('PUT', '/v1/admin/tenants/hooli', { rate: 77, keys: [{ id: 'h1', sha256: H('hooli-1') }] });
    assert.equal(changed.status, 200);
    assert.equal((await admin.get<{ tenant: { rate: number } }>('/v1/admin/tenants/hooli')).body.tenant.rate, 77);
    const deleted = await admin.request('DELETE', '/v1/admin/tenants/hooli');
    assert.equal(deleted.status, 200);
    assert.equal((await hooli.get('/v1/incidents')).status, 401, 'a deleted tenant\'s key is refused');
    assert.equal((await admin.get('/v1/admin/tenants/hooli')).status, 404);
    const audit = await admin.get<{ entries: Array<{ tenant: string; actor: string; action: string; before: unknown; after: { rate?: number } | null }> }>('/v1/audit?tenant=hooli');
    assert.deepEqual(audit.body.entries.map((e) => [e.actor, e.action, e.before === null, e.after === null]), [
      ['admin', 'config.change', false, true], ['admin', 'config.change', false, false], ['admin', 'config.change', true, false],
    ]);
    assert.equal(audit.body.entries[1]!.after!.rate, 77);
  });

  it('refuses an invalid body naming the place, and changes nothing', async () => {
    const before = readFileSync(file, 'utf8');
    const bad = await admin.request<ErrorReply>('PUT', '/v1/admin/tenants/initech', { rate: 10, keys: [{ id: 'k1', sha256: 'nope' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^body: keys\[0\]\.sha256 must be a sha256 hex hash/);
    const all = await admin.request<ErrorReply>('PUT', '/v1/admin/tenants', { tenants: [{ id: 'x', keys: [{ id: 'k', sha256: H(KEYS.acme) }] }] });
    assert.equal(all.status, 400);
    assert.match(all.body.error.message, /tenants\[0\]\.keys\[0\]\.sha256 is also a key of tenant "acme"/);
    const mismatch = await admin.request<ErrorReply>('PUT', '/v1/admin/tenants/initech', { id: 'other' });
    assert.match(mismatch.body.error.message, /id "other" differs from the tenant in the path \("initech"\)/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal((await admin.get<{ tenant: { rate: number } }>('/v1/admin/tenants/initech')).body.tenant.rate, 1000);
  });

  it('will not delete a node-config tenant (409), nor an unknown one (404)', async () => {
    const r = await admin.request<ErrorReply>('DELETE', '/v1/admin/tenants/acme');
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /defined in the node config/);
    assert.equal((await admin.request('DELETE', '/v1/admin/tenants/nobody')).status, 404);
  });

  /**
   * The reload error GET /v1/admin/tenants shows, once it says `why`. A write in place is
   * seen twice under load: a reload between its truncation and its data reports the empty
   * file first, and the write's own event reads the whole text after.
   */
  const reloadError = (why: RegExp) => eventually(async () => {
    const x = await admin.get<{ lastReloadError: { message: string } | null }>('/v1/admin/tenants');
    const error = x.body.lastReloadError;
    return error && why.test(error.message) ? error : undefined;
  }, `a reload error matching ${why}`);
  const reloadErrorCleared = (what: string) =>
    eventually(async () => ((await admin.get<{ lastReloadError: unknown }>('/v1/admin/tenants')).body.lastReloadError === null ? true : undefined), what);

  it('shows a reload error in GET /v1/admin/tenants while the file is invalid, and keeps serving', async () => {
    const good = readFileSync(file, 'utf8');
    try {
      await writeFile(file, 'tenants:\n  - id: initech\n    rate: [1]\n');
      const why = /tenants\[0\]\.rate must be an integer .* \(got a list\) \(line 3\)/;
      assert.match((await reloadError(why)).message, why);
      assert.equal((await admin.withKey('initech-1').get('/v1/incidents')).status, 200, 'the old tenants still serve');
      await writeFile(file, good.replace('rate: 1000', 'rate: 1001'));
      await reloadErrorCleared('the fix');
    } finally {
      if (readFileSync(file, 'utf8').includes('rate: [1]')) await writeFile(file, good); // the next test starts from a file that serves
    }
  });

  it('keeps the tenants when the file is read empty (truncated, or a write in place caught half-way)', async () => {
    const good = readFileSync(file, 'utf8');
    // what a reader sees between a write's truncation and its data, held past the debounce
    await writeFile(file, '# being rewritten\n\n');
    const why = /the file is empty .*keeping the tenants it had/;
    assert.match((await reloadError(why)).message, why);
    assert.equal((await admin.withKey('initech-1').get('/v1/incidents')).status, 200, 'the old tenants still serve');
    // put back as it was (the text that serves): the error is over
    await writeFile(file, good);
    await reloadErrorCleared('the file put back');
    assert.equal((await admin.withKey('initech-1').get('/v1/incidents')).status, 200);
  });
});
