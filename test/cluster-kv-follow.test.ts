// Following a KV bucket (cluster/kv-follow.ts) against the real NATS: a watch whose consumer
// is gone on the server goes silent without ending (nats.js reports the missed heartbeats and
// waits); a follower given `silentMs` asks the bucket whether it was written meanwhile and, if it
// was, opens the watch again. In the partition test the majority's views stood still about 60 s
// that way before this. (The first test is nats.js's behaviour; should a later nats.js reopen such
// a watch itself, it fails, and `silentMs` may go.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { followKv, type KvFollowOptions } from '../cluster/kv-follow.ts';

const NATS = '127.0.0.1:4222';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows a bucket of its own written every 100 ms, removes the watch's consumer on the server, and returns what the follower heard after. */
async function afterConsumerRemoved(nc: NatsConnection, o: Pick<KvFollowOptions, 'silentMs' | 'key'>): Promise<{ heardAfter: number; errors: string[] }> {
  const name = `follow_${randomBytes(4).toString('hex')}`;
  const kv: KV = await new Kvm(nc).create(name, { history: 1, replicas: 1 });
  const jsm = await jetstreamManager(nc);
  let n = 0;
  const writer = setInterval(() => { void kv.put('beat', String(n++)).catch(() => undefined); }, 100);
  const heard: number[] = [];
  const errors: string[] = [];
  const follow = followKv(kv, (e) => heard.push(Number(e.string())), { reopenMs: 100, label: 'the test bucket', onError: (err) => errors.push(String(err)), ...o });
  try {
    await follow.ready;
    await sleep(500);
    assert.ok(heard.length > 0, 'the follower hears the writes');
    const consumers = await jsm.consumers.list(`KV_${name}`).next();
    assert.ok(consumers.length > 0, 'the watch has a consumer on the server');
    for (const c of consumers) await jsm.consumers.delete(`KV_${name}`, c.name);
    const removedAt = n;
    await sleep(5_000);
    return { heardAfter: heard.filter((v) => v > removedAt).length, errors };
  } finally {
    clearInterval(writer);
    follow.stop();
    await kv.destroy().catch(() => undefined);
  }
}

describe('cluster: following a KV bucket', function () {
  this.timeout(60_000);
  let nc: NatsConnection;
  before(async () => { nc = await connect({ servers: NATS }); });
  after(async () => { await nc?.close(); });

  it('a watch whose consumer is gone goes silent without ending (what the follower guards against)', async () => {
    const { heardAfter } = await afterConsumerRemoved(nc, {});
    assert.equal(heardAfter, 0, 'without silentMs, nothing written after the consumer was removed arrives');
  });

  it('with silentMs, a silent watch is opened again and the writes arrive, with one line saying so', async () => {
    const { heardAfter, errors } = await afterConsumerRemoved(nc, { silentMs: 1_000 });
    // 5 s of writes every 100 ms: about 1 s until the silence is noticed, then the rest arrive
    assert.ok(heardAfter >= 20, `the writes after the removal arrived (${heardAfter})`);
    assert.ok(errors.some((e) => /the watch of the test bucket heard nothing for \d+ ms while it was written .*: opened again/.test(e)), errors.join(' | '));
  });

  it('the same for a follower of one key (the key is asked, not the bucket)', async () => {
    const { heardAfter, errors } = await afterConsumerRemoved(nc, { silentMs: 1_000, key: 'beat' });
    assert.ok(heardAfter >= 20, `the writes after the removal arrived (${heardAfter})`);
    assert.ok(errors.some((e) => /heard nothing for \d+ ms while it was written .*: opened again/.test(e)), errors.join(' | '));
  });

  it('with silentMs, a bucket nobody writes is followed as it is (no line, no reopening), and its next write heard', async () => {
    const name = `follow_${randomBytes(4).toString('hex')}`;
    const kv = await new Kvm(nc).create(name, { history: 1, replicas: 1 });
    const errors: string[] = [];
    const heard: string[] = [];
    const follow = followKv(kv, (e) => heard.push(e.key), { reopenMs: 100, silentMs: 500, onError: (err) => errors.push(String(err)) });
    try {
      await sleep(3_000); // several silences, each answered by the bucket: nothing written
      await kv.put('late', 'x');
      await sleep(2_000); // heard by the watch it has
      assert.deepEqual(errors, [], 'a quiet bucket is no fault');
      assert.deepEqual(heard, ['late']);
    } finally {
      follow.stop();
      await kv.destroy().catch(() => undefined);
    }
  });
});
