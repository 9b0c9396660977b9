// What keeps a batch from being stored twice, or skipped, when a shard changes hands: a copy
// the log stored twice is handed on once (ShardHosts), and a checkpoint that read a shard's
// watermark under one lease is not saved once the shard is held under another (Checkpoints).
// Real parts: JetStream (127.0.0.1:4222, a stream of this run's own) and snapshots on disk.
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../actors/runtime/index.ts';
import { IngestReceipt } from '../actors/tenant/index.ts';
import { encodeMetricBatch } from '../protocols/index.ts';
import { Checkpoints, type JetStreamIngestLog, ShardHosts, type LogRecord } from '../cluster/index.ts';
import { SnapshotStore } from '../cluster/snapshots/index.ts';
import { eventually } from './support/node-process.ts';
import { runStream } from './support/run-stream.ts';

const batch = (k: number, tenant = 'acme'): Uint8Array => encodeMetricBatch(tenant, [{ service: 'api', metric: 'm', samples: [[k * 1000, k]] }]);

describe('cluster fencing: a batch is stored once across a change of owner', function () {
  this.timeout(60_000);
  // a short duplicate window: the server keeps a second copy of an id sent after it
  const stream = runStream('FENCE', { shards: 4, duplicateWindowMs: 200 });
  const { run, dirs } = stream;
  let log: JetStreamIngestLog;
  before(() => { log = stream.log; }); // after runStream's own before: the stream is open

  /** Shard hosts over the log whose every batch is stored at once. */
  const storingHosts = (): ShardHosts => new ShardHosts({
    log,
    take: () => undefined,
    deliver() {
      const receipt = new IngestReceipt(1, () => undefined);
      receipt.settle();
      return receipt;
    },
    onBadRecord: (_r, err) => { throw err; },
  });

  it('hands a batch the log holds twice on once, and the watermark still passes the copy', async () => {
    const shard = 1;
    const a = await log.append(shard, batch(1), `a-${run}`);
    await new Promise((r) => setTimeout(r, 500)); // past the duplicate window
    const copy = await log.append(shard, batch(1), `a-${run}`);
    const b = await log.append(shard, batch(2), `b-${run}`);
    assert.equal(copy.duplicate, false, 'the server kept the copy (outside its window)');
    assert.ok(copy.position > a.position);

    const delivered: number[] = [];
    const duplicates: Array<{ position: number; first: number }> = [];
    const hosts = new ShardHosts({
      log,
      take: () => undefined,
      deliver(decoded, record: LogRecord) {
        delivered.push(record.position);
        const receipt = new IngestReceipt(1, () => undefined);
        receipt.settle();
        return receipt;
      },
      onBadRecord: (_r, err) => { throw err; },
      onDuplicate: (record, first) => duplicates.push({ position: record.position, first }),
    });
    try {
      hosts.start(shard, 0);
      await eventually(async () => (hosts.watermark(shard) >= b.position ? true : undefined), 10_000, 50);
      assert.deepEqual(delivered, [a.position, b.position], 'the copy was not handed on');
      assert.deepEqual(duplicates, [{ position: copy.position, first: a.position }]);
      assert.equal(hosts.watermark(shard), b.position);
    } finally {
      await hosts.stop();
    }
  });

  it('does not save or acknowledge a checkpoint whose shard was lost and taken again while it ran', async () => {
    const shard = 2;
    const first = await log.append(shard, batch(3), `c-${run}`);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-fence-'));
    dirs.push(dir);
    const snapshots = new SnapshotStore(dir);
    let token = 7;
    let stateAsked!: () => void;
    const asked = new Promise<void>((r) => { stateAsked = r; });
    let answer!: () => void;
    const answered = new Promise<void>((r) => { answer = r; });
    const hosts = storingHosts();
    const checkpoints = new Checkpoints({
      hosts, snapshots, log, clock: new SystemClock(), node: 'n1',
      async stateOf() {
        stateAsked();
        await answered; // the shard changes hands while the state is being taken
        return new Map();
      },
      flush: async () => undefined,
      onError: () => undefined,
      fence: { token: () => token, holds: () => true },
    });
    try {
      hosts.start(shard, 0);
      await eventually(async () => (hosts.watermark(shard) >= first.position ? true : undefined), 10_000, 50);
      const taking = checkpoints.take();
      await asked;
      token = 9; // lost, and taken again by this node under a new lease
      answer();
      await taking;
      assert.equal(await snapshots.latest(shard), undefined, 'no snapshot saved under the new lease for the old watermark');

      // held under one token throughout: saved, with that token
      await checkpoints.fresh(shard);
      const saved = await snapshots.latest(shard);
      assert.equal(saved?.snapshot.fencingToken, 9);
      assert.equal(saved?.snapshot.logPosition, first.position);
    } finally {
      await hosts.stop();
    }
  });

  it('saves the shards whose state came, when another shard\'s tenants do not answer', async () => {
    const [slowShard, fastShard] = [0, 3];
    const slow = await log.append(slowShard, batch(5, 'slowco'), `s-${run}`);
    const fast = await log.append(fastShard, batch(6, 'fastco'), `f-${run}`);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-fence-'));
    dirs.push(dir);
    const snapshots = new SnapshotStore(dir);
    const hosts = storingHosts();
    const errors: unknown[] = [];
    const checkpoints = new Checkpoints({
      hosts, snapshots, log, clock: new SystemClock(), node: 'n1',
      async stateOf(tenants) {
        if (tenants.includes('slowco')) throw new Error('timed out asking slowco'); // a deep replay's mailbox
        return new Map();
      },
      flush: async () => undefined,
      onError: (err) => errors.push(err),
    });
    try {
      hosts.start(slowShard, 0);
      hosts.start(fastShard, 0);
      await eventually(async () => (hosts.watermark(slowShard) >= slow.position && hosts.watermark(fastShard) >= fast.position ? true : undefined), 10_000, 50);
      await assert.rejects(checkpoints.take(), /slowco/, 'the slow shard\'s failure is reported');
      assert.equal((await snapshots.latest(fastShard))?.snapshot.logPosition, fast.position, 'the other shard\'s snapshot saved');
      assert.equal(await snapshots.latest(slowShard), undefined);
    } finally {
      await hosts.stop();
    }
  });
});
