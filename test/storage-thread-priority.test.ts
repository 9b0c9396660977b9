// The embedded engine's threads run below the event loop's priority (storage/tsdb/thread-priority.ts):
// after chdb has run inserts and a merge, every thread it started is at nice >= 10, and
// Node's own threads (the main one first) are as they were.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsdbStore } from '../storage/tsdb/index.ts';
import { DEFAULT_ENGINE_THREAD_NICE } from '../storage/tsdb/thread-priority.ts';

// chdb binds one data folder per process: the same one as the other storage test files
const CHDB_DIR = join(tmpdir(), `vigil-chdb-test-${process.pid}`);
process.once('exit', () => rmSync(CHDB_DIR, { recursive: true, force: true }));

interface Thread { tid: number; name: string; nice: number }

function threads(): Thread[] {
  const out: Thread[] = [];
  for (const entry of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
      out.push({ tid: Number(entry), name, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

const linux = (() => {
  try {
    readdirSync('/proc/self/task');
    return true;
  } catch {
    return false;
  }
})();

describe('storage/tsdb: chdb threads yield to the event loop', function () {
  this.timeout(60_000);

  it('keeps every thread chdb started at nice >= 10, and Node\'s own where they were', async function () {
    if (!linux) this.skip(); // /proc/self/task is Linux's
    const mainBefore = getPriority(process.pid);
    const store = await TsdbStore.open({ chdbPath: CHDB_DIR, database: `prio_${process.pid}` });
    try {
      // inserts and a merge put chdb's pools to work (threads it starts on demand)
      const now = Date.now();
      for (let i = 0; i < 4; i++) {
        await store.sql.command(`INSERT INTO prio_${process.pid}.samples (tenant, service, metric, labels, ts, value, retain_days)
          SELECT 't', 's', 'm', '', ${now} + number, number, 7 FROM numbers(${1000 * (i + 1)})`);
      }
      await store.sql.command(`OPTIMIZE TABLE prio_${process.pid}.samples FINAL`);
      // the keeper scans every 2 s; wait for a scan after the work
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const all = threads();
      const engine = all.filter((t) => t.name !== 'node' && !t.name.startsWith('libuv'));
      assert.ok(engine.length >= 3, `chdb's threads are seen (${all.map((t) => t.name).join(', ')})`);
      const stillHigh = engine.filter((t) => t.nice < DEFAULT_ENGINE_THREAD_NICE);
      assert.deepEqual(stillHigh, [], 'every engine thread runs at nice >= 10');
      assert.equal(getPriority(process.pid), mainBefore, 'the main thread keeps its priority');
      const own = all.filter((t) => t.name === 'node' || t.name.startsWith('libuv'));
      assert.ok(own.every((t) => t.nice === mainBefore), `Node's threads keep the process priority (${own.map((t) => t.nice).join(',')})`);
    } finally {
      await store.close();
    }
  });
});
