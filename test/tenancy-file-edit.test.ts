// A hand edit of one node's tenants file made while another node changes the cluster's text:
// the edit is written only over the version it was made from, and when that version is gone
// it is replayed (its tenants put or removed) on the newer text, so both changes land
// (api/tenancy/file-edit.ts, Tenancy.publish). Two Tenancy instances on a real NATS KV; the
// first one's copy of the shared text is held back while the other node writes, as a slow
// link to NATS would hold it, so its edit meets a text it has not seen.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { SystemClock } from '../actors/runtime/index.ts';
import { hashKey } from '../api/index.ts';
import {
  checkTenantsDocument, fileEdit, parseTenantsYaml, replayEdit, Tenancy, type SharedTenants, type SharedTenantsEntry, type TenantSpec,
} from '../api/tenancy/index.ts';
import { KvSharedTenants } from '../cluster/index.ts';
import { eventually } from './support/api-client.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const silent = pino({ level: 'silent' });
const spec = (doc: Record<string, unknown>): TenantSpec => checkTenantsDocument({ tenants: [doc] }, 'test')[0]!;
const tenant = (id: string, rate: number) => `  - { id: ${id}, rate: ${rate}, keys: [{ id: k1, sha256: ${hashKey(`${id}-key`)} }] }\n`;

describe('tenancy: a hand edit of the tenants file, as the tenants it changed', () => {
  const initech = spec({ id: 'initech', rate: 100 });
  const globex = spec({ id: 'globex', rate: 200 });
  const hooli = spec({ id: 'hooli', rate: 300 });

  it('names what the edit put and removed, and nothing it left as it was', () => {
    const edit = fileEdit([initech, globex], [{ ...initech, rate: 150 }, hooli]);
    assert.deepEqual(edit.put.map((s) => [s.id, s.rate]), [['initech', 150], ['hooli', 300]]);
    assert.deepEqual(edit.removed, ['globex']);
    assert.deepEqual(fileEdit([initech, globex], [globex, initech]), { put: [], removed: [] }, 'order is not a change');
  });

  it('replays on newer entries: another node\'s tenants stay, the edit\'s own win', () => {
    const acme = spec({ id: 'acme', rate: 50 });
    const edit = fileEdit([initech, globex], [{ ...initech, rate: 150 }, hooli]);
    const replayed = replayEdit([{ ...initech, rate: 999 }, globex, acme], edit);
    assert.deepEqual(replayed.map((s) => [s.id, s.rate]), [['initech', 150], ['acme', 50], ['hooli', 300]]);
  });
});

