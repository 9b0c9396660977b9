// storage/writer against chdb for real: flush by size and time (a row queued during an insert
// waits for its own time), a store that fails for 30 s of
// virtual time (a fault injected into the engine's connection), bounded memory, the spill
// drained afterwards, the back-pressure figure per tenant, and a spill left by a closed writer.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../actors/runtime/index.ts';
import { VigilError } from '../protocols/index.ts';
import { TsdbStore, type EngineConnection, type SampleRun } from '../storage/tsdb/index.ts';
import { BatchWriter, StoreWriters, samplesTable, type WriterEvent } from '../storage/writer/index.ts';

// chdb binds one data folder per process: the same folder as the other storage tests.
const CHDB_DIR = join(tmpdir(), `vigil-chdb-test-${process.pid}`);
process.once('exit', () => rmSync(CHDB_DIR, { recursive: true, force: true }));

const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

/** The engine's connection, failing on every call while `down` says so; counts calls in flight. */
class Fault {
  inflight = 0;
  refused = 0;
  down: () => boolean = () => false;

  wrap = (inner: EngineConnection): EngineConnection => {
    const guarded = new Set(['query', 'insert', 'command', 'exec']);
    return new Proxy(inner, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (!guarded.has(String(prop))) return (value as (...a: unknown[]) => unknown).bind(target);
        return async (...args: unknown[]) => {
          if (this.down()) {
            this.refused++;
            throw new Error('injected fault: connection refused');
          }
          this.inflight++;
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            this.inflight--;
          }
        };
      },
    });
  };

  /** Lets real I/O finish: returns once nothing is in flight for a few turns of the loop. */
  async settle(): Promise<void> {
    for (let idle = 0; idle < 3;) {
      await new Promise((r) => setImmediate(r));
      idle = this.inflight === 0 ? idle + 1 : 0;
    }
  }
}

function runOf(tenant: string, series: number, n: number): SampleRun {
  const samples: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) samples.push([T0 + i * 1_000, series + i / n]);
  return { tenant, service: 'checkout', metric: 'latency_ms', labels: { series: String(series) }, samples };
}

