import { strict as assert } from 'node:assert';
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DiskIngestLog, IngestLogError, type LogRecord } from '../cluster/ingest-log/index.ts';
import { skipWithout } from './support/peer.ts';

const LOG_FACE = resolve('cluster/ingest-log/index.ts');
const isRoot = process.getuid?.() === 0;

function batch(id: string, size = 64): Uint8Array {
  const b = Buffer.alloc(size);
  b.write(id.repeat(Math.ceil(size / id.length)).slice(0, size));
  return b;
}

/** The next `n` records of `shard` after `after` (fails the test if they do not come within 5 s). */
async function take(log: DiskIngestLog, shard: number, after: number, n: number): Promise<LogRecord[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  const out: LogRecord[] = [];
  try {
    if (n > 0) {
      for await (const r of log.read(shard, after, { signal: ac.signal })) {
        out.push({ ...r, bytes: Buffer.from(r.bytes) });
        if (out.length === n) break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(out.length, n, `shard ${shard}: ${out.length} of ${n} records came`);
  return out;
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();
}

function rejectsWith(reason: string, code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof IngestLogError, `expected an IngestLogError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.code, code);
    return true;
  };
}

describe('ingest log (embedded, on disk)', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'vigil-ingest-log-')); });
  afterEach(() => { rmSync(root, { recursive: true, force: true }); });

  it('appends, reads each shard in order (from the disk and live) and acknowledges', async () => {
    const log = await DiskIngestLog.open(join(root, 'log'));
    const live = take(log, 2, 0, 30); // a reader waiting before anything is written
    const results = await Promise.all(Array.from({ length: 90 }, (_, i) => log.append(i % 3, batch(`b${i}`), `b${i}`)));
    for (let s = 0; s < 3; s++) {
      assert.deepEqual(results.filter((r) => r.shard === s).map((r) => r.position), Array.from({ length: 30 }, (_, i) => i + 1));
    }
    const shard1 = await take(log, 1, 0, 30);
    assert.deepEqual(shard1.map((r) => r.id), Array.from({ length: 30 }, (_, i) => `b${i * 3 + 1}`));
    assert.deepEqual(shard1[4]!.bytes, Buffer.from(batch('b13')));
    assert.deepEqual((await live).map((r) => r.position), Array.from({ length: 30 }, (_, i) => i + 1));
    const from10 = await take(log, 0, 10, 20);
    assert.equal(from10[0]!.position, 11);
    await log.ack(0, 10);
    assert.equal(log.acked(0), 10);
    await log.ack(0, 5); // lower: ignored
    assert.equal(log.acked(0), 10);
    await assert.rejects(log.ack(0, 31), rejectsWith('bad-input', 'BAD_REQUEST'));
    await assert.rejects(log.append(-1, batch('x'), 'x'), rejectsWith('bad-input', 'BAD_REQUEST'));
    await assert.rejects(log.append(0, batch('x'), ''), rejectsWith('bad-input', 'BAD_REQUEST'));
    let tail = 0;
    let caughtUp!: () => void;
    const atEnd = new Promise<void>((res) => (caughtUp = res));
    const waiting = (async () => {
      for await (const _ of log.read(0, 0)) if (++tail === 30) caughtUp();
    })();
    await atEnd;
    await log.close();
    await waiting; // closing ends a reader that waits for more
    assert.equal(tail, 30);
    await assert.rejects(log.append(0, batch('late'), 'late'), rejectsWith('closed', 'UNAVAILABLE'));
  });

  it('keeps every appended batch and the acknowledged positions across close and reopen', async () => {
    const dir = join(root, 'log');
    let log = await DiskIngestLog.open(dir, { segmentBytes: 4096 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(i % 4, batch(`r${i}`, 100), `r${i}`)));
    await log.ack(3, 7);
    await log.close();
    log = await DiskIngestLog.open(dir, { segmentBytes: 4096 });
    assert.equal(log.last(0), 50);
    assert.equal(await log.lastPosition(1), 50);
    assert.equal(await log.lastPosition(99), 0);
    assert.equal(log.acked(3), 7);
    const all = await take(log, 2, 0, 50);
    assert.deepEqual(all.map((r) => r.id), Array.from({ length: 50 }, (_, i) => `r${i * 4 + 2}`));
    assert.deepEqual(all[49]!.bytes, Buffer.from(batch('r198', 100)));
    const next = await log.append(2, batch('after'), 'after');
    assert.equal(next.position, 51, 'positions continue after a reopen');
    await log.close();
  });

  it('one writer per folder: a second open is refused while the first is open or its process lives', async () => {
    const dir = join(root, 'log');
    const log = await DiskIngestLog.open(dir);
    await assert.rejects(DiskIngestLog.open(dir), rejectsWith('in-use', 'UNAVAILABLE'));
    await log.close();
    await (await DiskIngestLog.open(dir)).close();
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'LOCK'), String(process.ppid)); // a live process holds it
    await assert.rejects(DiskIngestLog.open(other), (err: unknown) => rejectsWith('in-use', 'UNAVAILABLE')(err) && new RegExp(`process ${process.ppid}`).test((err as Error).message));
    writeFileSync(join(other, 'LOCK'), '999999999'); // a process that is gone: taken over
    await (await DiskIngestLog.open(other)).close();
    if (process.platform === 'linux') {
      // the pid lives but started at another time: a reused pid, not the owner
      writeFileSync(join(other, 'LOCK'), `${process.ppid} 1`);
      await (await DiskIngestLog.open(other)).close();
    }
  });

  it('group commit: concurrent appends share fsyncs (counted), one fsync each without it', async () => {
    const n = 200;
    const grouped = await DiskIngestLog.open(join(root, 'grouped'));
    await Promise.all(Array.from({ length: n }, (_, i) => grouped.append(i % 8, batch(`g${i}`, 1000), `g${i}`)));
    const g = grouped.stats();
    await grouped.close();
    const single = await DiskIngestLog.open(join(root, 'single'), { groupCommit: false });
    await Promise.all(Array.from({ length: n }, (_, i) => single.append(i % 8, batch(`g${i}`, 1000), `g${i}`)));
    const s = single.stats();
    await single.close();
    assert.equal(g.appends, n);
    // one fsync made the first segment; the 200 appends shared the rest
    assert.ok(g.fsyncs - 1 <= n / 10, `group commit used ${g.fsyncs} fsyncs for ${n} appends`);
    assert.ok(g.groups < n / 10, `${g.groups} groups`);
    assert.equal(s.fsyncs - 1, n, 'without group commit every append has its own fsync');
  });

  it('cuts a torn last write off when it opens (never a crash) and keeps what came before', async () => {
    const dir = join(root, 'log');
    let log = await DiskIngestLog.open(dir);
    for (let i = 0; i < 5; i++) await log.append(1, batch(`t${i}`), `t${i}`);
    await log.close();
    const seg = join(dir, segments(dir).at(-1)!);
    const whole = readFileSync(seg);
    // half of a frame like the last one: the write a crash interrupted
    const lastFrame = whole.subarray(whole.byteLength - (12 + 1 + 4 + 6 + 2 + 2 + 4 + 64 + 4));
    appendFileSync(seg, lastFrame.subarray(0, 40));
    log = await DiskIngestLog.open(dir);
    assert.equal(log.stats().truncatedBytes, 40);
    assert.equal(readFileSync(seg).byteLength, whole.byteLength);
    assert.deepEqual((await take(log, 1, 0, 5)).map((r) => r.id), ['t0', 't1', 't2', 't3', 't4']);
    assert.equal((await log.append(1, batch('t5'), 't5')).position, 6);
    await log.close();
    // a header alone, and zeros a file system can leave after a crash, are torn tails too
    appendFileSync(seg, Buffer.concat([lastFrame.subarray(0, 8), Buffer.alloc(300)]));
    log = await DiskIngestLog.open(dir);
    assert.equal(log.last(1), 6);
    await log.close();
  });

  it('refuses to open a log damaged in the middle, with a clear error', async () => {
    const dir = join(root, 'log');
    const log = await DiskIngestLog.open(dir);
    for (let i = 0; i < 5; i++) await log.append(1, batch(`c${i}`), `c${i}`);
    await log.close();
    const seg = join(dir, segments(dir)[0]!);
    const bytes = readFileSync(seg);
    const checkpointEnd = 12 + bytes.readUInt32LE(0);
    bytes[checkpointEnd + 12 + 30] ^= 0xff; // inside the first batch's bytes: later frames are intact
    writeFileSync(seg, bytes);
    await assert.rejects(DiskIngestLog.open(dir), (err: unknown) => {
      rejectsWith('corrupt', 'INTERNAL')(err);
      assert.match((err as Error).message, /seg-0+1\.log is damaged at byte \d+ \(bad-crc\); a valid frame follows/);
      return true;
    });
  });

  it('a record damaged on disk after the log opened fails its reader with a clear error', async () => {
    const dir = join(root, 'log');
    const log = await DiskIngestLog.open(dir);
    for (let i = 0; i < 3; i++) await log.append(2, batch(`e${i}`), `e${i}`);
    const seg = join(dir, segments(dir)[0]!);
    const bytes = readFileSync(seg);
    bytes[bytes.byteLength - 10] ^= 0xff; // inside the last record's bytes
    writeFileSync(seg, bytes);
    const seen: string[] = [];
    await assert.rejects((async () => {
      for await (const r of log.read(2, 0)) seen.push(r.id);
    })(), (err: unknown) => {
      rejectsWith('corrupt', 'INTERNAL')(err);
      assert.match((err as Error).message, /fails its checksum/);
      return true;
    });
    assert.deepEqual(seen, ['e0', 'e1']);
    await log.close();
  });

  it('deduplicates a retry by its batch id, also while the first is in flight and after a reopen', async () => {
    const dir = join(root, 'log');
    let log = await DiskIngestLog.open(dir);
    const [a, b] = await Promise.all([log.append(4, batch('same'), 'same'), log.append(4, batch('same'), 'same')]);
    assert.deepEqual(a, { shard: 4, position: 1, duplicate: false });
    assert.deepEqual(b, { shard: 4, position: 1, duplicate: true });
    assert.deepEqual(await log.append(4, batch('same'), 'same'), { shard: 4, position: 1, duplicate: true });
    assert.equal((await log.append(4, batch('other'), 'other')).position, 2);
    await log.close();
    log = await DiskIngestLog.open(dir);
    assert.deepEqual(await log.append(4, batch('same'), 'same'), { shard: 4, position: 1, duplicate: true });
    assert.deepEqual((await take(log, 4, 0, 2)).map((r) => r.id), ['same', 'other']);
    assert.equal(log.last(4), 2);
    await log.close();
    // the window is a count: the oldest id falls out of it
    const small = await DiskIngestLog.open(join(root, 'small'), { dedupWindow: 2 });
    for (const id of ['x', 'y', 'z']) await small.append(0, batch(id), id);
    assert.equal((await small.append(0, batch('x'), 'x')).duplicate, false);
    assert.equal((await small.append(0, batch('z'), 'z')).duplicate, true);
    await small.close();
  });

  it('deletes segments once every record in them is acknowledged, and never reuses a position', async () => {
    const dir = join(root, 'log');
    let log = await DiskIngestLog.open(dir, { segmentBytes: 2048 });
    for (let i = 0; i < 60; i++) await log.append(i % 2, batch(`d${i}`, 200), `d${i}`);
    const before = segments(dir).length;
    assert.ok(before >= 5, `${before} segments`);
    await log.ack(0, 30);
    assert.equal(segments(dir).length, before, 'shard 1 still needs every segment');
    await log.ack(1, 20);
    const after = segments(dir).length;
    assert.ok(after < before && after > 1, `${before} → ${after} segments`);
    // what is left of shard 1 starts past what was deleted and is all there in order
    const rest = await take(log, 1, 0, 30 - (await firstKept(log, 1)) + 1);
    assert.equal(rest.at(-1)!.position, 30);
    await log.ack(1, 30);
    await log.append(0, batch('roll', 2048), 'roll'); // a new segment: every older one is acknowledged
    await log.ack(0, 31);
    assert.equal(segments(dir).length, 1);
    await log.close();
    log = await DiskIngestLog.open(dir, { segmentBytes: 2048 });
    assert.equal(log.acked(1), 30);
    assert.equal((await log.append(1, batch('new'), 'new')).position, 31, 'the checkpoint carries the last positions');
    await log.close();
  });

  it('a reader too far behind for memory goes back to the disk and misses nothing', async () => {
    const log = await DiskIngestLog.open(join(root, 'log'), { readerBufferBytes: 1000, segmentBytes: 8192 });
    const ac = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const r of log.read(0, 0, { signal: ac.signal })) {
        seen.push(r.position);
        await new Promise((res) => setTimeout(res, 2)); // a slow consumer
        if (seen.length === 100) ac.abort();
      }
    })();
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 10 }, (_, j) => log.append(0, batch(`s${i}.${j}`, 300), `s${i}.${j}`)));
    await reading;
    assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.ok(log.stats().diskReads >= 1, 'the reader never fell back to the disk');
    await log.close();
  });

  it('a full disk gives UNAVAILABLE (disk-full) and loses nothing already acknowledged', async function () {
    if (!isRoot) {
      skipWithout(this, 'mounting a 1 MB tmpfs needs root');
    }
    const mnt = join(root, 'tmpfs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const filler = join(mnt, 'filler');
      writeFileSync(filler, Buffer.alloc(256 * 1024));
      const dir = join(mnt, 'log');
      let log = await DiskIngestLog.open(dir);
      const resolved: string[] = [];
      let failure: unknown;
      for (let i = 0; i < 200 && !failure; i++) {
        const ids = [0, 1, 2, 3].map((k) => `f${i}.${k}`);
        const outcomes = await Promise.allSettled(ids.map((id, k) => log.append(k, batch(id, 16 * 1024), id)));
        outcomes.forEach((o, k) => (o.status === 'fulfilled' ? resolved.push(ids[k]!) : (failure = o.reason)));
      }
      assert.ok(failure, 'the disk never filled');
      rejectsWith('disk-full', 'UNAVAILABLE')(failure);
      assert.equal(((failure as Error).cause as NodeJS.ErrnoException).code, 'ENOSPC');
      assert.ok(resolved.length > 10, `${resolved.length} batches fit`);
      // made room: the log takes appends again, behind the last good write
      rmSync(filler);
      const later = await log.append(0, batch('later', 1024), 'later');
      assert.equal(later.duplicate, false);
      await log.close();
      log = await DiskIngestLog.open(dir);
      const stored = new Set<string>();
      for (let k = 0; k < 4; k++) for (const r of await take(log, k, 0, log.last(k))) stored.add(r.id);
      for (const id of resolved) assert.ok(stored.has(id), `acknowledged batch ${id} is missing`);
      assert.ok(stored.has('later'));
      assert.equal(log.stats().truncatedBytes, 0, 'a failed write was cut back at once');
      await log.close();
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('an unwritable data folder gives UNAVAILABLE (not-writable) and leaves the log as it was', async () => {
    const src = join(root, 'data');
    const log = await DiskIngestLog.open(src);
    await log.append(0, batch('kept'), 'kept');
    await log.close();
    const ro = join(root, 'ro');
    mkdirSync(ro);
    if (isRoot) {
      // root passes any chmod: a read-only bind mount refuses even root
      execFileSync('mount', ['--bind', src, ro]);
      execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    } else {
      chmodSync(ro, 0o500);
    }
    try {
      await assert.rejects(DiskIngestLog.open(isRoot ? ro : join(ro, 'log')), rejectsWith('not-writable', 'UNAVAILABLE'));
    } finally {
      if (isRoot) execFileSync('umount', [ro]);
      else chmodSync(ro, 0o700);
    }
    const again = await DiskIngestLog.open(src);
    assert.deepEqual((await take(again, 0, 0, 1)).map((r) => r.id), ['kept']);
    await again.close();
  });

  it('a process killed with SIGKILL right after its appends resolved loses none of them', async () => {
    const dir = join(root, 'log');
    const script = join(root, 'child.mts');
    writeFileSync(script, `
      import { DiskIngestLog } from ${JSON.stringify(LOG_FACE)};
      const log = await DiskIngestLog.open(${JSON.stringify(dir)}, { segmentBytes: 64 * 1024 });
      let i = 0;
      async function writer() {
        for (;;) {
          const id = 'k' + (i++);
          const bytes = Buffer.alloc(500, id);
          const a = await log.append(i % 16, bytes, id);
          process.stdout.write(id + ' ' + a.shard + ' ' + a.position + '\\n');
        }
      }
      for (let w = 0; w < 8; w++) void writer();
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<string, { shard: number; position: number }>();
    let text = '';
    await new Promise<void>((done, fail) => {
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? done() : fail(new Error(`child exited ${code} ${signal}`))));
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const lines = text.split('\n');
        text = lines.pop()!;
        for (const line of lines) {
          const [id, shard, position] = line.split(' ');
          acked.set(id!, { shard: Number(shard), position: Number(position) });
        }
        if (acked.size >= 2000 && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.ok(acked.size >= 2000);
    const log = await DiskIngestLog.open(dir);
    const stored = new Map<string, LogRecord>();
    for (let s = 0; s < 16; s++) for (const r of await take(log, s, 0, log.last(s))) stored.set(r.id, r);
    for (const [id, at] of acked) {
      const r = stored.get(id);
      assert.ok(r, `batch ${id} was acknowledged to the client but is gone`);
      assert.equal(r.shard, at.shard);
      assert.equal(r.position, at.position);
      assert.deepEqual(r.bytes, Buffer.alloc(500, id));
    }
    await log.close();
  });
});

async function firstKept(log: DiskIngestLog, shard: number): Promise<number> {
  for await (const r of log.read(shard, 0)) return r.position;
  return 0;
}