describe('tenancy: a hand edit made while another node changes the cluster\'s tenants', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  const connections: NatsConnection[] = [];
  const opened: Tenancy[] = [];

  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    for (const t of opened) t.close();
    for (const nc of connections) await nc.close();
    await nats?.stop();
  });

  async function node(name: string, shared: SharedTenants, debounceMs?: number): Promise<{ tenancy: Tenancy; file: string }> {
    const file = join(mkdtempSync(join(tmpdir(), `vigil-edit-${name}-`)), 'tenants.yaml');
    writeFileSync(file, 'tenants: []\n');
    // debounceMs given: the file is watched, as on a running node
    const watching = debounceMs === undefined ? { watch: false } : { watch: true, debounceMs };
    const tenancy = await Tenancy.open({ nodeConfig: { auth: {}, tenants: [] }, file, clock: new SystemClock(), log: silent, shared, ...watching });
    opened.push(tenancy);
    return { tenancy, file };
  }

  async function kv(cluster: string): Promise<KvSharedTenants> {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return await KvSharedTenants.open(nc, { name: cluster, replicas: 1 });
  }

  const rates = (t: Tenancy) => Object.fromEntries(t.registry.fromFile().map((s) => [s.id, s.rate]));

  it('both land: the other node\'s new tenant and the edit\'s own changes, on both nodes', async () => {
    const slow = new HeldBack(await kv('edits'));
    const n1 = await node('n1', slow);
    const n2 = await node('n2', await kv('edits'));
    await n2.tenancy.put(spec({ id: 'initech', rate: 100, keys: [{ id: 'k1', sha256: hashKey('initech-key') }] }), 'admin');
    await eventually(async () => rates(n1.tenancy)['initech'] === 100 || undefined, 'n1 follows n2', 10_000);

    slow.hold(); // n1 does not see what comes next until it is let go
    await n2.tenancy.put(spec({ id: 'globex', rate: 200, keys: [{ id: 'k1', sha256: hashKey('globex-key') }] }), 'admin');
    writeFileSync(n1.file, `tenants:\n${tenant('initech', 150)}${tenant('hooli', 300)}`); // a hand edit from the text n1 has
    assert.equal(await n1.tenancy.reload(), true);

    const want = { initech: 150, globex: 200, hooli: 300 };
    assert.deepEqual(rates(n1.tenancy), want, 'n1 serves both changes');
    assert.equal(n1.tenancy.lastReloadError, undefined);
    const shared = await slow.read();
    assert.deepEqual(Object.fromEntries(parseTenantsYaml(shared!.text, 'kv').map((s) => [s.id, s.rate])), want, 'the cluster\'s text holds both');
    assert.match(readFileSync(n1.file, 'utf8'), /id: globex/, 'n1\'s file too');
    await eventually(async () => JSON.stringify(rates(n2.tenancy)) === JSON.stringify(want) || undefined, 'n2 takes the edit up', 10_000);
    slow.release();
  });

  it('a removal in the edit is replayed too, and the other node\'s new tenant stays', async () => {
    const slow = new HeldBack(await kv('removals'));
    const n1 = await node('n1', slow);
    const n2 = await node('n2', await kv('removals'));
    await n2.tenancy.put(spec({ id: 'initech', rate: 100, keys: [{ id: 'k1', sha256: hashKey('initech-key') }] }), 'admin');
    await n2.tenancy.put(spec({ id: 'globex', rate: 200, keys: [{ id: 'k1', sha256: hashKey('globex-key') }] }), 'admin');
    await eventually(async () => rates(n1.tenancy)['globex'] === 200 || undefined, 'n1 follows n2', 10_000);

    slow.hold();
    await n2.tenancy.put(spec({ id: 'acme', rate: 50, keys: [{ id: 'k1', sha256: hashKey('acme-key') }] }), 'admin');
    writeFileSync(n1.file, `tenants:\n${tenant('initech', 100)}`); // globex removed by hand
    assert.equal(await n1.tenancy.reload(), true);
    assert.deepEqual(rates(n1.tenancy), { initech: 100, acme: 50 });
    await eventually(async () => JSON.stringify(rates(n2.tenancy)) === JSON.stringify({ initech: 100, acme: 50 }) || undefined, 'n2 takes the removal up', 10_000);
    slow.release();
  });

  // Seen once in CI (tenancy-cluster.test.ts): a node writes a text it takes from the cluster to
  // its file, and the file event of that write, read after a broken text came, cleared the
  // broken text's refusal, as if the file's own error were over.
  it('a broken cluster text stays refused after the node reads back its own file write', async () => {
    const n1 = await node('n1', await kv('readback'), 300);
    const n2 = await node('n2', await kv('readback'));
    await n2.tenancy.put(spec({ id: 'initech', rate: 100, keys: [{ id: 'k1', sha256: hashKey('initech-key') }] }), 'admin');
    await eventually(async () => rates(n1.tenancy)['initech'] === 100 || undefined, 'n1 follows n2 (and writes its file)', 10_000);
    await (await kv('readback')).write('tenants:\n  - id: initech\n    rate: -5\n'); // before n1 reads its file back
    await eventually(async () => n1.tenancy.lastReloadError, 'n1 refusing the broken text', 10_000);
    await new Promise((r) => setTimeout(r, 600)); // the file event's read is done
    assert.match(n1.tenancy.lastReloadError?.message ?? 'cleared', /rate must be an integer/);
    assert.equal(rates(n1.tenancy)['initech'], 100, 'the old set kept');
  });
});

/** The shared text as a node behind a slow link sees it: while held, what others write reaches it only when let go. */
class HeldBack implements SharedTenants {
  private held: SharedTenantsEntry[] | undefined;
  private onEntry: ((entry: SharedTenantsEntry) => void) | undefined;
  constructor(private readonly inner: SharedTenants) {}
  get where(): string { return this.inner.where; }
  read(): Promise<SharedTenantsEntry | undefined> { return this.inner.read(); }
  write(text: string): Promise<number> { return this.inner.write(text); }
  replace(text: string, revision: number): Promise<number | undefined> { return this.inner.replace(text, revision); }
  watch(onEntry: (entry: SharedTenantsEntry) => void): () => void {
    this.onEntry = onEntry;
    return this.inner.watch((e) => (this.held ? this.held.push(e) : onEntry(e)));
  }
  hold(): void { this.held = []; }
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const e of held) this.onEntry?.(e);
  }
}
