// Per-shard snapshot files under a folder: <dir>/<shard>/<seq>.snap, written atomically
// (temp file, fsync, rename, fsync the folder), the newest `keep` kept. Loading takes the newest
// that reads back whole; a damaged one is logged and the one before it is used instead, so
// replay starts from that one's position. That is why the log may be acknowledged only up to
// the OLDEST snapshot kept (ackable()), never the newest.
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { VigilError } from '../../protocols/errors.ts';
import { decodeSnapshot, encodeSnapshotInTurns } from './codec.ts';
import type { ShardSnapshot, SnapshotToSave } from './types.ts';
import { syncDir } from '../../storage/index.ts';

/** the newest and one fallback: a damaged newest costs one snapshot period of replay */
export const DEFAULT_KEEP_SNAPSHOTS = 2;
/**
 * A snapshot is written and synced this much at a time (as RocksDB's bytes_per_sync): the ingest
 * log's fsync, which every answer to a client waits for, shares the file system's journal with
 * it, and waited for a whole 2-5 MB snapshot to reach the disk (20-90 ms, during every
 * checkpoint, under bench:tenancy); now for at most one chunk.
 */
export const DEFAULT_SYNC_CHUNK_BYTES = 256 * 1024;
// <seq>-<logPosition>.snap: the name tells the position without reading the file
const FILE = /^(\d{12})-(\d{16})\.snap$/;

export interface SnapshotStoreOptions {
  keep?: number;
  /** bytes written between two syncs of a snapshot file (default DEFAULT_SYNC_CHUNK_BYTES) */
  syncChunkBytes?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface SavedSnapshot {
  file: string;
  logPosition: number;
  /** how far the shard's log may now be acknowledged (see ackable()) */
  ackable: number;
}

export interface LoadedSnapshot {
  snapshot: ShardSnapshot;
  file: string;
  /** newer files that could not be read, and why (already logged) */
  skipped: Array<{ file: string; error: string }>;
}

export class SnapshotStore {
  private readonly keep: number;
  private readonly chains = new Map<number, Promise<unknown>>();

  constructor(readonly dir: string, private readonly options: SnapshotStoreOptions = {}) {
    this.keep = Math.max(1, options.keep ?? DEFAULT_KEEP_SNAPSHOTS);
  }

  /** Writes `snapshot` as the newest of its shard and prunes the oldest beyond `keep`. */
  async save(snapshot: SnapshotToSave): Promise<SavedSnapshot> {
    let bytes: Uint8Array;
    try {
      bytes = await encodeSnapshotInTurns(snapshot); // bad fields fail here, before any file is touched
    } catch (err) {
      throw new VigilError('BAD_REQUEST', `snapshot of shard ${snapshot.shard}: ${(err as Error).message}`, { cause: err });
    }
    return this.serial(snapshot.shard, async () => {
      const folder = this.folder(snapshot.shard);
      try {
        await mkdir(folder, { recursive: true });
        const files = await this.files(snapshot.shard);
        await this.removeTemps(folder);
        const seq = files.length > 0 ? Number(FILE.exec(files[files.length - 1]!)![1]) + 1 : 1;
        const name = `${String(seq).padStart(12, '0')}-${String(snapshot.logPosition).padStart(16, '0')}.snap`;
        const tmp = join(folder, `.${name}.tmp`);
        const fh = await open(tmp, 'w');
        try {
          const chunk = Math.max(4096, this.options.syncChunkBytes ?? DEFAULT_SYNC_CHUNK_BYTES);
          for (let at = 0; at < bytes.byteLength; at += chunk) {
            const end = Math.min(bytes.byteLength, at + chunk);
            for (let done = at; done < end;) done += (await fh.write(bytes, done, end - done, done)).bytesWritten;
            if (end < bytes.byteLength) await fh.datasync();
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, join(folder, name));
        await syncDir(folder);
        const kept = [...files, name].slice(-this.keep);
        for (const old of [...files, name].slice(0, -this.keep)) await unlink(join(folder, old)).catch(() => undefined);
        return { file: join(folder, name), logPosition: snapshot.logPosition, ackable: this.ackableOf(kept) };
      } catch (err) {
        throw new VigilError('UNAVAILABLE', `snapshot of shard ${snapshot.shard}: cannot write under ${folder} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
      }
    });
  }

  /** The newest readable snapshot of `shard`, falling back past damaged ones (logged); undefined when none. */
  async latest(shard: number): Promise<LoadedSnapshot | undefined> {
    const skipped: LoadedSnapshot['skipped'] = [];
    const files = await this.files(shard);
    for (let i = files.length - 1; i >= 0; i--) {
      const file = join(this.folder(shard), files[i]!);
      try {
        const snapshot = decodeSnapshot(await readFile(file));
        if (snapshot.shard !== shard) throw new Error(`it holds shard ${snapshot.shard}`);
        if (snapshot.logPosition !== positionOf(files[i]!)) throw new Error(`it holds position ${snapshot.logPosition}, its name another`);
        return { snapshot, file, skipped };
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        skipped.push({ file, error });
        this.options.logger?.warn({ shard, file, error }, 'snapshot unreadable: falling back to the one before it');
      }
    }
    return undefined;
  }

  /** The newest readable snapshot of every shard that has one (what a node restores on start). */
  async loadAll(): Promise<Map<number, LoadedSnapshot>> {
    const out = new Map<number, LoadedSnapshot>();
    for (const shard of await this.shards()) {
      const got = await this.latest(shard);
      if (got) out.set(shard, got);
    }
    return out;
  }

  /**
   * How far the shard's log may be acknowledged: the position of the oldest snapshot kept, since a
   * restart may have to fall back to it. 0 until `keep` snapshots exist (or with keep = 1, the newest).
   * Read from the file names: a save costs no re-read of the fallback.
   */
  async ackable(shard: number): Promise<number> {
    return this.ackableOf(await this.files(shard));
  }

  async shards(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  private ackableOf(files: string[]): number {
    return files.length < this.keep ? 0 : positionOf(files[0]!);
  }

  /** Temp files a crash left before their rename: never a snapshot, so never read. */
  private async removeTemps(folder: string): Promise<void> {
    for (const n of await readdir(folder)) if (n.endsWith('.snap.tmp')) await unlink(join(folder, n)).catch(() => undefined);
  }

  private folder(shard: number): string {
    return join(this.dir, String(shard));
  }

  private async files(shard: number): Promise<string[]> {
    const names = await readdir(this.folder(shard)).catch(() => [] as string[]);
    return names.filter((n) => FILE.test(n)).sort();
  }

  /** One save at a time per shard, so sequence numbers and pruning never race. */
  private serial<T>(shard: number, work: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(shard) ?? Promise.resolve();
    const next = prev.then(work, work);
    this.chains.set(shard, next.catch(() => undefined));
    return next;
  }
}

function positionOf(name: string): number {
  return Number(FILE.exec(name)![2]);
}
