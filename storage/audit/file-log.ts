// The audit log as one append-only file of JSON lines under the data folder. Appends made
// while a write is under way share the next write and its fsync (group commit); an append
// resolves only once its line is on disk. Memory holds a small index (time, offset, length
// per entry, and each tenant's entry numbers); entries are read from the file when asked for.
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { VigilError } from '../../protocols/index.ts';
import type { Page } from '../../protocols/index.ts';
import type { Clock } from '../../actors/runtime/types.ts';
import { SystemClock } from '../../actors/runtime/index.ts';
import { decodeCursor, encodeCursor } from '../page.ts';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../types.ts';
import { readLine, sealLine } from './chain.ts';
import { checkRecord, GENESIS_HASH } from './types.ts';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord, AuditVerification } from './types.ts';

export const AUDIT_FILE = 'audit.jsonl';
/** Entries written by one write + fsync at most. */
export const DEFAULT_AUDIT_BATCH = 1_000;
const READ_CHUNK = 1 << 20;

export interface FileAuditLogOptions {
  /** the file, e.g. join(dataDir, AUDIT_FILE) */
  path: string;
  clock?: Clock;
  log?: Logger;
}

interface Pending {
  fields: ReturnType<typeof checkRecord>;
  at: number;
  resolve: (entry: AuditEntry) => void;
  reject: (err: unknown) => void;
}

export class FileAuditLog implements AuditLog {
  // index i describes entry seq i + 1
  private readonly ats: number[] = [];
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly byTenant = new Map<string | null, number[]>();
  private lastHash = GENESIS_HASH;
  private size = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** writes (each with its fsync) so far: fewer than appends when they were grouped */
  private syncs = 0;
  /** set when a failed write could not be undone: nothing more is appended */
  private broken: unknown;

  private constructor(private readonly path: string, private readonly fh: FileHandle, private readonly clock: Clock) {}

