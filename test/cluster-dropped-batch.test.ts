// A batch dropped before its ServiceActor handled it (a dead letter) must not count as stored.
// Here a shard's tenants supervisor is restarted while one batch's samples wait in a service's
// mailbox (as its parent does after it crashes): the services below are stopped, and
// the runtime hands those messages over as dead letters (settleDropped). Before, the receipt
// settled as stored: the shard's watermark passed a batch no store held, and the next
// checkpoint saved a snapshot past it and acknowledged (purged) the log up to it, so nothing
// replayed it. Now the dropped batch's receipt fails: the watermark stays below it, the
// snapshot does not cover it, and a replay from that snapshot stores it.
// Real parts: the actor runtime and the cluster's shard/tenant/service actors, JetStream
// (127.0.0.1:4222, a stream of this run's own), ShardHosts, Checkpoints, snapshots on disk.
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createActorSystem, SeededRng, SystemClock, type ActorInfo } from '../actors/runtime/index.ts';
import { IngestReceipt, settleDropped } from '../actors/tenant/index.ts';
import type { EventSink } from '../actors/sink.ts';
import { decodeMetricBatch, encodeMetricBatch, type SeriesInput } from '../protocols/index.ts';
import { Checkpoints, type JetStreamIngestLog, packTenantState, ShardHosts, shardsBehavior, tierDetectors, type LogRecord, type ShardsMsg } from '../cluster/index.ts';
import { SnapshotStore } from '../cluster/snapshots/index.ts';
import { eventually } from './support/node-process.ts';
import { runStream } from './support/run-stream.ts';

const SHARD = 0;
const TENANT = 'acme';

