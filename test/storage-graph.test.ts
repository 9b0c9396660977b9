import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedGraphStore, fileNameOf, MAX_HOPS } from '../storage/graph/index.ts';
import type { GraphStore } from '../storage/graph/index.ts';
import type { Topology } from '../protocols/index.ts';

/** A small shop: frontend → catalog → db, frontend → checkout → payments → db, checkout → inventory → db. */
export const SHOP: Topology = {
  services: [
    { name: 'frontend', dependsOn: ['catalog', 'checkout'] },
    { name: 'catalog', dependsOn: ['db'] },
    { name: 'checkout', dependsOn: ['payments', 'inventory'] },
    { name: 'payments', dependsOn: ['db'] },
    { name: 'inventory', dependsOn: ['db'] },
    { name: 'db', dependsOn: [] },
  ],
};

const isBadRequest = (e: Error & { code?: string }): boolean => e.code === 'BAD_REQUEST';

/**
 * What every GraphStore must do; the Memgraph test runs the same. `tenant` makes names unique
 * per run, since a Memgraph server is shared.
 */
export function graphStoreContract(label: string, store: () => GraphStore, tenant: (name: string) => string): void {
  describe(`${label}: the GraphStore contract`, () => {
    it('gives back the topology that was put, in order, and replaces it whole', async () => {
      const t = tenant('roundtrip');
      await store().replaceTopology(t, SHOP);
      assert.deepEqual(await store().topology(t), SHOP);
      const smaller: Topology = { services: [{ name: 'api', dependsOn: ['cache', 'db'] }] };
      await store().replaceTopology(t, smaller);
      // services only named as a dependency follow the declared ones, with no dependencies
      assert.deepEqual(await store().topology(t), {
        services: [{ name: 'api', dependsOn: ['cache', 'db'] }, { name: 'cache', dependsOn: [] }, { name: 'db', dependsOn: [] }],
      });
      assert.deepEqual(await store().topology(tenant('never-written')), { services: [] });
    });

    it('walks downstream (dependencies) and upstream (callers) within k hops, nearest first', async () => {
      const t = tenant('walks');
      await store().replaceTopology(t, SHOP);
      assert.deepEqual(await store().downstream(t, 'frontend', 1), [{ name: 'catalog', hops: 1 }, { name: 'checkout', hops: 1 }]);
      assert.deepEqual(await store().downstream(t, 'frontend', 2), [
        { name: 'catalog', hops: 1 }, { name: 'checkout', hops: 1 },
        { name: 'db', hops: 2 }, { name: 'inventory', hops: 2 }, { name: 'payments', hops: 2 },
      ]);
      assert.deepEqual(await store().upstream(t, 'db', 1), [
        { name: 'catalog', hops: 1 }, { name: 'inventory', hops: 1 }, { name: 'payments', hops: 1 },
      ]);
      // db reaches frontend through catalog in 2 hops (shortest), not through checkout in 3
      assert.deepEqual(await store().upstream(t, 'db', 3), [
        { name: 'catalog', hops: 1 }, { name: 'inventory', hops: 1 }, { name: 'payments', hops: 1 },
        { name: 'checkout', hops: 2 }, { name: 'frontend', hops: 2 },
      ]);
      assert.deepEqual(await store().upstream(t, 'frontend', 3), []);
      assert.deepEqual(await store().downstream(t, 'db', 3), []);
      assert.deepEqual(await store().downstream(t, 'frontend', 0), []);
      assert.deepEqual(await store().upstream(t, 'no-such-service', 2), []);
    });

    it('answers direct neighbours both ways', async () => {
      const t = tenant('neighbours');
      await store().replaceTopology(t, SHOP);
      assert.deepEqual(await store().neighbours(t, 'checkout'), { upstream: ['frontend'], downstream: ['inventory', 'payments'] });
      assert.deepEqual(await store().neighbours(t, 'db'), { upstream: ['catalog', 'inventory', 'payments'], downstream: [] });
      assert.deepEqual(await store().neighbours(t, 'nope'), { upstream: [], downstream: [] });
    });

    it('cuts the subgraph around an incident: seeds, k hops both ways, the edges among them', async () => {
      const t = tenant('subgraph');
      await store().replaceTopology(t, SHOP);
      const sub = await store().subgraph(t, ['payments', 'ghost'], 1);
      assert.deepEqual(sub.services, ['checkout', 'db', 'payments']);
      assert.deepEqual(sub.dependencies, [{ from: 'checkout', to: 'payments' }, { from: 'payments', to: 'db' }]);
      const wide = await store().subgraph(t, ['inventory', 'catalog'], 1);
      assert.deepEqual(wide.services, ['catalog', 'checkout', 'db', 'frontend', 'inventory']);
      assert.deepEqual(wide.dependencies, [
        { from: 'catalog', to: 'db' }, { from: 'checkout', to: 'inventory' },
        { from: 'frontend', to: 'catalog' }, { from: 'frontend', to: 'checkout' }, { from: 'inventory', to: 'db' },
      ]);
      assert.deepEqual(await store().subgraph(t, ['db'], 0), { services: ['db'], dependencies: [] });
    });

    it('upserts services and dependencies idempotently, creating endpoints it does not know', async () => {
      const t = tenant('upserts');
      await store().upsertServices(t, ['api']);
      await store().upsertDependencies(t, [{ from: 'api', to: 'db' }, { from: 'api', to: 'db' }]);
      await store().upsertDependencies(t, [{ from: 'worker', to: 'db' }]);
      await store().upsertServices(t, ['api', 'worker']);
      const topo = await store().topology(t);
      const byName = new Map(topo.services.map((s) => [s.name, s.dependsOn]));
      assert.deepEqual(byName.get('api'), ['db']);
      assert.deepEqual(byName.get('worker'), ['db']);
      assert.deepEqual(byName.get('db'), []);
      assert.equal(topo.services.length, 3);
      assert.deepEqual(topo.services.at(-1), { name: 'db', dependsOn: [] }, 'db was never declared, so it comes last');
      assert.deepEqual(await store().upstream(t, 'db', 1), [{ name: 'api', hops: 1 }, { name: 'worker', hops: 1 }]);
    });

    it('keeps tenants apart: the same service names in two tenants never mix', async () => {
      const a = tenant('iso-a');
      const b = tenant('iso-b');
      await store().replaceTopology(a, SHOP);
      await store().replaceTopology(b, { services: [{ name: 'frontend', dependsOn: ['search'] }, { name: 'db', dependsOn: ['frontend'] }] });
      assert.deepEqual(await store().downstream(a, 'frontend', MAX_HOPS), [
        { name: 'catalog', hops: 1 }, { name: 'checkout', hops: 1 },
        { name: 'db', hops: 2 }, { name: 'inventory', hops: 2 }, { name: 'payments', hops: 2 },
      ]);
      assert.deepEqual(await store().downstream(b, 'frontend', MAX_HOPS), [{ name: 'search', hops: 1 }]);
      assert.deepEqual(await store().upstream(b, 'search', MAX_HOPS), [{ name: 'db', hops: 2 }, { name: 'frontend', hops: 1 }].sort((x, y) => x.hops - y.hops));
      assert.deepEqual((await store().subgraph(b, ['db'], MAX_HOPS)).services, ['db', 'frontend', 'search']);
      assert.deepEqual(await store().neighbours(a, 'db'), { upstream: ['catalog', 'inventory', 'payments'], downstream: [] });
      await store().replaceTopology(b, { services: [] });
      assert.equal((await store().topology(a)).services.length, 6, 'emptying b leaves a whole');
      const tenants = await store().tenants();
      assert.ok(tenants.includes(a) && tenants.includes(b));
    });

    it('refuses a hop count outside 0..MAX_HOPS with BAD_REQUEST', async () => {
      const t = tenant('hops');
      await assert.rejects(store().upstream(t, 'db', MAX_HOPS + 1), isBadRequest);
      await assert.rejects(store().downstream(t, 'db', -1), isBadRequest);
      await assert.rejects(store().subgraph(t, ['db'], 1.5), isBadRequest);
    });
  });
}

