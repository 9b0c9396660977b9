// Shard snapshots in NATS KV (cluster mode) larger than one message: a bench's shard of 6,400
// series (4 MB) could not be saved at all ("max_payload size exceeded"), so its log was never
// acknowledged. Real parts: the nats-server at 127.0.0.1:4222, a bucket of this run's own.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { createDetector } from '../actors/detection/index.ts';
import { encodeSnapshotEntries, KvSnapshotStore, SNAPSHOT_VERSION, type SnapshotEntry, type SnapshotToSave } from '../cluster/snapshots/index.ts';
import { seriesName } from '../protocols/index.ts';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

// each series its own history: snapshots are deflated, and copies of one state would shrink to
// a chunk or two (real series never do)
function entries(count: number): SnapshotEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const det = createDetector('agile');
    for (let t = 0; t < 200; t++) det.update(t * 60_000, 100 + 10 * Math.sin(t / (3 + i)) + (t % 7));
    const labels = { host: `h${i}` };
    return { tenant: 'acme', service: 'api', seriesKey: seriesName('latency', labels), metric: 'latency', labels, since: 0, quietUntil: 0, detector: det.snapshot() };
  });
}

function snapshot(shard: number, logPosition: number, fencingToken: number, count: number): SnapshotToSave {
  return { version: SNAPSHOT_VERSION, shard, logPosition, takenAt: logPosition, node: 'n1', fencingToken, encodedEntries: [encodeSnapshotEntries(entries(count))] };
}

describe('cluster: snapshots in NATS KV larger than one message', function () {
  this.timeout(60_000);
  const name = `kvsnap-${randomBytes(4).toString('hex')}`;
  let nc: NatsConnection;
  let store: KvSnapshotStore;
  const keys = async (): Promise<string[]> => {
    const kv = await new Kvm(nc).open(`${name}_snapshots`);
    const out: string[] = [];
    for await (const k of await kv.keys()) out.push(k);
    return out.sort();
  };

  before(async () => {
    nc = await connect({ servers: NATS_URL });
    store = await KvSnapshotStore.open(nc, name, 1, 8 * 1024); // 8 KB chunks (an Agile series here packs to ~8.5 KB, ~0.6 KB deflated): 300 series are ~20 of them
  });
  after(async () => {
    await new Kvm(nc).open(`${name}_snapshots`).then((kv) => kv.destroy()).catch(() => undefined);
    await nc.close();
  });

  it('saves a snapshot in chunks and reads it back whole; a small one stays in the head', async () => {
    await store.save(snapshot(1, 100, 5, 300));
    const back = await store.latest(1);
    assert.equal(back?.snapshot.entries.length, 300);
    assert.equal(back?.snapshot.logPosition, 100);
    assert.deepEqual(back?.snapshot.entries.map((e) => e.labels.host), entries(300).map((e) => e.labels.host));
    const chunks = (await keys()).filter((k) => k.startsWith('shard.1.'));
    assert.ok(chunks.length >= 10 && chunks.every((k) => k.startsWith('shard.1.t5.a.')), chunks.join(' '));

    await store.save(snapshot(2, 7, 1, 1));
    assert.equal((await store.latest(2))?.snapshot.entries.length, 1);
    assert.ok(!(await keys()).some((k) => k.startsWith('shard.2.')), 'no chunk for a snapshot that fits one message');
  });

  it('writes the slot the head does not name, so the committed snapshot is never overwritten; then drops the old chunks', async () => {
    await store.save(snapshot(3, 10, 5, 300));
    const first = (await keys()).filter((k) => k.startsWith('shard.3.'));
    assert.ok(first.length > 0 && first.every((k) => k.startsWith('shard.3.t5.a.')), first.join(' '));
    await store.save(snapshot(3, 20, 5, 250));
    const back = await store.latest(3);
    assert.equal(back?.snapshot.logPosition, 20);
    assert.equal(back?.snapshot.entries.length, 250);
    const second = (await keys()).filter((k) => k.startsWith('shard.3.'));
    assert.ok(second.length > 0 && second.every((k) => k.startsWith('shard.3.t5.b.')), second.join(' '));
    // back to a snapshot that fits one message: no chunk is left
    await store.save(snapshot(3, 30, 5, 1));
    assert.equal((await store.latest(3))?.snapshot.entries.length, 1);
    assert.deepEqual((await keys()).filter((k) => k.startsWith('shard.3.')), []);
  });

  it('refuses an older owner, and a newer owner drops its predecessor\'s chunks', async () => {
    await store.save(snapshot(4, 10, 5, 300));
    await assert.rejects(store.save(snapshot(4, 11, 4, 300)), (err: Error & { code?: string }) => err.code === 'CONFLICT' && /fencing token 4 is older than the stored 5/.test(err.message));
    assert.ok(!(await keys()).some((k) => k.startsWith('shard.4.t4.')), 'the refused owner left no chunk');
    await store.save(snapshot(4, 30, 6, 300));
    assert.equal((await store.latest(4))?.snapshot.fencingToken, 6);
    const chunks = (await keys()).filter((k) => k.startsWith('shard.4.'));
    assert.ok(chunks.length > 0 && chunks.every((k) => k.startsWith('shard.4.t6.')), chunks.join(' '));
  });

  it('refuses a damaged manifest in the head with the reason', async () => {
    const kv = await new Kvm(nc).open(`${name}_snapshots`);
    await kv.put('shard.6', new TextEncoder().encode('VSNM{"shard":6,"chunks":0}'));
    await assert.rejects(store.latest(6), /snapshot manifest lacks a field or holds a bad one/);
    await kv.put('shard.6', new TextEncoder().encode('VSNM{oops'));
    await assert.rejects(store.latest(6), /snapshot manifest is not JSON/);
  });

  it('says which chunk is missing when one is gone', async () => {
    await store.save(snapshot(5, 10, 5, 300));
    const kv = await new Kvm(nc).open(`${name}_snapshots`);
    await kv.delete('shard.5.t5.a.3');
    await assert.rejects(store.latest(5), /chunk 3 of \d+ \(shard\.5\.t5\.a\.3\) is missing/);
  });
});
