import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { createDetector, restoreDetector, type Detector } from '../actors/detection/index.ts';
import { createRng } from '../actors/runtime/index.ts';

import {
  decodeSnapshot, decodeValue, encodeEntriesInTurns, FRAME_BYTES_PER_TURN, encodeSnapshot, encodeSnapshotEntries, encodeSnapshotInTurns, encodeTenantEntries, encodeValue, ENTRIES_PER_TURN, snapshotFencingToken, SNAPSHOT_VERSION, SnapshotFormatError, SnapshotStore,
  type ShardSnapshot, type SnapshotEntry,
} from '../cluster/snapshots/index.ts';
import { seriesName, wire, type Tier } from '../protocols/index.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

/** A daily-seasonal series with noise, from a seeded stream. */
function feed(det: Detector, from: number, count: number, seed: string): number[] {
  const rng = createRng(seed);
  const scores: number[] = [];
  for (let i = from; i < from + count; i++) {
    const ts = START + i * MINUTE;
    const v = 100 + 30 * Math.sin((2 * Math.PI * i) / 1440) + 3 * rng.normal();
    scores.push(det.update(ts, v));
  }
  return scores;
}

function entryOf(tier: Tier, det: Detector, i: number): SnapshotEntry {
  const labels = { host: `h${i}`, region: 'eu' };
  return {
    tenant: 'acme', service: 'checkout', seriesKey: seriesName(`latency_${tier}`, labels), metric: `latency_${tier}`, labels,
    since: START, quietUntil: START + 60 * MINUTE, detector: det.snapshot(),
  };
}

function snapshotAt(shard: number, logPosition: number, entries: SnapshotEntry[] = []): ShardSnapshot {
  return { version: SNAPSHOT_VERSION, shard, logPosition, takenAt: START + logPosition, node: 'node-1', fencingToken: 7, entries };
}