describe('storage/writer on chdb', function () {
  this.timeout(300_000);
  const database = `vigil_test_writer_${process.pid}`;
  const fault = new Fault();
  let store: TsdbStore;
  let spillRoot: string;

  before(async () => {
    store = await TsdbStore.open({ chdbPath: CHDB_DIR, database, wrapConnection: fault.wrap });
    spillRoot = mkdtempSync(join(tmpdir(), 'vigil-spill-'));
  });

  after(async () => {
    fault.down = () => false;
    await store.sql.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
    rmSync(spillRoot, { recursive: true, force: true });
  });

  async function stored(tenant: string): Promise<{ raw: number; rollup: number }> {
    // every minute rolled first: rows a pass rolled and rows it had passed (late) count alike
    await store.rollUp(Number.MAX_SAFE_INTEGER);
    const rows = await store.sql.rows<{ raw: string; rollup: string }>(
      `SELECT (SELECT count() FROM ${database}.samples FINAL WHERE tenant = {t:String}) AS raw,
              (SELECT sum(v_count) FROM ${database}.samples_1h WHERE tenant = {t:String}) AS rollup`, { t: tenant });
    return { raw: Number(rows[0]!.raw), rollup: Number(rows[0]!.rollup) };
  }

  it('flushes a full batch at once and a partial one when its time comes', async () => {
    const clock = new VirtualClock(0);
    const writer = new BatchWriter(samplesTable(store), { clock, spillDir: join(spillRoot, 'flush'), maxBatchRows: 1_000, flushIntervalMs: 500 });
    let partialDone = false;
    const partial = writer.write([runOf('w-flush', 1, 300)]).then(() => { partialDone = true; });
    await fault.settle();
    assert.equal(partialDone, false, 'a partial batch waits for its time');
    assert.equal((await stored('w-flush')).raw, 0);
    assert.equal(writer.depth('w-flush'), 300);
    clock.advance(500);
    await partial;
    assert.equal((await stored('w-flush')).raw, 300);
    await writer.write([runOf('w-flush', 2, 600), runOf('w-flush', 3, 600)]); // over the batch size: no time needed
    assert.equal((await stored('w-flush')).raw, 1_500);
    assert.equal(writer.depth('w-flush'), 0);
    await writer.close();
  });

  it('rows written during an insert wait for their own time (not inserted back to back), unless flush() asks', async () => {
    const clock = new VirtualClock(0);
    const writer = new BatchWriter(samplesTable(store), { clock, spillDir: join(spillRoot, 'during'), maxBatchRows: 1_000, flushIntervalMs: 500 });
    const first = writer.write([runOf('w-during', 1, 300)]);
    clock.advance(500); // the first write's time: its insert starts
    let secondDone = false;
    const second = writer.write([runOf('w-during', 2, 100)]).then(() => { secondDone = true; }); // queued while it runs
    await first;
    await fault.settle();
    assert.equal(secondDone, false, 'a write queued during an insert waits for its own time');
    assert.equal((await stored('w-during')).raw, 300);
    clock.advance(499);
    await fault.settle();
    assert.equal(secondDone, false, 'its time is 500 ms after it was queued');
    clock.advance(1);
    await second;
    assert.equal((await stored('w-during')).raw, 400);
    const third = writer.write([runOf('w-during', 3, 50)]);
    await writer.flush(); // no time passes: flush() stores what is queued at once
    await third;
    assert.equal((await stored('w-during')).raw, 450);
    await writer.close();
  });

  it('loses no row while the store fails for 30 s (virtual), keeps memory bounded, drains the spill', async () => {
    const clock = new VirtualClock(0);
    const events: WriterEvent[] = [];
    const maxMemoryRows = 5_000;
    const maxBatchRows = 2_000;
    const spillDir = join(spillRoot, 'outage');
    const writer = new BatchWriter(samplesTable(store), {
      clock, spillDir, maxBatchRows, maxMemoryRows, flushIntervalMs: 500, probeIntervalMs: 1_000, onEvent: (e) => events.push(e),
    });
    fault.down = () => clock.now() >= 2_000 && clock.now() < 32_000;
    const acks: Array<Promise<void>> = [];
    let acked = 0;
    let peakMemory = 0;
    let peakSpill = 0;
    let depthDuringOutage = { a: 0, b: 0 };
    // 60 s of virtual time, a write every 100 ms: tenant a 100 rows, tenant b 20 rows.
    for (let step = 0; step < 600; step++) {
      acks.push(writer.write([runOf('w-out-a', step, 100)]).then(() => { acked++; }));
      acks.push(writer.write([runOf('w-out-b', step, 20)]).then(() => { acked++; }));
      clock.advance(100);
      await fault.settle();
      const s = writer.stats();
      peakMemory = Math.max(peakMemory, s.memoryRows);
      peakSpill = Math.max(peakSpill, s.spillFiles);
      if (step === 250) depthDuringOutage = { a: writer.depth('w-out-a'), b: writer.depth('w-out-b') };
    }
    fault.down = () => false;
    for (let i = 0; i < 400 && acked < acks.length; i++) {
      clock.advance(100);
      await fault.settle();
    }
    await Promise.all(acks);
    assert.equal(acked, 1_200);
    assert.ok(fault.refused > 0, 'the fault was hit');
    assert.ok(events.some((e) => e.type === 'down') && events.some((e) => e.type === 'up'));
    assert.ok(events.some((e) => e.type === 'spilled'), 'rows went to disk during the outage');
    assert.ok(peakSpill > 1, `spill files at the peak: ${peakSpill}`);
    assert.ok(peakMemory <= maxMemoryRows + 120, `memory stayed bounded: peak ${peakMemory} rows`);
    // Back-pressure per tenant: both had rows waiting mid-outage, in proportion to what they sent.
    assert.ok(depthDuringOutage.a > 10_000 && depthDuringOutage.b > 2_000, JSON.stringify(depthDuringOutage));
    assert.ok(depthDuringOutage.a > depthDuringOutage.b);
    assert.equal(writer.depth('w-out-a'), 0);
    assert.equal(writer.depth('w-out-b'), 0);
    assert.deepEqual(readdirSync(spillDir), [], 'the spill drained');
    // Every row stored exactly once, and the rollup counted each once (retries were checked writes).
    assert.deepEqual(await stored('w-out-a'), { raw: 60_000, rollup: 60_000 });
    assert.deepEqual(await stored('w-out-b'), { raw: 12_000, rollup: 12_000 });
    await writer.close();
  });

  it('a closed writer leaves its queue in the spill, and the next one stores it', async () => {
    const clock = new VirtualClock(0);
    const spillDir = join(spillRoot, 'restart');
    const first = new BatchWriter(samplesTable(store), { clock, spillDir, maxBatchRows: 10_000, flushIntervalMs: 60_000 });
    // verdicts ride in the spill with their samples, a nan among them (JSON has none of its own)
    const judged: SampleRun = { ...runOf('w-restart', 1, 500), scores: [[T0, 0.5, NaN], [T0 + 1_000, 0.25, 3]] };
    const pending = first.write([judged, runOf('w-restart', 2, 500)]);
    await first.close();
    await assert.rejects(pending, (e: unknown) => VigilError.is(e, 'UNAVAILABLE'));
    assert.equal(readdirSync(spillDir).length, 1);
    assert.equal((await stored('w-restart')).raw, 0);
    await assert.rejects(first.write([runOf('w-restart', 3, 1)]), (e: unknown) => VigilError.is(e, 'UNAVAILABLE'));

    const second = new BatchWriter(samplesTable(store), { clock, spillDir, maxBatchRows: 10_000, flushIntervalMs: 60_000 });
    assert.equal(second.depth('w-restart'), 1_000, 'rows on disk count toward the tenant depth');
    await second.flush();
    assert.deepEqual(await stored('w-restart'), { raw: 1_000, rollup: 1_000 });
    assert.deepEqual(await store.scoredSamples('w-restart', { service: 'checkout', metric: 'latency_ms' }), [[T0, 1, 0.5, NaN], [T0 + 1_000, 1.002, 0.25, 3]]);
    assert.deepEqual(readdirSync(spillDir), []);
    await second.close();
  });

  it('StoreWriters: events and incident states through their writers, one depth per tenant', async () => {
    const clock = new VirtualClock(0);
    const writers = new StoreWriters(store, { clock, spillDir: join(spillRoot, 'all'), flushIntervalMs: 100, eventFlushIntervalMs: 100 });
    const inc = { id: 'inc_w', tenant: 'w-all', status: 'open' as const, title: 't', services: ['db'], alertIds: [], openedAt: T0, updatedAt: T0, peakScore: 1 };
    const done = Promise.all([
      writers.samples.write([runOf('w-all', 1, 10)]),
      writers.putIncident(inc),
      writers.putIncident({ ...inc, status: 'acknowledged', updatedAt: T0 + 1, acknowledgedAt: T0 + 1 }),
      writers.anomalies.write([{ id: 'an_w', tenant: 'w-all', service: 'db', metric: 'm', labels: {}, timestamp: T0, value: 1, expected: 0, score: 1, tier: 'basic', direction: 'up' }]),
    ]);
    assert.equal(writers.depth('w-all'), 13);
    assert.equal(writers.depth('other'), 0);
    clock.advance(100);
    await done;
    assert.equal(writers.depth('w-all'), 0);
    assert.equal((await store.incident('w-all', 'inc_w'))!.status, 'acknowledged');
    assert.equal((await store.anomalies('w-all', {})).items.length, 1);
    await writers.close();
  });
});
