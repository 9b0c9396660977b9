// The embedded engine's rollups (storage/tsdb/rollup.ts) against chdb for real: a pass rolls
// closed minutes and hours exactly once, reads agree before and after it, late rows are added
// once, a pass cut short is undone at the next open, and a store the old views rolled moves over.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { VirtualClock } from '../actors/runtime/index.ts';
import {
  ROLLUP_1H_MS, ROLLUP_1M_MS, ROLLUP_LAG_MS, TsdbStore, registerRollupMetrics, type SampleRun, type SeriesBucket,
} from '../storage/tsdb/index.ts';

const CHDB_DIR = join(tmpdir(), `vigil-chdb-test-${process.pid}`);
process.once('exit', () => rmSync(CHDB_DIR, { recursive: true, force: true }));

const HOUR = ROLLUP_1H_MS;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
const Q = { service: 'checkout', metric: 'latency_ms' } as const;

/** n samples 10 s apart from `from`, value = the minute index within the run. */
function run(tenant: string, n: number, from: number, pod = 'a'): SampleRun {
  const samples: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) samples.push([from + i * 10_000, Math.floor(i / 6)]);
  return { tenant, ...Q, labels: { pod }, samples };
}

const counts = (buckets: readonly SeriesBucket[] | undefined): number[] => (buckets ?? []).map((b) => b.count);
/** Exact figures; the quantiles are t-digest estimates, which depend on how states were merged. */
const stats = (buckets: readonly SeriesBucket[] | undefined): string =>
  JSON.stringify((buckets ?? []).map((b) => [b.t, b.count, b.avg, b.min, b.max]));

function sameQuantiles(a: readonly SeriesBucket[] | undefined, b: readonly SeriesBucket[] | undefined): void {
  assert.equal(a?.length, b?.length);
  (a ?? []).forEach((x, i) => {
    const y = b![i]!;
    const span = Math.max(1, x.max - x.min);
    for (const k of ['p50', 'p95', 'p99'] as const) assert.ok(Math.abs(x[k] - y[k]) <= 0.01 * span, `${k} at ${x.t}: ${x[k]} against ${y[k]}`);
  });
}

async function rolledCount(store: TsdbStore, table: 'samples_1m' | 'samples_1h', tenant: string): Promise<number> {
  const rows = await store.sql.rows<{ n: string | number | null }>(
    `SELECT sum(v_count) AS n FROM ${store.sql.db}.${table} WHERE tenant = {t:String}`, { t: tenant });
  return Number(rows[0]?.n ?? 0);
}

