// storage/tsdb against chdb for real: writes, replay dedup, rollup choice, keyset pages,
// incident insert-or-replace, retention and tenant isolation.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VigilError, type Alert, type AnomalyEvent, type Incident } from '../protocols/index.ts';
import { TsdbStore, chooseResolution, type SampleRun } from '../storage/tsdb/index.ts';

// chdb binds one data folder per process: every storage test file of this run shares this
// one, each suite in its own database.
const CHDB_DIR = join(tmpdir(), `vigil-chdb-test-${process.pid}`);
process.once('exit', () => rmSync(CHDB_DIR, { recursive: true, force: true }));

const HOUR = 3_600_000;
// Recent data: the raw tables' TTL drops rows older than the tenant's retention on insert.
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;

function run(tenant: string, labels: Record<string, string>, n: number, stepMs: number, value: (i: number) => number, from = T0): SampleRun {
  const samples: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) samples.push([from + i * stepMs, value(i)]);
  return { tenant, service: 'checkout', metric: 'latency_ms', labels, samples };
}

function anomaly(tenant: string, i: number, ts: number): AnomalyEvent {
  return {
    id: `an_${tenant}_${i}`, tenant, service: i % 2 ? 'db' : 'checkout', metric: 'latency_ms', labels: { pod: `p${i % 3}` },
    timestamp: ts, value: i, expected: 1, score: 0.9, tier: 'agile', direction: 'up',
  };
}

function incident(tenant: string, id: string, over: Partial<Incident> = {}): Incident {
  return {
    id, tenant, status: 'open', title: `${id} latency`, services: ['db'], alertIds: ['al_1'],
    openedAt: T0, updatedAt: T0, peakScore: 0.8, ...over,
  };
}