describe('storage/graph: embedded graphology store', () => {
  let dir: string;
  let store: EmbeddedGraphStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-graph-'));
    store = await EmbeddedGraphStore.open({ dir });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  graphStoreContract('embedded', () => store, (name) => name);

  describe('embedded: persistence', () => {
    let own: string;
    beforeEach(async () => { own = await mkdtemp(join(tmpdir(), 'vigil-graph-own-')); });
    afterEach(async () => { await rm(own, { recursive: true, force: true }); });

    it('keeps every tenant\'s topology across a reopen, upserts included', async () => {
      const first = await EmbeddedGraphStore.open({ dir: own });
      await first.replaceTopology('acme', SHOP);
      await first.upsertDependencies('acme', [{ from: 'search', to: 'catalog' }]);
      await first.upsertServices('acme', ['search']);
      await first.replaceTopology('other', { services: [{ name: 'x', dependsOn: ['y'] }] });
      const before = await first.topology('acme');
      await first.close();
      const second = await EmbeddedGraphStore.open({ dir: own });
      assert.deepEqual(await second.topology('acme'), before);
      assert.deepEqual(await second.topology('other'), { services: [{ name: 'x', dependsOn: ['y'] }, { name: 'y', dependsOn: [] }] });
      assert.deepEqual(await second.upstream('acme', 'catalog', 1), [{ name: 'frontend', hops: 1 }, { name: 'search', hops: 1 }]);
      assert.deepEqual(await second.tenants(), ['acme', 'other']);
      await second.close();
    });

    it('has a change on disk when its promise resolves (no close needed)', async () => {
      const live = await EmbeddedGraphStore.open({ dir: own });
      await live.replaceTopology('acme', SHOP);
      await live.upsertDependencies('acme', [{ from: 'db', to: 'disk' }]);
      const reader = await EmbeddedGraphStore.open({ dir: own });
      assert.deepEqual(await reader.downstream('acme', 'db', 1), [{ name: 'disk', hops: 1 }]);
      await reader.close();
      await live.close();
    });

    it('persists every one of many concurrent changes (writes coalesce, none is lost)', async () => {
      const first = await EmbeddedGraphStore.open({ dir: own });
      const n = 200;
      await Promise.all(Array.from({ length: n }, (_, i) => first.upsertDependencies('acme', [{ from: `svc-${i}`, to: 'db' }])));
      await first.close();
      const second = await EmbeddedGraphStore.open({ dir: own });
      assert.equal((await second.upstream('acme', 'db', 1)).length, n);
      await second.close();
    });

    it('writes one file per tenant inside its folder, whatever the tenant name', async () => {
      const s = await EmbeddedGraphStore.open({ dir: own });
      await s.replaceTopology('../evil/..', SHOP);
      await s.replaceTopology('a/b', SHOP);
      await s.close();
      const files = (await readdir(own)).sort();
      assert.deepEqual(files, [fileNameOf('../evil/..'), fileNameOf('a/b')].sort());
      assert.ok(files.every((f) => !f.includes('/') && !f.startsWith('..')));
      const again = await EmbeddedGraphStore.open({ dir: own });
      assert.deepEqual(await again.tenants(), ['../evil/..', 'a/b']);
      await again.close();
    });

    it('refuses a file that is not valid JSON, naming it, instead of starting empty', async () => {
      const s = await EmbeddedGraphStore.open({ dir: own });
      await s.replaceTopology('acme', SHOP);
      await s.close();
      const path = join(own, fileNameOf('acme'));
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.slice(0, text.length / 2));
      await assert.rejects(EmbeddedGraphStore.open({ dir: own }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INTERNAL');
        assert.match(e.message, /corrupt \(not valid JSON\)/);
        assert.ok(e.message.includes(path), e.message);
        return true;
      });
    });

    it('refuses a file that parses but was altered (checksum)', async () => {
      const s = await EmbeddedGraphStore.open({ dir: own });
      await s.replaceTopology('acme', SHOP);
      await s.close();
      const path = join(own, fileNameOf('acme'));
      await writeFile(path, (await readFile(path, 'utf8')).replace('"payments"', '"paymentz"'));
      await assert.rejects(EmbeddedGraphStore.open({ dir: own }), /checksum mismatch/);
    });

    it('drops the temp file of an interrupted write and keeps the last complete topology', async () => {
      const s = await EmbeddedGraphStore.open({ dir: own });
      await s.replaceTopology('acme', SHOP);
      await s.close();
      const temp = join(own, `${fileNameOf('acme')}.tmp-999-1`);
      await writeFile(temp, '{"version":1,"tena');
      const again = await EmbeddedGraphStore.open({ dir: own });
      assert.deepEqual(await again.topology('acme'), SHOP);
      assert.deepEqual(await readdir(own), [fileNameOf('acme')]);
      await again.close();
    });

    it('refuses changes after close', async () => {
      const s = await EmbeddedGraphStore.open({ dir: own });
      await s.close();
      await assert.rejects(s.upsertServices('acme', ['x']), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE');
    });
  });
});
