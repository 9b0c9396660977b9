// The Memgraph adapter against a real server: runs only when MEMGRAPH_URL is set (no Bolt
// server installs on the build machines). Otherwise the one test below is reported as skipped.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { MemgraphGraphStore } from '../storage/graph/index.ts';
import { graphStoreContract } from './storage-graph.test.ts';

const url = process.env.MEMGRAPH_URL;

describe('storage/graph: Memgraph adapter', () => {
  it('refuses a MEMGRAPH_URL that is not a URL with CONFIG_INVALID (no server needed)', async () => {
    await assert.rejects(MemgraphGraphStore.open({ url: 'memgraph here' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.match(e.message, /MEMGRAPH_URL must be a URL/);
      return true;
    });
  });

  if (!url) {
    it('SKIPPED: MEMGRAPH_URL is not set, so the Memgraph adapter was not tested', function () {
      this.skip();
    });
    return;
  }

  const run = `test-${randomBytes(4).toString('hex')}`;
  const used = new Set<string>();
  let store: MemgraphGraphStore;

  before(async () => {
    store = await MemgraphGraphStore.open({ url });
  });
  after(async () => {
    if (!store) return;
    for (const t of used) await store.dropTenant(t);
    await store.close();
  });

  graphStoreContract('memgraph', () => store, (name) => {
    const t = `${run}-${name}`;
    used.add(t);
    return t;
  });
});
