import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { IngestLogError, JetStreamIngestLog, type LogRecord } from '../cluster/ingest-log/index.ts';
import { APPEND_ATTEMPT_MS, APPEND_RETRY_DEADLINE_MS, guardedLog, NodeHealth } from '../cluster/index.ts';
import { SeededRng, SystemClock } from '../actors/runtime/index.ts';
import { freePort } from './support/local-servers.ts';

// Real NATS at 127.0.0.1:4222; every run has its own stream and subjects and deletes them.
const NATS = '127.0.0.1:4222';

async function take(log: JetStreamIngestLog, shard: number, after: number, n: number): Promise<LogRecord[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  const out: LogRecord[] = [];
  try {
    for await (const r of log.read(shard, after, { signal: ac.signal })) {
      out.push(r);
      if (out.length === n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(out.length, n, `shard ${shard}: ${out.length} of ${n} records came`);
  return out;
}

describe('ingest log on JetStream (real NATS)', function () {
  this.timeout(30_000);
  const run = randomBytes(4).toString('hex');
  const stream = `VIGIL_TEST_LOG_${run}`;
  const prefix = `t${run}.metrics`;
  let nc: NatsConnection;
  let log: JetStreamIngestLog;

  before(async () => {
    nc = await connect({ servers: NATS });
    log = await JetStreamIngestLog.open({ connection: nc, stream, subjectPrefix: prefix, shards: 8 });
  });

  after(async () => {
    await log?.close();
    const jsm = await jetstreamManager(nc);
    for (const name of [stream, `${stream}_OTHER`]) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  });

  it('deduplicates a retry by its message id: same position, marked duplicate, stored once', async () => {
    const first = await log.append(5, Buffer.from('payload-1'), `dup-${run}`);
    const retry = await log.append(5, Buffer.from('payload-1'), `dup-${run}`);
    assert.equal(first.duplicate, false);
    assert.deepEqual(retry, { shard: 5, position: first.position, duplicate: true });
    const other = await log.append(5, Buffer.from('payload-2'), `dup2-${run}`);
    assert.ok(other.position > first.position);
    const got = await take(log, 5, 0, 2);
    assert.deepEqual(got.map((r) => r.id), [`dup-${run}`, `dup2-${run}`]);
    assert.equal(Buffer.from(got[0]!.bytes).toString(), 'payload-1');
  });

  it('keeps each shard in order, reads from a position and follows new appends live', async () => {
    const live = take(log, 2, 0, 40);
    const acks = await Promise.all(Array.from({ length: 120 }, (_, i) => log.append(i % 3, Buffer.from(`m${i}`), `${run}-m${i}`)));
    const shard2 = acks.filter((a) => a.shard === 2).map((a) => a.position);
    const read = await live;
    assert.deepEqual(read.map((r) => r.position), shard2);
    assert.deepEqual(read.map((r) => r.id), Array.from({ length: 40 }, (_, i) => `${run}-m${i * 3 + 2}`));
    for (let i = 1; i < read.length; i++) assert.ok(read[i]!.position > read[i - 1]!.position);
    const from = await take(log, 2, shard2[9]!, 30);
    assert.equal(from[0]!.position, shard2[10]);
    assert.equal(await log.lastPosition(2), shard2.at(-1));
    assert.equal(await log.lastPosition(4), 0, 'a shard with nothing in it');
  });

  it('an ack purges its shard up to the position and leaves the other shards alone', async () => {
    const a = await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(7, Buffer.from(`a${i}`), `${run}-a${i}`)));
    const b = await log.append(6, Buffer.from('b0'), `${run}-b0`);
    await log.ack(7, a[5]!.position);
    assert.equal(log.acked(7), a[5]!.position);
    const left = await take(log, 7, 0, 4);
    assert.deepEqual(left.map((r) => r.position), a.slice(6).map((x) => x.position));
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}.7` });
    assert.equal(info.state.subjects?.[`${prefix}.7`], 4, 'the acknowledged messages are gone from the stream');
    assert.equal((await take(log, 6, 0, 1))[0]!.position, b.position);
  });

  it('ends a read aborted while its consumer is still being opened (a hand-off right after a take)', async () => {
    // a shard with nothing new: only the abort can end this read
    for (let i = 0; i < 5; i++) {
      const ac = new AbortController();
      const reader = log.read(3, 0, { signal: ac.signal })[Symbol.asyncIterator]();
      const next = reader.next(); // the read starts: it asks the server for a consumer
      await new Promise((r) => setImmediate(r)); // abort before the server answers
      ac.abort();
      assert.deepEqual(await next, { done: true, value: undefined }, `read ${i} ended`);
    }
  });

  it('refuses a shard outside the stream, a stream with other subjects, and an unreachable server, with typed errors', async () => {
    await assert.rejects(log.append(8, Buffer.from('x'), `${run}-x`), (e: unknown) => e instanceof IngestLogError && e.code === 'BAD_REQUEST');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${stream}_OTHER`, subjects: [`t${run}.other.*`] });
    await assert.rejects(
      JetStreamIngestLog.open({ connection: nc, stream: `${stream}_OTHER`, subjectPrefix: prefix }),
      (e: unknown) => e instanceof IngestLogError && e.code === 'CONFIG_INVALID' && /does not take/.test(e.message),
    );
    const port = await freePort();
    await assert.rejects(
      JetStreamIngestLog.open({ servers: `127.0.0.1:${port}`, stream }),
      (e: unknown) => e instanceof IngestLogError && e.code === 'UNAVAILABLE' && e.reason === 'jetstream' && e.cause !== undefined,
    );
  });

  it("a node's append sends another attempt while nothing answers (a stream between leaders), and lands it, stored once, when the stream answers", async () => {
    const name = `${stream}_AWAY`;
    const away = `t${run}.away`;
    const jsm = await jetstreamManager(nc);
    const clock = new SystemClock();
    const inner = await JetStreamIngestLog.open({ connection: nc, stream: name, subjectPrefix: away, shards: 2 });
    const guarded = guardedLog(inner, new NodeHealth({ clock }), clock, new SeededRng(1));
    // no stream, and a subscriber that never answers: a publish waits, as one to a leaderless stream does
    await jsm.streams.delete(name);
    const silent = nc.subscribe(`${away}.*`);
    try {
      const appending = guarded.append(1, Buffer.from('while away'), `away-${run}`);
      await new Promise((r) => setTimeout(r, 700));
      silent.unsubscribe();
      await jsm.streams.add({ name, subjects: [`${away}.*`], duplicate_window: 120_000_000_000 });
      // the first attempt, waiting since before the stream came back, is cut at APPEND_ATTEMPT_MS;
      // the next lands well inside APPEND_RETRY_DEADLINE_MS
      assert.ok(2 * APPEND_ATTEMPT_MS < APPEND_RETRY_DEADLINE_MS);
      const landed = await appending;
      assert.equal(landed.duplicate, false);
      assert.equal((await jsm.streams.info(name)).state.messages, 1, 'stored once, however many attempts it took');
      const got = await take(inner, 1, 0, 1);
      assert.equal(got[0]!.id, `away-${run}`);
    } finally {
      silent.unsubscribe();
      await inner.close();
      await jsm.streams.delete(name).catch(() => undefined);
    }
  });
});