describe('storage/tsdb on chdb', function () {
  this.timeout(120_000);
  let store: TsdbStore;
  const database = `vigil_test_tsdb_${process.pid}`;

  before(async () => {
    store = await TsdbStore.open({ chdbPath: CHDB_DIR, database, tenantRetentionDays: new Map([['short', 1]]) });
  });

  after(async () => {
    await store.sql.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  });

  it('stores samples and returns every series of (service, metric) merged in time order', async () => {
    await store.writeSamples([
      run('t-merge', { pod: 'a' }, 10, 10_000, (i) => i),
      run('t-merge', { pod: 'b' }, 10, 10_000, (i) => 100 + i, T0 + 5_000),
    ]);
    const all = await store.query('t-merge', 'checkout', 'latency_ms', {});
    assert.equal(all.length, 20);
    for (let i = 1; i < all.length; i++) assert.ok(all[i]![0] >= all[i - 1]![0], 'time order');
    assert.deepEqual(all.slice(0, 3), [[T0, 0], [T0 + 5_000, 100], [T0 + 10_000, 1]]);
    const b = await store.series('t-merge', { service: 'checkout', metric: 'latency_ms', labels: { pod: 'b' } });
    assert.equal(b.resolution, 'raw');
    assert.deepEqual(b.points.map((p) => p[1]), Array.from({ length: 10 }, (_, i) => 100 + i));
    const ranged = await store.query('t-merge', 'checkout', 'latency_ms', { from: T0 + 20_000, to: T0 + 40_000 });
    assert.deepEqual(ranged.map((p) => p[0]), [T0 + 20_000, T0 + 25_000, T0 + 30_000, T0 + 35_000, T0 + 40_000]);
    const newest = await store.query('t-merge', 'checkout', 'latency_ms', { limit: 2 });
    assert.deepEqual(newest.map((p) => p[0]), [T0 + 90_000, T0 + 95_000]);
  });

  it('a replayed batch is harmless: raw reads fold it, a checked write keeps the rollups exact', async () => {
    const runs = [run('t-replay', { pod: 'a' }, 360, 10_000, (i) => i % 7)];
    // Rolled past these rows first, so each write reaches the late views as it is sent
    // (rows a pass rolls are read FINAL: test/storage-rollups.test.ts).
    await store.rollUp(Number.MAX_SAFE_INTEGER);
    await store.writeSamples(runs);
    await store.writeSamples(runs, { checked: true });
    await store.writeSamples(runs); // an unchecked replay: raw reads still see each sample once
    const raw = await store.query('t-replay', 'checkout', 'latency_ms', {});
    assert.equal(raw.length, 360);
    assert.equal(await sizeOf('t-replay'), 720, 'the unchecked replay did reach the table (FINAL folds it)');
    // Only the unchecked replay reached the late views: the hour's count shows 720, not 1080.
    const hour = await store.series('t-replay', { service: 'checkout', metric: 'latency_ms', step: HOUR });
    assert.equal(hour.buckets!.reduce((n, b) => n + b.count, 0), 720);
  });

  it('a checked write sends only the samples not yet stored', async () => {
    const runs = [run('t-checked', { pod: 'a' }, 120, 10_000, (i) => i)];
    await store.writeSamples([{ ...runs[0]!, samples: runs[0]!.samples.slice(0, 50) }]);
    await store.writeSamples(runs, { checked: true });
    await store.writeSamples(runs, { checked: true });
    assert.equal(await sizeOf('t-checked'), 120);
    const minute = await store.series('t-checked', { service: 'checkout', metric: 'latency_ms', step: 60_000 });
    assert.equal(minute.resolution, '1m');
    assert.equal(minute.buckets!.reduce((n, b) => n + b.count, 0), 120);
  });

  it('keeps each sample\'s detector verdict in its row, reads the verdicts an older version kept in the scores table beside them, and never mixes label sets', async () => {
    const q = { service: 'checkout', metric: 'latency_ms' };
    const a = run('t-verdict', { pod: 'a' }, 5, 10_000, (i) => 10 + i);
    const b = run('t-verdict', { pod: 'b' }, 2, 10_000, (i) => 50 + i, T0 + 5_000);
    // pod a: the first three judged, the fourth and fifth not (a detector that threw, a covered replay)
    await store.writeSamples([
      { ...a, scores: a.samples.slice(0, 3).map(([t], i) => [t, i / 10, 9.5 + i] as const) },
      { ...b, scores: b.samples.map(([t]) => [t, 0.9, 40] as const) },
    ]);
    // a verdict of pod a's fourth sample, stored by a version before verdicts moved into samples, and
    // one of pod b at pod a's fifth sample's time (it must not be joined to pod a's row)
    const legacy = (labels: string, ts: number, score: number, expected: number) => ({ tenant: 't-verdict', ...q, labels, ts, score, expected, retain_days: 7 });
    await store.sql.insertJson('scores', [legacy('{pod="a"}', T0 + 30_000, 0.7, 12.5), legacy('{pod="b"}', T0 + 40_000, 0.99, 77)]);
    assert.deepEqual(await store.scoredSamples('t-verdict', q), [
      [T0, 10, 0, 9.5], [T0 + 5_000, 50, 0.9, 40], [T0 + 10_000, 11, 0.1, 10.5], [T0 + 15_000, 51, 0.9, 40],
      [T0 + 20_000, 12, 0.2, 11.5], [T0 + 30_000, 13, 0.7, 12.5],
    ]);
    assert.deepEqual(await store.scoredSamples('t-verdict', { ...q, labels: { pod: 'b' } }), [[T0 + 5_000, 50, 0.9, 40], [T0 + 15_000, 51, 0.9, 40]]);
    assert.deepEqual(await store.scoredSamples('t-verdict', { ...q, limit: 2 }), [[T0 + 20_000, 12, 0.2, 11.5], [T0 + 30_000, 13, 0.7, 12.5]]);
    // scores() reads every verdict, the legacy one of pod b without a sample too
    assert.deepEqual((await store.scores('t-verdict', q)).map(([t, score]) => [t - T0, score]), [
      [0, 0], [5_000, 0.9], [10_000, 0.1], [15_000, 0.9], [20_000, 0.2], [30_000, 0.7], [40_000, 0.99],
    ]);
    // the values are the samples' own, judged or not
    assert.equal((await store.query('t-verdict', q.service, q.metric, {})).length, 7);
  });

  it('gives a samples table made before verdicts moved into it their columns, its rows unjudged', async () => {
    const old = `vigil_test_tsdb_old_${process.pid}`;
    await store.sql.command(`CREATE DATABASE IF NOT EXISTS ${old}`);
    await store.sql.command(`CREATE TABLE ${old}.samples (
      tenant LowCardinality(String), service LowCardinality(String), metric LowCardinality(String), labels String,
      ts Int64, value Float64, retain_days UInt16) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(toDateTime(intDiv(ts, 1000)))
      ORDER BY (tenant, service, metric, labels, ts) TTL toDateTime(intDiv(ts, 1000)) + toIntervalDay(retain_days)`);
    await store.sql.command(`INSERT INTO ${old}.samples VALUES ('t', 'checkout', 'latency_ms', '', {ts:Int64}, 1.5, 7)`, { ts: T0 });
    const upgraded = await TsdbStore.open({ chdbPath: CHDB_DIR, database: old });
    try {
      await upgraded.writeSamples([{ tenant: 't', service: 'checkout', metric: 'latency_ms', labels: {}, samples: [[T0 + 1_000, 2.5]], scores: [[T0 + 1_000, 0.5, 2]] }]);
      const q = { service: 'checkout', metric: 'latency_ms' };
      assert.deepEqual(await upgraded.query('t', q.service, q.metric, {}), [[T0, 1.5], [T0 + 1_000, 2.5]]);
      assert.deepEqual(await upgraded.scoredSamples('t', q), [[T0 + 1_000, 2.5, 0.5, 2]]);
    } finally {
      await upgraded.close();
      await store.sql.command(`DROP DATABASE IF EXISTS ${old}`);
    }
  });

  it('chooses the rollup by the step and computes its buckets', async () => {
    // Two hours at 10 s: value = minute index, so each minute's avg/min/max is known.
    const r = run('t-rollup', { pod: 'a' }, 720, 10_000, (i) => Math.floor(i / 6));
    await store.writeSamples([r]);
    const q = { service: 'checkout', metric: 'latency_ms', from: T0, to: T0 + 2 * HOUR - 1 };
    const raw = await store.series('t-rollup', q);
    assert.equal(raw.resolution, 'raw');
    assert.equal(raw.points.length, 720);

    const s30 = await store.series('t-rollup', { ...q, step: 30_000 });
    assert.equal(s30.resolution, 'raw');
    assert.equal(s30.buckets!.length, 240);
    assert.deepEqual(pick(s30.buckets![3]!), { t: T0 + 90_000, count: 3, avg: 1, min: 1, max: 1 });

    const m5 = await store.series('t-rollup', { ...q, step: 300_000 });
    assert.equal(m5.resolution, '1m');
    assert.equal(m5.buckets!.length, 24);
    // minutes 5..9 → values 5..9, six samples each
    assert.deepEqual(pick(m5.buckets![1]!), { t: T0 + 300_000, count: 30, avg: 7, min: 5, max: 9 });
    assert.ok(m5.buckets![1]!.p50 >= 5 && m5.buckets![1]!.p99 <= 9);

    const h = await store.series('t-rollup', { ...q, step: HOUR });
    assert.equal(h.resolution, '1h');
    assert.deepEqual(h.buckets!.map(pick), [
      { t: T0, count: 360, avg: 29.5, min: 0, max: 59 },
      { t: T0 + HOUR, count: 360, avg: 89.5, min: 60, max: 119 },
    ]);
    assert.deepEqual(h.points, [[T0, 29.5], [T0 + HOUR, 89.5]]);

    assert.equal(chooseResolution(undefined), 'raw');
    assert.equal(chooseResolution(59_999), 'raw');
    assert.equal(chooseResolution(60_000), '1m');
    assert.equal(chooseResolution(3_599_999), '1m');
    assert.equal(chooseResolution(HOUR), '1h');
    for (const bad of [0, -5, 1.5]) assert.throws(() => chooseResolution(bad), (e: unknown) => VigilError.is(e, 'BAD_REQUEST'));
  });

  it('pages anomalies newest first with keyset cursors: no gap, no repeat, while new ones arrive', async () => {
    const events: AnomalyEvent[] = [];
    // Pairs share a timestamp, so the id must break the tie.
    for (let i = 0; i < 60; i++) events.push(anomaly('t-page', i, T0 + Math.floor(i / 2) * 1_000));
    await store.writeAnomalies(events);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.anomalies('t-page', { limit: 7, cursor });
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next;
      pages++;
      // Newer events land at the head meanwhile; the walk must not see them or lose its place.
      if (pages === 2) await store.writeAnomalies([anomaly('t-page', 1000, T0 + HOUR), anomaly('t-page', 1001, T0 + 15_000)]);
    } while (cursor);
    const expected = [...events].sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : -1)).map((e) => e.id);
    // The one written mid-walk inside the unread part (t0+15 s) is picked up in its place.
    const withLate = [...events, anomaly('t-page', 1001, T0 + 15_000)]
      .sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : -1)).map((e) => e.id);
    assert.equal(new Set(seen).size, seen.length, 'no repeats');
    assert.ok(seen.length === expected.length || seen.length === withLate.length);
    assert.deepEqual(seen, seen.length === expected.length ? expected : withLate);
    assert.equal(pages, Math.ceil(seen.length / 7));

    const db = await store.anomalies('t-page', { service: 'db', from: T0 + 10_000, to: T0 + 19_000, limit: 100 });
    assert.ok(db.items.length > 0);
    assert.ok(db.items.every((e) => e.service === 'db' && e.timestamp >= T0 + 10_000 && e.timestamp <= T0 + 19_000));
    assert.deepEqual(db.items[0]!.labels, events.find((e) => e.id === db.items[0]!.id)!.labels);
    assert.equal(db.next, undefined);

    await assert.rejects(store.anomalies('t-page', { cursor: 'not-a-cursor' }), (e: unknown) => VigilError.is(e, 'BAD_REQUEST'));
  });

  it('stores an anomaly or alert once (at-least-once delivery is harmless)', async () => {
    const e = anomaly('t-once', 1, T0);
    assert.equal(await store.putAnomaly(e), true);
    assert.equal(await store.putAnomaly(e), false);
    const alert: Alert = {
      id: 'al_1', tenant: 't-once', service: 'db', metric: 'latency_ms', labels: {}, timestamp: T0, score: 0.9,
      severity: 'critical', tier: 'agile', anomalyId: e.id, incidentId: 'inc_1',
    };
    assert.equal(await store.putAlert(alert), true);
    assert.equal(await store.putAlert(alert), false);
    await store.writeAlerts([alert, alert]);
    const page = await store.alerts('t-once', {});
    assert.deepEqual(page.items, [alert]);
  });

  it('a batch of anomalies or alerts written again (a replay, a retry) adds no row: one row per id, not only one answer', async () => {
    const events = Array.from({ length: 6 }, (_, i) => anomaly('t-rows', i, T0 + i * 1000));
    await store.writeAnomalies(events.slice(0, 4));
    await store.writeAnomalies([...events, events[5]!]); // four stored already, one twice in the batch
    const alerts: Alert[] = events.map((e) => ({
      id: `al_${e.id}`, tenant: e.tenant, service: e.service, metric: e.metric, labels: {}, timestamp: e.timestamp, score: 0.9,
      severity: 'critical', tier: 'agile', anomalyId: e.id, incidentId: 'inc_rows',
    }));
    await store.writeAlerts(alerts.slice(0, 2));
    await store.writeAlerts(alerts);
    // another tenant's event under the same id is its own row
    await store.writeAnomalies([{ ...events[0]!, tenant: 't-rows-b' }]);
    for (const table of ['anomalies', 'alerts']) {
      const [row] = await store.sql.rows<{ n: string; ids: string }>(
        `SELECT count() AS n, uniqExact(id) AS ids FROM ${database}.${table} WHERE tenant = 't-rows'`);
      assert.deepEqual([Number(row!.n), Number(row!.ids)], [6, 6], `${table}: rows and distinct ids`);
    }
    assert.equal((await store.anomalies('t-rows-b', {})).items.length, 1);
  });

  it('inserts or replaces incidents by id, keeps their timeline, finds the unresolved', async () => {
    assert.equal(await store.putIncident(incident('t-inc', 'inc_a')), true);
    assert.equal(await store.putIncident(incident('t-inc', 'inc_b', { openedAt: T0 + 1_000, updatedAt: T0 + 1_000 })), true);
    const acked = incident('t-inc', 'inc_a', { status: 'acknowledged', updatedAt: T0 + 5_000, acknowledgedAt: T0 + 5_000, services: ['db', 'api'] });
    assert.equal(await store.putIncident(acked), false);
    assert.deepEqual(await store.incident('t-inc', 'inc_a'), acked);
    // The same state again (a replay) adds no timeline entry.
    await store.writeIncidents([{ incident: acked, version: store.nextIncidentVersion() }]);
    const resolved = { ...acked, status: 'resolved' as const, updatedAt: T0 + 9_000, resolvedAt: T0 + 9_000 };
    await store.putIncident(resolved);
    const timeline = await store.incidentTimeline('t-inc', 'inc_a');
    assert.deepEqual(timeline.map((i) => i.status), ['open', 'acknowledged', 'resolved']);
    assert.deepEqual(await store.incident('t-inc', 'inc_a'), resolved);

    const unresolved = await store.unresolvedIncidents('t-inc');
    assert.deepEqual(unresolved.map((i) => i.id), ['inc_b']);
    const page = await store.incidents('t-inc', {});
    assert.deepEqual(page.items.map((i) => i.id), ['inc_b', 'inc_a']);
    assert.deepEqual((await store.incidents('t-inc', { status: 'resolved' })).items.map((i) => i.id), ['inc_a']);
    assert.deepEqual((await store.incidents('t-inc', { service: 'api' })).items.map((i) => i.id), ['inc_a']);
    const first = await store.incidents('t-inc', { limit: 1 });
    assert.deepEqual(first.items.map((i) => i.id), ['inc_b']);
    const second = await store.incidents('t-inc', { limit: 1, cursor: first.next });
    assert.deepEqual(second.items.map((i) => i.id), ['inc_a']);
    assert.equal(second.next, undefined);
    assert.equal(await store.incident('t-inc', 'missing'), undefined);
  });

  it('keeps tenants apart: a query for A never returns B rows', async () => {
    await store.writeSamples([run('iso-a', { pod: 'x' }, 5, 1_000, () => 1), run('iso-b', { pod: 'x' }, 5, 1_000, () => 2)]);
    await store.writeAnomalies([anomaly('iso-a', 1, T0), anomaly('iso-b', 1, T0)]);
    await store.putIncident(incident('iso-a', 'inc_same'));
    await store.putIncident(incident('iso-b', 'inc_same', { title: 'B only' }));
    assert.deepEqual((await store.query('iso-a', 'checkout', 'latency_ms', {})).map((p) => p[1]), [1, 1, 1, 1, 1]);
    assert.deepEqual((await store.query('iso-b', 'checkout', 'latency_ms', {})).map((p) => p[1]), [2, 2, 2, 2, 2]);
    const minuteA = await store.series('iso-a', { service: 'checkout', metric: 'latency_ms', step: 60_000 });
    assert.deepEqual(minuteA.buckets!.map((b) => [b.count, b.max]), [[5, 1]]);
    assert.deepEqual((await store.anomalies('iso-a', {})).items.map((e) => e.tenant), ['iso-a']);
    assert.equal((await store.incident('iso-a', 'inc_same'))!.title, 'inc_same latency');
    assert.equal((await store.incident('iso-b', 'inc_same'))!.title, 'B only');
    assert.deepEqual((await store.unresolvedIncidents('iso-a')).map((i) => i.tenant), ['iso-a']);
    assert.deepEqual((await store.query('nobody', 'checkout', 'latency_ms', {})), []);
  });

  it('drops raw rows past the tenant retention (TTL per row), and a rewrite applies a new one', async () => {
    const twoDaysAgo = Date.now() - 2 * 24 * HOUR;
    await store.writeSamples([
      run('short', { pod: 'x' }, 3, 1_000, () => 1, twoDaysAgo),
      run('default', { pod: 'x' }, 3, 1_000, () => 1, twoDaysAgo),
    ]);
    assert.equal(store.rawRetentionDays('short'), 1);
    assert.equal((await store.query('short', 'checkout', 'latency_ms', {})).length, 0, 'older than its 1 day');
    assert.equal((await store.query('default', 'checkout', 'latency_ms', {})).length, 3, 'within the default 7 days');
    await store.setRawRetention('default', 1, { rewrite: true });
    await store.sql.command(`OPTIMIZE TABLE ${database}.samples FINAL`);
    assert.equal((await store.query('default', 'checkout', 'latency_ms', {})).length, 0, 'the rewrite applied 1 day');
    await assert.rejects(store.setRawRetention('x', 0), (e: unknown) => VigilError.is(e, 'CONFIG_INVALID'));
  });

  it('merges a stream of tiny parts ten at a time (the embedded merge policy), not the whole table again every few inserts', async () => {
    // 40 inserts of a constant series, a few hundred bytes each: under ClickHouse's default
    // selector each new part looked as large as the table (a fixed 5 MB per part), so the
    // table was merged whole again and again (level 10 and more after 40 inserts)
    const db = `${database}_merges`; // a database of its own: the other tests' parts stay out of the count
    const own = await TsdbStore.open({ chdbPath: CHDB_DIR, database: db });
    try {
      const parts = () => own.sql.rows<{ n: number; level: number }>(
        'SELECT toUInt32(count()) AS n, toUInt32(max(level)) AS level FROM system.parts WHERE database = {db:String} AND table = \'samples\' AND active',
        { db });
      const key = { service: 'merge', metric: 'flat', labels: { pod: 'p0' } };
      for (let i = 0; i < 40; i++) await own.append('merges', key, Array.from({ length: 10 }, (_, j): [number, number] => [T0 + 3 * HOUR + (i * 10 + j) * 1000, 0]));
      let now = (await parts())[0]!;
      for (let waited = 0; now.n > 10 && waited < 60_000; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        now = (await parts())[0]!;
      }
      assert.ok(now.n <= 10, `the 40 parts were not merged within 60 s (${now.n} left)`);
      assert.ok(now.level <= 2, `a part of level ${now.level}: merged again and again, not ten at a time`);
      const [stored] = await own.sql.rows<{ n: number }>(`SELECT toUInt32(count()) AS n FROM ${db}.samples FINAL WHERE tenant = 'merges'`);
      assert.equal(stored!.n, 400);
    } finally {
      await own.sql.command(`DROP DATABASE IF EXISTS ${db}`);
      await own.close();
    }
  });

  it('refuses a second chdb folder in the same process, and a bad database name', async () => {
    await assert.rejects(TsdbStore.open({ chdbPath: `${CHDB_DIR}-other`, database: 'x' }), (e: unknown) => VigilError.is(e, 'CONFIG_INVALID'));
    await assert.rejects(TsdbStore.open({ chdbPath: CHDB_DIR, database: 'bad-name; DROP' }), (e: unknown) => VigilError.is(e, 'CONFIG_INVALID'));
  });

  async function sizeOf(tenant: string): Promise<number> {
    const rows = await store.sql.rows<{ n: string }>(`SELECT count() AS n FROM ${database}.samples WHERE tenant = {t:String}`, { t: tenant });
    return Number(rows[0]!.n);
  }
});

function pick(b: { t: number; count: number; avg: number; min: number; max: number }): object {
  return { t: b.t, count: b.count, avg: b.avg, min: b.min, max: b.max };
}