describe('storage/tsdb rollups on chdb (passes and late rows)', function () {
  this.timeout(120_000);
  const databases: string[] = [];
  const open = (name: string, clock: VirtualClock): Promise<TsdbStore> => {
    const database = `vigil_test_rollups_${name}_${process.pid}`;
    if (!databases.includes(database)) databases.push(database);
    return TsdbStore.open({ chdbPath: CHDB_DIR, database, clock });
  };

  after(async () => {
    const store = await TsdbStore.open({ chdbPath: CHDB_DIR, database: `vigil_test_rollups_cleanup_${process.pid}` });
    for (const db of [...databases, store.sql.db]) await store.sql.command(`DROP DATABASE IF EXISTS ${db}`);
    await store.close();
  });

  it('a pass rolls each closed minute and hour once; reads agree before and after it', async () => {
    const clock = new VirtualClock(T0);
    const store = await open('pass', clock);
    try {
      // two hours and ten minutes at 10 s; the clock has not reached them, so no pass rolls them
      await store.writeSamples([run('t-pass', 780, T0), run('t-pass', 780, T0, 'b')]);
      assert.ok(store.rolledUp.minute <= T0 && store.rolledUp.hour <= T0, JSON.stringify(store.rolledUp));
      const q = { ...Q, from: T0, to: T0 + 3 * HOUR };
      const before = { m: await store.series('t-pass', { ...q, step: ROLLUP_1M_MS }), h: await store.series('t-pass', { ...q, step: HOUR }) };
      assert.equal(before.m.resolution, '1m');
      assert.deepEqual(counts(before.h.buckets), [720, 720, 120]);

      const end = T0 + 2 * HOUR + 5 * ROLLUP_1M_MS; // minutes up to 2:05 have ended
      const marks = await store.rollUp(end);
      assert.deepEqual(marks, { minute: end, hour: T0 + 2 * HOUR });
      assert.equal(await rolledCount(store, 'samples_1m', 't-pass'), 2 * 750);
      assert.equal(await rolledCount(store, 'samples_1h', 't-pass'), 2 * 720);
      const after = { m: await store.series('t-pass', { ...q, step: ROLLUP_1M_MS }), h: await store.series('t-pass', { ...q, step: HOUR }) };
      assert.equal(stats(after.m.buckets), stats(before.m.buckets));
      assert.equal(stats(after.h.buckets), stats(before.h.buckets));
      sameQuantiles(after.m.buckets, before.m.buckets);
      sameQuantiles(after.h.buckets, before.h.buckets);
      // a second pass over the same time adds nothing
      await store.rollUp(end);
      assert.equal(await rolledCount(store, 'samples_1m', 't-pass'), 2 * 750);
      assert.equal(await rolledCount(store, 'samples_1h', 't-pass'), 2 * 720);
    } finally {
      await store.close();
    }
  });

  it('an unchecked replay before the pass is folded; rows after it are added once, to the minute and the hour', async () => {
    const clock = new VirtualClock(T0);
    const store = await open('late', clock);
    try {
      const first = run('t-late', 360, T0);
      await store.writeSamples([first]);
      await store.writeSamples([first]); // an unchecked replay, before any pass: the pass reads FINAL
      await store.rollUp(T0 + HOUR);
      assert.equal(await rolledCount(store, 'samples_1h', 't-late'), 360);
      // late rows: an hour the passes have closed, another pod
      await store.writeSamples([run('t-late', 60, T0, 'late')]);
      await store.writeSamples([run('t-late', 60, T0, 'late')], { checked: true });
      assert.equal(await rolledCount(store, 'samples_1m', 't-late'), 420);
      assert.equal(await rolledCount(store, 'samples_1h', 't-late'), 420);
      const h = await store.series('t-late', { ...Q, from: T0, to: T0 + HOUR - 1, step: HOUR });
      assert.deepEqual(counts(h.buckets), [420]);
      assert.equal(h.buckets![0]!.max, 59);
    } finally {
      await store.close();
    }
  });

  it('a write starts a pass once the lag has gone by, and reads do not wait for it', async () => {
    const clock = new VirtualClock(T0 + 10 * ROLLUP_1M_MS + ROLLUP_LAG_MS);
    const store = await open('auto', clock);
    try {
      await store.writeSamples([run('t-auto', 60, T0)]);
      await store.close(); // waits for the pass the write began
      const reopened = await open('auto', clock);
      try {
        assert.deepEqual(reopened.rolledUp, { minute: T0 + 10 * ROLLUP_1M_MS, hour: T0 });
        assert.equal(await rolledCount(reopened, 'samples_1m', 't-auto'), 60);
      } finally {
        await reopened.close();
      }
    } finally {
      await store.close();
    }
  });

  it('rollup rows past the marks (a pass cut short) are deleted at the next open', async () => {
    const clock = new VirtualClock(T0);
    const store = await open('cut', clock);
    await store.writeSamples([run('t-cut', 120, T0)]);
    await store.rollUp(T0 + 10 * ROLLUP_1M_MS);
    // what a pass that died before its mark would leave: minutes 10..19 rolled, the mark at 10
    await store.sql.command(`INSERT INTO ${store.sql.db}.samples_1m (tenant, service, metric, labels, bucket, v_count, v_avg, v_min, v_max, v_q)
      SELECT tenant, service, metric, labels, intDiv(ts, 60000) * 60000 AS bucket, count(), avgState(value), min(value), max(value),
        quantilesTDigestState(0.5, 0.95, 0.99)(value)
      FROM ${store.sql.db}.samples WHERE ts >= {from:Int64} GROUP BY tenant, service, metric, labels, bucket`, { from: T0 + 10 * ROLLUP_1M_MS });
    assert.equal(await rolledCount(store, 'samples_1m', 't-cut'), 120);
    await store.close();
    const reopened = await open('cut', clock);
    try {
      assert.equal(await rolledCount(reopened, 'samples_1m', 't-cut'), 60);
      await reopened.rollUp(T0 + 20 * ROLLUP_1M_MS);
      assert.equal(await rolledCount(reopened, 'samples_1m', 't-cut'), 120);
    } finally {
      await reopened.close();
    }
  });

  it('a store the views rolled moves over: rolled up to its newest sample, the views dropped', async () => {
    const clock = new VirtualClock(T0);
    const store = await open('views', clock);
    const db = store.sql.db;
    // the old schema: views on samples, no marks
    await store.sql.command(`TRUNCATE TABLE ${db}.rollup_marks`);
    await store.sql.command(`CREATE MATERIALIZED VIEW ${db}.samples_1m_mv TO ${db}.samples_1m AS
      SELECT tenant, service, metric, labels, intDiv(ts, 60000) * 60000 AS bucket, count() AS v_count, avgState(value) AS v_avg,
        min(value) AS v_min, max(value) AS v_max, quantilesTDigestState(0.5, 0.95, 0.99)(value) AS v_q
      FROM ${db}.samples GROUP BY tenant, service, metric, labels, bucket`);
    await store.sql.command(`CREATE MATERIALIZED VIEW ${db}.samples_1h_mv TO ${db}.samples_1h AS
      SELECT tenant, service, metric, labels, intDiv(ts, 3600000) * 3600000 AS bucket, count() AS v_count, avgState(value) AS v_avg,
        min(value) AS v_min, max(value) AS v_max, quantilesTDigestState(0.5, 0.95, 0.99)(value) AS v_q
      FROM ${db}.samples GROUP BY tenant, service, metric, labels, bucket`);
    await store.sql.insertTsv('samples', ['tenant', 'service', 'metric', 'labels', 'ts', 'value', 'retain_days'],
      Array.from({ length: 90 }, (_, i) => `t-views\tcheckout\tlatency_ms\t{pod="a"}\t${T0 + i * 10_000}\t1\t7\n`).join(''));
    await store.close();
    const reopened = await open('views', clock);
    try {
      const newest = T0 + 89 * 10_000;
      assert.deepEqual(reopened.rolledUp, { minute: Math.floor(newest / ROLLUP_1M_MS) * ROLLUP_1M_MS + ROLLUP_1M_MS, hour: T0 + HOUR });
      const views = await reopened.sql.rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name`, { db });
      assert.deepEqual(views.map((v) => v.name), ['late_1h_mv', 'late_1m_mv']);
      await reopened.writeSamples([run('t-views', 30, T0 + 900_000, 'b')]); // minutes 15..19: past the minute mark, before the hour's
      await reopened.rollUp(T0 + HOUR + ROLLUP_1M_MS);
      assert.equal(await rolledCount(reopened, 'samples_1m', 't-views'), 120);
      assert.equal(await rolledCount(reopened, 'samples_1h', 't-views'), 120);
      const h = await reopened.series('t-views', { ...Q, from: T0, to: T0 + HOUR - 1, step: HOUR });
      assert.deepEqual(counts(h.buckets), [120]);
    } finally {
      await reopened.close();
    }
  });

  it('/metrics shows how far the rollup is behind, and a failing pass', async () => {
    const clock = new VirtualClock(T0 + 30 * ROLLUP_1M_MS);
    const store = await open('metrics', clock);
    const registry = new Registry();
    registerRollupMetrics(registry, store);
    const gauge = async (name: string): Promise<number> => {
      const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ')[1]);
    };
    try {
      await store.rollUp(T0 + 20 * ROLLUP_1M_MS);
      assert.equal(await gauge('vigil_rollup_behind_seconds'), 600);
      assert.equal(await gauge('vigil_rollup_pass_failing'), 0);
      await store.sql.command(`DROP TABLE ${store.sql.db}.samples_1m`);
      await assert.rejects(store.rollUp(T0 + 25 * ROLLUP_1M_MS));
      assert.equal(await gauge('vigil_rollup_pass_failing'), 1);
      assert.equal(await gauge('vigil_rollup_behind_seconds'), 600, 'the marks stay where the last pass left them');
    } finally {
      await store.close();
    }
  });
});