describe('snapshots', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vigil-snapshots-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('encodes a large shard in turns of the event loop, to the same bytes, and its token reads without decoding it', async () => {
    const det = createDetector('agile');
    feed(det, 0, 300, 'turns');
    const entries = Array.from({ length: ENTRIES_PER_TURN * 2 + 17 }, (_, i) => entryOf('agile', det, i));
    const snap = { ...snapshotAt(3, 1234, entries), fencingToken: 2 ** 40 + 5, openIncidents: [] };
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const bytes = await encodeSnapshotInTurns(snap);
    clearInterval(counting);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeSnapshot(snap))), 'the same bytes as in one piece');
    assert.ok(turns >= 1, 'the event loop turned while it encoded');
    const back = decodeSnapshot(bytes);
    assert.equal(back.entries.length, entries.length);
    assert.deepEqual(back.entries.map((e) => e.seriesKey), entries.map((e) => e.seriesKey));
    assert.equal(back.fencingToken, 2 ** 40 + 5);
    assert.equal(snapshotFencingToken(bytes), 2 ** 40 + 5);
    assert.equal(snapshotFencingToken(encodeSnapshot({ ...snap, fencingToken: 0, entries: [] })), 0);
    const damaged = Uint8Array.from(bytes);
    damaged[damaged.length - 3]! ^= 0xff;
    assert.throws(() => snapshotFencingToken(damaged), /checksum/);
  });

  it('frames entries encoded ahead in turns too, the checksum carried across pieces, to the same bytes as in one piece', async () => {
    const det = createDetector('agile');
    feed(det, 0, 300, 'frame');
    const entries = Array.from({ length: 700 }, (_, i) => entryOf('agile', det, i));
    // uneven runs: one past two pieces of FRAME_BYTES_PER_TURN, one of a single entry, the rest
    const encodedEntries = [entries.slice(0, 400), entries.slice(400, 401), entries.slice(401)].map((run) => encodeSnapshotEntries(run));
    assert.ok(encodedEntries[0]!.byteLength > 2 * FRAME_BYTES_PER_TURN, `${encodedEntries[0]!.byteLength} bytes`);
    const { entries: _e, ...head } = snapshotAt(5, 99, entries);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const bytes = await encodeSnapshotInTurns({ ...head, encodedEntries });
    clearInterval(counting);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeSnapshot(snapshotAt(5, 99, entries)))), 'the same bytes as in one piece');
    assert.ok(turns >= 2, `the event loop turned while it framed (${turns})`);
    assert.equal(decodeSnapshot(bytes).entries.length, 700);
  });

  it('writes a snapshot file a chunk at a time and reads it back whole, from entries encoded ahead', async () => {
    const det = createDetector('agile');
    feed(det, 0, 300, 'chunks');
    const entries = Array.from({ length: ENTRIES_PER_TURN + 9 }, (_, i) => entryOf('agile', det, i));
    const dir = mkdtempSync(join(tmpdir(), 'vigil-snap-chunks-'));
    try {
      const store = new SnapshotStore(dir, { syncChunkBytes: 4096 });
      const { entries: _e, ...head } = snapshotAt(2, 77, entries);
      const saved = await store.save({ ...head, encodedEntries: await encodeEntriesInTurns(entries) });
      assert.ok(readFileSync(saved.file).byteLength > 4 * 4096, 'several chunks');
      assert.ok(Buffer.from(readFileSync(saved.file)).equals(Buffer.from(encodeSnapshot(snapshotAt(2, 77, entries)))), 'the bytes of the snapshot in one piece');
      const back = await store.latest(2);
      assert.equal(back?.snapshot.entries.length, entries.length);
      assert.equal(back?.snapshot.logPosition, 77);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the value codec keeps every plain value exactly, NaN and ±Infinity included, and keys named', () => {
    const value = {
      tier: 'agile', version: 2, n: -42, big: 2 ** 53 - 1, frac: 0.1 + 0.2, nan: NaN, inf: -Infinity, negZero: -0,
      grid: [1.5, NaN, Infinity, 3], ints: [1, 2, 3], mixed: [1, null, 'x', [true, false]], empty: [], one: [7],
      nested: { deep: { list: [0.25, 0.5] } }, text: 'héllo ✓', gone: undefined, __proto__x: 1,
    };
    const back = decodeValue(encodeValue(value)) as Record<string, unknown>;
    const { gone: _gone, ...expected } = value;
    assert.deepEqual(back, expected);
    assert.ok(Object.is(back.negZero, -0));
    assert.ok(!('gone' in back));
    const proto = decodeValue(encodeValue(JSON.parse('{"__proto__": {"polluted": 1}}'))) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(proto), ['__proto__']);
    assert.throws(() => encodeValue({ m: new Map() }), /"m" is a Map/);
    assert.throws(() => decodeValue(encodeValue([1.5, 2.5]).subarray(0, 9)), /truncated/);
  });

  it("a tenant's series packed where they live (encodeTenantEntries) are the same bytes as their SnapshotEntries", () => {
    const entries = (['basic', 'agile', 'basic'] as const).map((tier, i) => {
      const det = createDetector(tier);
      feed(det, 0, 1440, `pack-${i}`);
      return entryOf(tier, det, i);
    });
    const series = entries.map(({ tenant: _t, seriesKey: _k, ...s }) => s);
    const expected = encodeSnapshotEntries(entries);
    assert.deepEqual(encodeTenantEntries('acme', series), expected, 'series named by the packer');
    assert.deepEqual(encodeTenantEntries('acme', series, entries.map((e) => e.seriesKey)), expected, 'series named by the caller');
    assert.notDeepEqual(encodeTenantEntries('other', series), expected);
  });

  for (const tier of ['basic', 'agile'] as const) {
    it(`the ${tier} detector restored from a snapshot file scores the next samples exactly as the original`, async () => {
      const original = createDetector(tier);
      feed(original, 0, 3 * 1440, `warm-${tier}`);
      const store = new SnapshotStore(dir);
      await store.save(snapshotAt(3, 1234, [entryOf(tier, original, 0)]));
      const loaded = await store.latest(3);
      assert.ok(loaded);
      const entry = loaded.snapshot.entries[0]!;
      assert.equal(entry.seriesKey, `latency_${tier}{host="h0",region="eu"}`);
      assert.deepEqual(entry.labels, { host: 'h0', region: 'eu' });
      const restored = restoreDetector(entry.detector);
      const expected = feed(original, 3 * 1440, 600, `next-${tier}`);
      const got = feed(restored, 3 * 1440, 600, `next-${tier}`);
      assert.deepEqual(got, expected);
      const compact = encodeValue(original.snapshot()).byteLength;
      const json = Buffer.byteLength(JSON.stringify(original.snapshot()));
      assert.ok(compact < json, `${tier}: ${compact} bytes encoded vs ${json} as JSON`);
      console.log(`      ${tier} detector state: ${compact} bytes (JSON: ${json})`);
    });
  }

  it('deflates the payload, still reads a snapshot of frame 1 (not deflated), and turns a damaged deflate into a format error', () => {
    // each series its own history, as real series have: copies of one state would compress far more
    const entries = Array.from({ length: 200 }, (_, i) => {
      const det = createDetector('basic');
      feed(det, 0, 300, `deflate-${i}`);
      return entryOf('basic', det, i);
    });
    const s = snapshotAt(2, 55, entries);
    const bytes = Buffer.from(encodeSnapshot(s));
    const payload = Buffer.concat([Buffer.from(wire.ShardSnapshot.encode({ version: s.version, shard: s.shard, logPosition: s.logPosition, takenAt: s.takenAt, node: s.node, fencingToken: s.fencingToken, openIncidents: [] }).finish()), Buffer.from(encodeSnapshotEntries(entries))]);
    assert.equal(bytes.readUInt32LE(4), 2, 'frame 2');
    assert.equal(bytes.readUInt32LE(16), payload.byteLength, 'the header names the inflated size');
    assert.ok(bytes.byteLength * 2 < payload.byteLength, `${bytes.byteLength} bytes stored for a payload of ${payload.byteLength}`);
    assert.deepEqual(decodeSnapshot(bytes), s);
    // frame 1, as written before snapshots were deflated: "VSNP" | 1 | length | crc32 | payload
    const v1 = Buffer.alloc(16 + payload.byteLength);
    v1.writeUInt32LE(0x504e5356, 0);
    v1.writeUInt32LE(1, 4);
    v1.writeUInt32LE(payload.byteLength, 8);
    v1.writeUInt32LE(zlib.crc32(payload), 12);
    payload.copy(v1, 16);
    assert.deepEqual(decodeSnapshot(v1), s);
    assert.equal(snapshotFencingToken(v1), s.fencingToken);
    // a deflate stream that is not one, under a checksum that matches it
    const junk = Buffer.from(bytes);
    junk.fill(0xff, 20, 40);
    junk.writeUInt32LE(zlib.crc32(junk.subarray(20)), 12);
    assert.throws(() => decodeSnapshot(junk), (err: Error) => err instanceof SnapshotFormatError && /does not inflate|inflates to/.test(err.message));
    const unknown = Buffer.from(bytes);
    unknown.writeUInt32LE(3, 4);
    assert.throws(() => decodeSnapshot(unknown), /frame version 3 is not 1 or 2/);
  });

  it('keeps named, versioned fields through the file format', () => {
    const det = createDetector('basic');
    feed(det, 0, 100, 'fields');
    const s = snapshotAt(9, 77, [entryOf('basic', det, 1), entryOf('basic', det, 2)]);
    const back = decodeSnapshot(encodeSnapshot(s));
    assert.deepEqual(back, s);
    const newer = Buffer.from(encodeSnapshot({ ...s, version: SNAPSHOT_VERSION + 1 }));
    assert.throws(() => decodeSnapshot(newer), /snapshot version 2 is not 1/);
  });

  it('keeps the newest per shard, prunes older ones, and acknowledges only up to the oldest kept', async () => {
    const store = new SnapshotStore(dir);
    const first = await store.save(snapshotAt(4, 100));
    assert.equal(first.ackable, 0, 'with no fallback yet the log must be kept whole');
    await store.save(snapshotAt(4, 200));
    await store.save(snapshotAt(4, 300));
    const last = await store.save(snapshotAt(4, 400));
    assert.equal(last.ackable, 300);
    assert.equal(await store.ackable(4), 300);
    assert.equal(readdirSync(join(dir, '4')).length, 2);
    assert.equal((await store.latest(4))!.snapshot.logPosition, 400);
    await store.save(snapshotAt(11, 5));
    // a node starting again loads the newest of every shard
    const loaded = await new SnapshotStore(dir).loadAll();
    assert.deepEqual([...loaded.keys()], [4, 11]);
    assert.equal(loaded.get(4)!.snapshot.logPosition, 400);
    assert.equal(loaded.get(11)!.snapshot.logPosition, 5);
    assert.equal(await store.latest(5), undefined);
  });

  it('a damaged newest snapshot falls back to the previous one, logged, and replay starts from its position', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger = { warn: (obj: Record<string, unknown>) => void warnings.push(obj) };
    const store = new SnapshotStore(dir, { logger, keep: 3 });
    await store.save(snapshotAt(2, 10));
    await store.save(snapshotAt(2, 20));
    const newest = await store.save(snapshotAt(2, 30));
    const bytes = readFileSync(newest.file);
    bytes[bytes.byteLength - 3] ^= 0x5a;
    writeFileSync(newest.file, bytes);
    let loaded = await store.latest(2);
    assert.equal(loaded!.snapshot.logPosition, 20);
    assert.deepEqual(loaded!.skipped.map((s) => s.file), [newest.file]);
    assert.match(loaded!.skipped[0]!.error, /checksum/);
    assert.equal(warnings.length, 1);
    // a torn (short) file is refused the same way
    const middle = join(dir, '2', readdirSync(join(dir, '2')).sort()[1]!);
    writeFileSync(middle, readFileSync(middle).subarray(0, 20));
    loaded = await store.latest(2);
    assert.equal(loaded!.snapshot.logPosition, 10);
    assert.equal(loaded!.skipped.length, 2);
  });

  it('writes atomically: a temp file left by a crash is never read, and bad fields or an unwritable folder are typed errors', async () => {
    const store = new SnapshotStore(dir);
    await store.save(snapshotAt(1, 50));
    writeFileSync(join(dir, '1', '.000000000002.snap.tmp'), 'half-written');
    assert.equal((await store.latest(1))!.snapshot.logPosition, 50);
    await store.save(snapshotAt(1, 60));
    assert.deepEqual(readdirSync(join(dir, '1')).filter((n) => n.endsWith('.tmp')), []);
    await assert.rejects(store.save(snapshotAt(1, -1)), (e: unknown) => (e as { code?: string }).code === 'BAD_REQUEST');
    const blocked = join(dir, 'file');
    writeFileSync(blocked, 'x');
    mkdirSync(join(dir, 'ok'));
    await assert.rejects(new SnapshotStore(join(blocked, 'snaps')).save(snapshotAt(1, 1)), (e: unknown) =>
      (e as { code?: string }).code === 'UNAVAILABLE' && /cannot write/.test((e as Error).message));
  });
});
