// The checkpoint's pacing: a shard's timed snapshots wait in proportion to the bytes of its last
// one (Checkpoints' bytesPerSecond), so a shard of thousands of series is not packed and shipped
// every interval; a small shard keeps the interval; a checkpoint asked for (take, fresh, stop)
// is never paced. Real parts: a SnapshotStore in a temporary folder and encoded detector state;
// the shards' positions are data, moved by the test, on a virtual clock.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDetector } from '../actors/detection/index.ts';
import { VirtualClock } from '../actors/runtime/index.ts';
import { Checkpoints } from '../cluster/index.ts';
import { encodeTenantEntries, SnapshotStore } from '../cluster/snapshots/index.ts';
import type { SeriesSnapshot } from '../actors/service/index.ts';

const INTERVAL_MS = 5_000;

/** `count` series of tenant `tenant`, each with its own history, as encoded snapshot entries. */
function packed(tenant: string, count: number): Uint8Array {
  const series: SeriesSnapshot[] = Array.from({ length: count }, (_, i) => {
    const det = createDetector('basic');
    for (let t = 0; t < 120; t++) det.update(t * 60_000, 50 + 10 * Math.sin(t / (2 + i)));
    return { service: 'api', metric: 'latency', labels: { host: `h${i}` }, since: 0, quietUntil: 0, detector: det.snapshot() };
  });
  return encodeTenantEntries(tenant, series);
}

interface Paced {
  checkpoints: Checkpoints;
  store: SnapshotStore;
  /** each save: when (ms after the start), which shard, at what position */
  saved: Array<{ at: number; shard: number; position: number }>;
  /** one interval: the timer fires and its checkpoint finishes */
  tick(): Promise<void>;
}

/** Checkpoints over `position`'s shards (tenant per shard in `tenantOf`, packed state in `state`), every INTERVAL_MS on a virtual clock. */
function pacedCheckpoints(dir: string, position: Map<number, number>, tenantOf: (shard: number) => string, state: Map<string, Uint8Array[]>, bytesPerSecond?: number): Paced {
  const START = 1_000_000;
  const clock = new VirtualClock(START);
  const saved: Paced['saved'] = [];
  const store = new SnapshotStore(dir);
  const checkpoints = new Checkpoints({
    hosts: { shards: () => [...position.keys()], watermark: (s) => position.get(s)!, tenants: (s) => [tenantOf(s)] },
    snapshots: { save: async (s) => { saved.push({ at: clock.now() - START, shard: s.shard, position: s.logPosition }); return await store.save(s); } },
    log: { ack: async () => undefined },
    clock, node: 'n1', ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
    stateOf: async (tenants) => new Map(tenants.map((t) => [t, state.get(t)!])),
    flush: async () => undefined,
    onError: (err) => { throw err; },
  });
  checkpoints.every(INTERVAL_MS);
  return {
    checkpoints, store, saved,
    async tick() {
      clock.advance(INTERVAL_MS);
      await checkpoints.take(); // joins the timer's checkpoint, under way since the advance
      await new Promise((r) => setImmediate(r)); // the timer is set again
    },
  };
}

describe('checkpoints: snapshots paced by their size', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vigil-pacing-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('snapshots a large shard less often than the interval, a small one at every interval, and takes both when asked', async () => {
    const [BIG, SMALL] = [0, 1];
    const state = new Map([['bigco', [packed('bigco', 200)]], ['smallco', [packed('smallco', 2)]]]);
    const bigBytes = state.get('bigco')![0]!.byteLength;
    // the big shard's bytes ask for a 12 s pause; the small one's for a fraction of a second
    const bytesPerSecond = bigBytes / 12;
    assert.ok(state.get('smallco')![0]!.byteLength * 1000 / bytesPerSecond < INTERVAL_MS);
    const position = new Map([[BIG, 0], [SMALL, 0]]);
    const move = () => { for (const [s, p] of position) position.set(s, p + 10); };
    const { checkpoints, store, saved, tick } = pacedCheckpoints(dir, position, (s) => (s === BIG ? 'bigco' : 'smallco'), state, bytesPerSecond);

    for (let i = 0; i < 6; i++) { // t = 5, 10, ..., 30 s, both shards moving before each
      move();
      await tick();
    }
    const at = (shard: number) => saved.filter((s) => s.shard === shard).map((s) => s.at / 1000);
    assert.deepEqual(at(SMALL), [5, 10, 15, 20, 25, 30], 'the small shard at every interval');
    // 5 s, then not before 5 + 12 = 17 s: the tick at 20 s; then not before 32 s
    assert.deepEqual(at(BIG), [5, 20], 'the big shard paced by its bytes');
    assert.equal(checkpoints.behind(), 1, 'the big shard moved past its newest snapshot');

    // asked for, a checkpoint is not paced: a clean stop or a hand-off snapshots everything that moved
    move();
    await checkpoints.stop();
    assert.deepEqual(saved.slice(-2).map((s) => [s.shard, s.position]), [[BIG, 70], [SMALL, 70]]);
    assert.equal(checkpoints.behind(), 0);
    assert.equal((await store.latest(BIG))?.snapshot.logPosition, 70);
  });

  it('paces nothing the interval already covers (the default: 256 KiB of state a second)', async () => {
    const position = new Map([[3, 0]]);
    const { checkpoints, saved, tick } = pacedCheckpoints(dir, position, () => 'acme', new Map([['acme', [packed('acme', 50)]]]));
    for (let i = 0; i < 3; i++) {
      position.set(3, position.get(3)! + 5);
      await tick();
    }
    assert.deepEqual(saved.map((s) => s.at), [5_000, 10_000, 15_000]);
    await checkpoints.stop();
  });
});