describe('cluster: a batch dropped unhandled (dead letter) is not acknowledged', function () {
  this.timeout(60_000);
  const stream = runStream('DROP', { shards: 1 });
  const { run, dirs } = stream;
  let log: JetStreamIngestLog;
  before(() => { log = stream.log; }); // after runStream's own before: the stream is open

  it('keeps the watermark and the snapshot below a batch whose samples were dropped by a supervisor restart, and a replay stores it', async () => {
    const clock = new SystemClock();
    const system = createActorSystem({ clock, rng: new SeededRng(1), log: pino({ level: 'silent' }), supervision: { strategy: 'one_for_one', intensity: 3, periodMs: 5_000 } });
    system.onEvent((ev) => { if (ev.type === 'dead-letters') settleDropped(ev.messages); }); // as node/compose.ts does
    /** timestamps stored, by series */
    const stored = new Map<string, Set<number>>();
    const sink: EventSink = {
      samples: async (_tenant, service, series) => {
        for (const s of series) for (const [t] of s.samples) {
          const key = `${service}/${s.metric}`;
          if (!stored.has(key)) stored.set(key, new Set());
          stored.get(key)!.add(t);
        }
      },
      anomaly: () => {}, alert: () => {}, incident: () => {},
    };
    const shards = system.spawn<ShardsMsg>('shards', shardsBehavior({
      shardOf: () => SHARD,
      tenantSettings: (id) => ({ id, tier: 'basic', metricTiers: new Map() }),
      supervision: { strategy: 'one_for_one', intensity: 3, periodMs: 5_000 },
      correlation: { windowMs: 60_000, autoResolveMs: 600_000, minAlertScore: 0.9, criticalScore: 0.99 },
      detectors: tierDetectors(), incidents: { unresolved: () => [] }, sink, serviceIdleMs: 600_000,
    }));
    await shards.ask<true>((reply) => ({ type: 'open-shard', shard: SHARD, restored: new Map(), reply }));

    const series = (from: number): SeriesInput[] => ['m0', 'm1'].map((metric) => ({ service: 'api', metric, samples: Array.from({ length: 5 }, (_, i): [number, number] => [from + i * 1000, 10 + i]) }));
    const find = (info: ActorInfo, path: string): ActorInfo | undefined => (info.path === path ? info : info.children.map((c) => find(c, path)).find((x) => x));
    let restartedWith = -1;
    // The shard's tenants supervisor restarts (its supervisor's decision after a crash, or an
    // operator's: the same beginRestart) while this batch's samples wait in the service's
    // mailbox: the services below are stopped, and their queued messages become dead letters.
    const restartWhileQueued = (position: number): void => {
      restartedWith = position;
      const svc = find(system.tree(), `/root/shards/${SHARD}/${TENANT}/api`);
      if (svc && svc.mailbox > 0) {
        void system.restart(`/root/shards/${SHARD}`);
      } else setImmediate(() => restartWhileQueued(position));
    };
    const deliver = (record: LogRecord): IngestReceipt => {
      const batch = decodeMetricBatch(record.bytes);
      let n = 0;
      for (const s of batch.series) n += s.samples.length;
      const receipt = new IngestReceipt(n, () => undefined); // as node/compose.ts delivers
      shards.tell({ type: 'to-tenant', tenant: batch.tenant, msg: { type: 'ingest', series: batch.series, receipt, position: record.position } });
      if (record.id === `b-${run}` && restartedWith < 0) restartWhileQueued(record.position); // the first time it is read
      return receipt;
    };
    const failed: number[] = [];
    const hostsOver = () => new ShardHosts({
      log, take: () => undefined,
      deliver: (_batch, record) => deliver(record),
      onBadRecord: (_r, err) => { throw err; },
      onStoreFailed: (record) => failed.push(record.position),
    });
    const dir = mkdtempSync(join(tmpdir(), 'vigil-drop-'));
    dirs.push(dir);
    const snapshots = new SnapshotStore(dir);
    const hosts = hostsOver();
    const checkpoints = new Checkpoints({
      hosts, snapshots, log, clock, node: 'n1',
      stateOf: (names) => shards.ask((reply) => ({ type: 'snapshot', tenants: names, pack: packTenantState, reply }), 10_000),
      flush: async () => undefined,
      onError: () => undefined,
    });
    const t0 = 1_700_000_000_000;
    const first = await log.append(SHARD, encodeMetricBatch(TENANT, series(t0)), `a-${run}`);
    let replayHosts: ShardHosts | undefined;
    try {
      hosts.start(SHARD, 0);
      await eventually(async () => (hosts.watermark(SHARD) >= first.position ? true : undefined), 10_000, 20);
      assert.equal(stored.get('api/m0')?.size, 5, 'the first batch is stored');

      const dropped = await log.append(SHARD, encodeMetricBatch(TENANT, series(t0 + 60_000)), `b-${run}`);
      const third = await log.append(SHARD, encodeMetricBatch(TENANT, series(t0 + 120_000)), `c-${run}`);
      // the batch after it is handled by the restarted actors
      await eventually(async () => (stored.get('api/m0')?.has(t0 + 120_000) ? true : undefined), 10_000, 20);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(stored.get('api/m0')?.has(t0 + 60_000), false, 'the dropped batch was never written (the restart took it)');
      assert.ok(system.stats().restartsTotal > 0, 'the tenants supervisor was restarted while that batch was queued');
      assert.ok(system.stats().deadLettersTotal > 0, 'its samples were dead letters');

      assert.ok(hosts.watermark(SHARD) < dropped.position, `the watermark (${hosts.watermark(SHARD)}) stays below the batch never stored (${dropped.position})`);
      assert.deepEqual(failed, [dropped.position], 'its receipt failed: the shard stays below it until replayed');
      await checkpoints.take();
      const snap = (await snapshots.latest(SHARD))?.snapshot;
      assert.ok(snap && snap.logPosition < dropped.position, `the snapshot (at ${snap?.logPosition}) does not cover the dropped batch (${dropped.position})`);

      // a restart (or the next owner) replays from the snapshot: the batch is stored then
      await hosts.stop();
      await shards.ask<true>((reply) => ({ type: 'close-shard', shard: SHARD, reply }));
      await shards.ask<true>((reply) => ({ type: 'open-shard', shard: SHARD, restored: new Map(), reply }));
      replayHosts = hostsOver();
      replayHosts.start(SHARD, snap.logPosition);
      await eventually(async () => (replayHosts!.watermark(SHARD) >= third.position ? true : undefined), 10_000, 20);
      assert.equal(stored.get('api/m0')?.has(t0 + 60_000), true, 'replayed from the snapshot, the dropped batch is stored');
      assert.equal(stored.get('api/m1')?.size, 15, 'every acknowledged sample of both series is stored');
    } finally {
      await hosts.stop();
      await replayHosts?.stop();
      await system.stop();
    }
  });
});