  /**
   * Opens (or creates) the log and indexes it. A torn last line (a write cut off before its
   * fsync, so never acknowledged) is cut away; any other damage is refused with an error
   * naming the file and the line.
   */
  static async open(options: FileAuditLogOptions): Promise<FileAuditLog> {
    await mkdir(dirname(options.path), { recursive: true });
    await (await open(options.path, 'a')).close();
    // The file's name must survive a crash too, not only its content.
    const folder = await open(dirname(options.path), 'r');
    await folder.sync().finally(() => folder.close());
    const fh = await open(options.path, 'r+');
    const log = new FileAuditLog(options.path, fh, options.clock ?? new SystemClock());
    try {
      await log.load(options.log);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return log;
  }

  append(record: AuditRecord): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new VigilError('UNAVAILABLE', 'audit log is closed'));
    if (this.broken) return Promise.reject(new VigilError('UNAVAILABLE', `audit log ${this.path} cannot be written`, { cause: this.broken }));
    let fields: ReturnType<typeof checkRecord>;
    try {
      fields = checkRecord(record);
    } catch (err) {
      return Promise.reject(err);
    }
    const at = this.clock.now();
    return new Promise<AuditEntry>((resolve, reject) => {
      this.queue.push({ fields, at, resolve, reject });
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.flush().finally(done)));
    });
  }

  async list(q: AuditQuery): Promise<Page<AuditEntry>> {
    const asked = Number.isFinite(q.limit) ? Math.floor(q.limit!) : DEFAULT_PAGE_LIMIT;
    const limit = Math.min(Math.max(1, asked), MAX_PAGE_LIMIT);
    // `at` never decreases with seq, so a time range is a range of seqs.
    let hi = this.ats.length; // highest seq allowed
    if (q.to !== undefined) hi = Math.min(hi, firstAbove(this.ats, q.to));
    if (q.cursor !== undefined) hi = Math.min(hi, decodeCursor(q.cursor) - 1);
    const lo = q.from === undefined ? 1 : firstAtLeast(this.ats, q.from) + 1;
    const seqs: number[] = [];
    let more = false;
    if (q.tenant === undefined) {
      for (let s = hi; s >= lo && seqs.length < limit; s--) seqs.push(s);
      more = hi - seqs.length >= lo;
    } else {
      const list = this.byTenant.get(q.tenant) ?? [];
      let i = firstAbove(list, hi) - 1;
      for (; i >= 0 && list[i]! >= lo && seqs.length < limit; i--) seqs.push(list[i]!);
      more = i >= 0 && list[i]! >= lo;
    }
    const items = await this.readMany(seqs);
    return more ? { items, next: encodeCursor(seqs.at(-1)!) } : { items };
  }

  async verify(): Promise<AuditVerification> {
    let prev = GENESIS_HASH;
    let entries = 0;
    let failure: { seq: number; reason: string } | undefined;
    await this.scan(this.size, (line) => {
      const seq = entries + 1;
      const r = readLine(line, true);
      if (!r.ok) failure = { seq, reason: r.reason };
      else if (r.entry.seq !== seq) failure = { seq, reason: `numbered ${r.entry.seq}` };
      else if (r.entry.prev !== prev) failure = { seq, reason: 'not chained to the entry before' };
      else {
        prev = r.entry.hash;
        entries++;
        return true;
      }
      return false;
    });
    return failure ? { ok: false, entries, ...failure } : { ok: true, entries, head: prev };
  }

  /** Writes with their fsync since open (group commit makes this smaller than the appends). */
  get fsyncs(): number {
    return this.syncs;
  }

  head(): { seq: number; hash: string } {
    return { seq: this.ats.length, hash: this.lastHash };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, DEFAULT_AUDIT_BATCH);
        await this.write(batch);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    if (this.broken) {
      for (const p of batch) p.reject(new VigilError('UNAVAILABLE', `audit log ${this.path} cannot be written`, { cause: this.broken }));
      return;
    }
    const entries: AuditEntry[] = [];
    const lines: Buffer[] = [];
    let prev = this.lastHash;
    let at = this.ats.at(-1) ?? -Infinity;
    for (const p of batch) {
      at = Math.max(at, p.at);
      const draft = { seq: this.ats.length + entries.length + 1, at, ...p.fields, prev };
      const { line, hash } = sealLine(draft);
      entries.push({ ...draft, hash });
      lines.push(Buffer.from(`${line}\n`));
      prev = hash;
    }
    const bytes = Buffer.concat(lines);
    try {
      await this.fh.write(bytes, 0, bytes.length, this.size);
      await this.fh.datasync();
      this.syncs++;
    } catch (err) {
      // Undo a partial write so the file ends at the last acknowledged entry.
      await this.fh.truncate(this.size).catch((e: unknown) => { this.broken = e; });
      const failure = new VigilError('UNAVAILABLE', `audit log ${this.path}: could not write`, { cause: err });
      for (const p of batch) p.reject(failure);
      return;
    }
    let offset = this.size;
    for (let i = 0; i < entries.length; i++) {
      this.index(entries[i]!, offset, lines[i]!.length - 1);
      offset += lines[i]!.length;
    }
    this.size = offset;
    this.lastHash = prev;
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(entries[i]!);
  }

  private index(e: AuditEntry, offset: number, length: number): void {
    this.ats.push(e.at);
    this.offsets.push(offset);
    this.lengths.push(length);
    let list = this.byTenant.get(e.tenant);
    if (!list) this.byTenant.set(e.tenant, (list = []));
    list.push(e.seq);
  }

  /** Entries `seqs` (descending), reading each run of neighbouring entries with one read. */
  private async readMany(seqs: readonly number[]): Promise<AuditEntry[]> {
    const runs: Array<{ first: number; last: number }> = [];
    for (const s of seqs) {
      const run = runs.at(-1);
      if (run && run.first === s + 1) run.first = s;
      else runs.push({ first: s, last: s });
    }
    const parts = await Promise.all(runs.map(async ({ first, last }) => {
      const start = this.offsets[first - 1]!;
      const buf = Buffer.alloc(this.offsets[last - 1]! + this.lengths[last - 1]! - start);
      await this.fh.read(buf, 0, buf.length, start);
      const out: AuditEntry[] = [];
      for (let s = last; s >= first; s--) {
        const at = this.offsets[s - 1]! - start;
        const r = readLine(buf.toString('utf8', at, at + this.lengths[s - 1]!), false);
        if (!r.ok || r.entry.seq !== s) {
          throw new VigilError('INTERNAL', `audit log ${this.path}: entry ${s} changed on disk (${r.ok ? 'renumbered' : r.reason})`);
        }
        out.push(r.entry);
      }
      return out;
    }));
    return parts.flat();
  }

  private async load(log: Logger | undefined): Promise<void> {
    const { size } = await this.fh.stat();
    const end = await this.scan(size, (line, lineOffset, lineLength) => {
      const seq = this.ats.length + 1;
      const r = readLine(line, false);
      const damaged = (why: string): never => {
        throw new VigilError('INTERNAL', `audit log ${this.path} is damaged at entry ${seq} (byte ${lineOffset}): ${why}; refusing to open it: restore it from a backup`);
      };
      if (!r.ok) return damaged(r.reason);
      const e = r.entry;
      if (e.seq !== seq) damaged(`numbered ${e.seq}`);
      if (e.prev !== this.lastHash) damaged('not chained to the entry before');
      if (e.at < (this.ats.at(-1) ?? -Infinity)) damaged('earlier than the entry before');
      this.index(e, lineOffset, lineLength);
      this.lastHash = e.hash;
      return true;
    });
    if (end < size) {
      // Bytes after the last newline: a write cut off before its fsync, never acknowledged.
      log?.warn({ path: this.path, bytes: size - end }, 'audit log: cutting a torn last line (an append that never completed)');
      await this.fh.truncate(end);
      await this.fh.sync();
    }
    this.size = end;
  }

  /**
   * Calls `visit` with each complete line below `limit`; stops when it returns false.
   * Returns the offset just past the last complete line seen.
   */
  private async scan(limit: number, visit: (line: string, offset: number, length: number) => boolean): Promise<number> {
    let pos = 0;
    let carry = Buffer.alloc(0);
    let carryAt = 0;
    const chunk = Buffer.alloc(READ_CHUNK);
    while (pos < limit) {
      const { bytesRead } = await this.fh.read(chunk, 0, Math.min(READ_CHUNK, limit - pos), pos);
      if (bytesRead === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
        if (!visit(data.toString('utf8', start, nl), carryAt + start, nl - start)) return carryAt + start;
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      carryAt += start;
      pos += bytesRead;
    }
    return carryAt;
  }
}

/** Index of the first value > x in an ascending list (= how many are <= x). */
function firstAbove(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first value >= x in an ascending list. */
function firstAtLeast(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
