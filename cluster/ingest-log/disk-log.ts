// The embedded ingest log: one append-only log on local disk under the data folder, shared by
// every shard (each record names its shard), with group commit: appends that arrive while an
// fsync runs are written together and share the next one. See README.md for why one log.
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { encodeGroup, FRAME_HEADER_BYTES, MAX_ID_BYTES, RECORD_ACK, RECORD_CHECKPOINT, RECORD_DATA, recordBytes, type Record } from './frame.ts';
import { IdWindow, DEFAULT_DEDUP_WINDOW } from './dedup.ts';
import { badInput, closedError, diskError, IngestLogError } from './errors.ts';
import { indexRecord, recoverSegment, SEGMENT_NAME, segmentName, type Segment } from './segment.ts';
import { DEFAULT_READER_BUFFER_BYTES, ShardReaders } from './shard-readers.ts';
import { lockFolder } from './lock.ts';
import type { Appended, IngestLog, LogRecord, ReadOptions } from './types.ts';
import { syncDir } from '../../storage/index.ts';
import { nextTurn } from '../../actors/runtime/index.ts';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_GROUP_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
const MAX_SHARD = 0xffffffff;

export interface DiskLogOptions {
  segmentBytes?: number;
  /** false: one fsync per append (only to measure what group commit saves) */
  groupCommit?: boolean;
  maxGroupBytes?: number;
  maxRecordBytes?: number;
  dedupWindow?: number;
  readerBufferBytes?: number;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

export interface DiskLogStats {
  appends: number;
  duplicates: number;
  acks: number;
  groups: number;
  fsyncs: number;
  bytesWritten: number;
  segments: number;
  segmentsDeleted: number;
  /** bytes of a torn tail cut off when the log was opened */
  truncatedBytes: number;
  /** times a reader read segments (it started behind, or fell too far behind for memory) */
  diskReads: number;
}

type Pending =
  | { kind: 'data'; shard: number; id: string; bytes: Uint8Array; resolve: (a: Appended) => void; reject: (e: Error) => void }
  | { kind: 'ack'; shard: number; position: number; resolve: () => void; reject: (e: Error) => void };

export class DiskIngestLog implements IngestLog {
  private readonly segments: Segment[] = [];
  private fd!: FileHandle;
  private unlock: () => Promise<void> = async () => undefined;
  private readonly durable = new Map<number, number>();
  private readonly ackedAt = new Map<number, number>();
  private readonly window: IdWindow;
  private readonly inflight = new Map<string, Promise<Appended>>();
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private broken: IngestLogError | undefined;
  private closed = false;
  private readonly readers: ShardReaders;
  private readonly counters: DiskLogStats = {
    appends: 0, duplicates: 0, acks: 0, groups: 0, fsyncs: 0, bytesWritten: 0, segments: 0, segmentsDeleted: 0, truncatedBytes: 0, diskReads: 0,
  };
  private readonly segmentBytes: number;
  private readonly maxGroupBytes: number;
  private readonly maxRecordBytes: number;
  private readonly groupCommit: boolean;

  private constructor(readonly dir: string, private readonly options: DiskLogOptions) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.maxGroupBytes = options.maxGroupBytes ?? DEFAULT_MAX_GROUP_BYTES;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.groupCommit = options.groupCommit ?? true;
    this.window = new IdWindow(options.dedupWindow ?? DEFAULT_DEDUP_WINDOW);
    this.readers = new ShardReaders({
      last: (shard) => this.last(shard),
      acked: (shard) => this.acked(shard),
      segments: () => this.segments,
      closed: () => this.closed,
      diskRead: () => void this.counters.diskReads++,
    }, options.readerBufferBytes ?? DEFAULT_READER_BUFFER_BYTES);
  }

  /** Opens (or creates) the log in `dir`, recovering what a crash left: a torn tail is cut off. */
  static async open(dir: string, options: DiskLogOptions = {}): Promise<DiskIngestLog> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw diskError('opening', dir, err);
    }
    const unlock = await lockFolder(dir);
    const log = new DiskIngestLog(dir, options);
    log.unlock = unlock;
    try {
      await log.recover();
    } catch (err) {
      await log.fd?.close().catch(() => undefined);
      await unlock();
      throw err;
    }
    return log;
  }

  // ---- append ----

  append(shard: number, bytes: Uint8Array, id: string): Promise<Appended> {
    const refused = this.refusal() ?? checkShard(shard) ?? this.checkBatch(bytes, id);
    if (refused) return Promise.reject(refused);
    const seen = this.window.get(id);
    if (seen) {
      this.counters.duplicates++;
      return Promise.resolve({ shard: seen.shard, position: seen.position, duplicate: true });
    }
    const pending = this.inflight.get(id);
    if (pending) {
      this.counters.duplicates++;
      return pending.then((a) => ({ ...a, duplicate: true }));
    }
    const p = new Promise<Appended>((resolve, reject) => {
      this.queue.push({ kind: 'data', shard, id, bytes, resolve, reject });
    });
    this.inflight.set(id, p);
    const forget = (): void => void this.inflight.delete(id);
    p.then(forget, forget);
    this.kick();
    return p;
  }

  ack(shard: number, position: number): Promise<void> {
    const refused = this.refusal() ?? checkShard(shard);
    if (refused) return Promise.reject(refused);
    if (!Number.isSafeInteger(position) || position < 0) return Promise.reject(badInput(`ack position ${position} is not a whole number ≥ 0`));
    if (position > this.last(shard)) {
      return Promise.reject(badInput(`ack of shard ${shard} at ${position} is past its last durable position ${this.last(shard)}`));
    }
    if (position <= this.acked(shard)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: 'ack', shard, position, resolve, reject });
      this.kick();
    });
  }

  acked(shard: number): number {
    return this.ackedAt.get(shard) ?? 0;
  }

  /** The last durable position of `shard` (0 when it has none). */
  last(shard: number): number {
    return this.durable.get(shard) ?? 0;
  }

  lastPosition(shard: number): Promise<number> {
    return Promise.resolve(this.last(shard));
  }

  stats(): DiskLogStats {
    return { ...this.counters, segments: this.segments.length };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // what was accepted before close is still made durable; later appends are refused
    while (this.flushing) await this.flushing;
    this.readers.wakeAll();
    await this.fd.close().catch(() => undefined);
    await this.unlock();
  }

  private refusal(): IngestLogError | undefined {
    if (this.closed) return closedError();
    return this.broken;
  }

  private checkBatch(bytes: Uint8Array, id: string): IngestLogError | undefined {
    if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > MAX_ID_BYTES) return badInput('a batch id must be 1 to 65535 bytes');
    if (!(bytes instanceof Uint8Array)) return badInput('a batch must be bytes');
    if (bytes.byteLength > this.maxRecordBytes) {
      return new IngestLogError('PAYLOAD_TOO_LARGE', 'bad-input', `ingest log: a batch of ${bytes.byteLength} bytes is over the limit of ${this.maxRecordBytes}`);
    }
    return undefined;
  }

  // ---- group commit ----

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    // let the appends of this turn of the event loop join the first group
    await nextTurn();
    while (this.queue.length > 0) {
      const group = this.takeGroup();
      try {
        await this.commit(group);
      } catch (err) {
        // a bug past the write: stop taking appends rather than answer some and hang others
        this.broken = new IngestLogError('INTERNAL', 'io-error', 'ingest log: internal failure after a write; reopen the log', { cause: err });
        for (const p of group) p.reject(this.broken);
      }
    }
  }

  private takeGroup(): Pending[] {
    if (!this.groupCommit) return this.queue.splice(0, 1);
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes < this.maxGroupBytes)) {
      const p = this.queue[n]!;
      bytes += p.kind === 'data' ? p.bytes.byteLength + 64 : 16;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async commit(group: Pending[]): Promise<void> {
    const next = new Map<number, number>();
    const records: Record[] = group.map((p) => {
      if (p.kind === 'ack') return { type: RECORD_ACK, shard: p.shard, position: p.position };
      const position = (next.get(p.shard) ?? this.last(p.shard)) + 1;
      next.set(p.shard, position);
      return { type: RECORD_DATA, shard: p.shard, position, id: p.id, bytes: p.bytes };
    });
    const buf = encodeGroup(records);
    const seg = () => this.segments[this.segments.length - 1]!;
    try {
      if (this.broken) throw this.broken;
      if (seg().size > seg().initialSize && seg().size + buf.byteLength > this.segmentBytes) await this.roll();
      await this.writeAt(buf, seg());
    } catch (err) {
      const e = err instanceof IngestLogError ? err : diskError('writing', seg().path, err);
      for (const p of group) p.reject(e);
      return;
    }
    const active = seg();
    const at = active.size;
    active.size += buf.byteLength;
    this.counters.groups++;
    this.counters.bytesWritten += buf.byteLength;
    const acked: Array<() => void> = [];
    let o = at + FRAME_HEADER_BYTES;
    for (let i = 0; i < group.length; i++) {
      const p = group[i]!;
      const r = records[i]!;
      const len = recordBytes(r);
      if (p.kind === 'ack') {
        if (p.position > this.acked(p.shard)) this.ackedAt.set(p.shard, p.position);
        this.counters.acks++;
        acked.push(p.resolve);
      } else if (r.type === RECORD_DATA) {
        this.durable.set(p.shard, r.position);
        indexRecord(active, p.shard, r.position, o, len);
        this.window.remember(p.id, { shard: p.shard, position: r.position });
        this.counters.appends++;
        // readers get a view of the written buffer, never the caller's array (it may reuse it)
        const start = o - at + len - 4 - r.bytes.byteLength;
        this.readers.dispatch({ shard: p.shard, position: r.position, id: p.id, bytes: buf.subarray(start, start + r.bytes.byteLength) });
        p.resolve({ shard: p.shard, position: r.position, duplicate: false });
      }
      o += len;
    }
    if (acked.length > 0) {
      await this.deleteAcknowledged();
      for (const resolve of acked) resolve();
    }
  }

  /** Writes `buf` at the end of `seg` and fsyncs. A failed write is cut back off; a failed fsync breaks the log. */
  private async writeAt(buf: Buffer, seg: Segment): Promise<void> {
    try {
      let done = 0;
      while (done < buf.byteLength) {
        const { bytesWritten } = await this.fd.write(buf, done, buf.byteLength - done, seg.size + done);
        done += bytesWritten;
      }
    } catch (err) {
      // cut the partial group off so the next one does not land behind garbage
      await this.fd.truncate(seg.size).catch((e: unknown) => {
        this.broken = diskError('cutting back a failed write to', seg.path, e);
      });
      throw diskError('writing', seg.path, err);
    }
    try {
      await this.fd.datasync();
      this.counters.fsyncs++;
    } catch (err) {
      // after a failed fsync the kernel may have dropped the dirty pages: trust nothing unsynced
      this.broken = diskError('syncing', seg.path, err);
      throw this.broken;
    }
  }

  private async roll(): Promise<void> {
    const seq = this.segments[this.segments.length - 1]!.seq + 1;
    const fd = await this.createSegment(seq);
    await this.fd.close().catch(() => undefined);
    this.fd = fd;
  }

  /** A new segment that opens with a checkpoint (every shard's last and acked positions), so older segments can go. */
  private async createSegment(seq: number): Promise<FileHandle> {
    const path = join(this.dir, segmentName(seq));
    const shards = [...new Set([...this.durable.keys(), ...this.ackedAt.keys()])].sort((a, b) => a - b)
      .map((shard) => ({ shard, last: this.last(shard), acked: this.acked(shard) }));
    const buf = encodeGroup([{ type: RECORD_CHECKPOINT, shards }]);
    let fd: FileHandle | undefined;
    try {
      fd = await open(path, 'w+');
      await fd.write(buf, 0, buf.byteLength, 0);
      await fd.datasync();
      this.counters.fsyncs++;
      await syncDir(this.dir);
    } catch (err) {
      await fd?.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw diskError('creating segment', path, err);
    }
    this.segments.push({ seq, path, size: buf.byteLength, initialSize: buf.byteLength, shards: new Map() });
    return fd;
  }

  /** Deletes the oldest segments whose every record is acknowledged (never the active one). */
  private async deleteAcknowledged(): Promise<void> {
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      for (const [shard, idx] of seg.shards) if (idx.last > this.acked(shard)) return;
      try {
        await unlink(seg.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.options.logger?.warn({ err, segment: seg.path }, 'ingest log: could not delete an acknowledged segment');
          return;
        }
      }
      this.segments.shift();
      this.counters.segmentsDeleted++;
    }
  }

  // ---- recovery ----

  private async recover(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort();
    } catch (err) {
      throw diskError('opening', this.dir, err);
    }
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const path = join(this.dir, name);
      const buf = await readFile(path).catch((err: unknown) => { throw diskError('reading', path, err); });
      const rec = recoverSegment(name, buf, i === names.length - 1);
      const initialSize = rec.validBytes > 0 ? firstFrameBytes(buf) : 0;
      const seg: Segment = { seq: Number(SEGMENT_NAME.exec(name)![1]), path, size: rec.validBytes, initialSize, shards: new Map() };
      for (const g of rec.groups) for (const r of g.records) this.apply(r, seg, g.bodyAt);
      if (rec.torn) {
        await this.cutTornTail(path, rec.validBytes, buf.byteLength, rec.torn.why);
      }
      this.segments.push(seg);
    }
    const last = this.segments[this.segments.length - 1];
    if (!last || last.size === 0) {
      // a new log, or a segment created just before a crash with nothing durable in it
      if (last) this.segments.pop();
      this.fd = await this.createSegment(last?.seq ?? 1);
    } else {
      this.fd = await open(last.path, 'r+').catch((err: unknown) => { throw diskError('opening', last.path, err); });
    }
    await this.deleteAcknowledged();
  }

  private apply(r: Record, seg: Segment, bodyAt: number): void {
    if (r.type === RECORD_CHECKPOINT) {
      for (const s of r.shards) {
        if (s.last > this.last(s.shard)) this.durable.set(s.shard, s.last);
        if (s.acked > this.acked(s.shard)) this.ackedAt.set(s.shard, s.acked);
      }
    } else if (r.type === RECORD_ACK) {
      if (r.position > this.acked(r.shard)) this.ackedAt.set(r.shard, r.position);
    } else {
      if (r.position > this.last(r.shard)) this.durable.set(r.shard, r.position);
      indexRecord(seg, r.shard, r.position, bodyAt + r.at!, recordBytes(r));
      this.window.remember(r.id, { shard: r.shard, position: r.position });
    }
  }

  private async cutTornTail(path: string, validBytes: number, fileBytes: number, why: string): Promise<void> {
    try {
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(validBytes);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw diskError('cutting a torn tail off', path, err);
    }
    this.counters.truncatedBytes += fileBytes - validBytes;
    this.options.logger?.warn({ segment: path, at: validBytes, cut: fileBytes - validBytes, why }, 'ingest log: cut a torn last write off (a crash during an append that was never acknowledged)');
  }

  // ---- reading ----

  read(shard: number, after: number, options: ReadOptions = {}): AsyncIterable<LogRecord> {
    const bad = checkShard(shard) ?? (Number.isSafeInteger(after) && after >= 0 ? undefined : badInput(`read position ${after} is not a whole number ≥ 0`));
    if (bad) throw bad;
    return this.readers.read(shard, after, options.signal);
  }
}

function checkShard(shard: number): IngestLogError | undefined {
  return Number.isInteger(shard) && shard >= 0 && shard <= MAX_SHARD ? undefined : badInput(`shard ${shard} is not a whole number from 0 to ${MAX_SHARD}`);
}

function firstFrameBytes(buf: Buffer): number {
  return 12 + buf.readUInt32LE(0);
}
