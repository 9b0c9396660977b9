// The readers of the embedded log. A reader behind the log reads its shard's records from the
// segments (through each segment's index: only its own records, in runs); once caught up it
// takes new records straight from the commit that made them durable, with no disk read. A
// reader that lets more than `bufferBytes` wait goes back to the disk, so a slow consumer
// never makes the log hold memory without bound.
import { open, type FileHandle } from 'node:fs/promises';
import { diskError } from './errors.ts';
import { RECORD_DATA } from './frame.ts';
import { readIndexed, segmentName, type Segment } from './segment.ts';
import type { LogRecord } from './types.ts';

/** a reader further behind than this (in bytes waiting for it) goes back to reading the disk */
export const DEFAULT_READER_BUFFER_BYTES = 8 * 1024 * 1024;

/** What the readers see of the log. */
export interface ReadSource {
  last(shard: number): number;
  acked(shard: number): number;
  segments(): readonly Segment[];
  closed(): boolean;
  diskRead(): void;
}

interface Subscriber {
  shard: number;
  queue: LogRecord[];
  bytes: number;
  wake?: () => void;
}

export class ShardReaders {
  private readonly subscribers = new Map<number, Set<Subscriber>>();
  private readonly wakers = new Set<() => void>();

  constructor(private readonly log: ReadSource, private readonly bufferBytes = DEFAULT_READER_BUFFER_BYTES) {}

  /** Ends every reader's wait (the log is closing). */
  wakeAll(): void {
    for (const wake of this.wakers) wake();
  }

  async *read(shard: number, after: number, signal: AbortSignal | undefined): AsyncGenerator<LogRecord> {
    let cursor = after;
    const sub: Subscriber = { shard, queue: [], bytes: 0 };
    const wake = (): void => sub.wake?.();
    signal?.addEventListener('abort', wake);
    this.wakers.add(wake);
    const done = (): boolean => this.log.closed() || signal?.aborted === true;
    try {
      while (!done()) {
        const rec = sub.queue.shift();
        if (rec) {
          sub.bytes -= rec.bytes.byteLength;
          if (rec.position > cursor) {
            cursor = rec.position;
            yield rec;
          }
          continue;
        }
        if (cursor < this.log.last(shard)) {
          // behind (a fresh reader, or one that fell too far back): from the segments
          this.unsubscribe(sub);
          this.log.diskRead();
          for await (const r of this.scan(shard, cursor)) {
            if (done()) return;
            cursor = r.position;
            yield r;
          }
          // what is missing below the acknowledged position was deleted: skip it
          if (cursor < this.log.acked(shard)) cursor = this.log.acked(shard);
          continue;
        }
        // caught up: take what becomes durable next straight from the commit
        this.subscribe(sub);
        await new Promise<void>((resolve) => { sub.wake = resolve; });
        sub.wake = undefined;
      }
    } finally {
      this.unsubscribe(sub);
      this.wakers.delete(wake);
      signal?.removeEventListener('abort', wake);
    }
  }

  private async *scan(shard: number, after: number): AsyncGenerator<LogRecord> {
    for (const seg of [...this.log.segments()]) {
      const idx = seg.shards.get(shard);
      if (!idx || idx.last <= after) continue;
      let fh: FileHandle;
      try {
        fh = await open(seg.path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // acknowledged and deleted meanwhile
        throw diskError('reading', seg.path, err);
      }
      try {
        for await (const r of readIndexed(fh, segmentName(seg.seq), idx, after + 1)) {
          if (r.type === RECORD_DATA && r.shard === shard && r.position > after) {
            yield { shard, position: r.position, id: r.id, bytes: r.bytes };
          }
        }
      } finally {
        await fh.close();
      }
    }
  }

  private subscribe(sub: Subscriber): void {
    let set = this.subscribers.get(sub.shard);
    if (!set) this.subscribers.set(sub.shard, (set = new Set()));
    set.add(sub);
  }

  private unsubscribe(sub: Subscriber): void {
    this.subscribers.get(sub.shard)?.delete(sub);
  }

  /** Hands a record that just became durable to the readers of its shard that are caught up. */
  dispatch(rec: LogRecord): void {
    const set = this.subscribers.get(rec.shard);
    if (!set) return;
    for (const sub of set) {
      sub.queue.push(rec);
      sub.bytes += rec.bytes.byteLength;
      if (sub.bytes > this.bufferBytes) {
        // too far behind to keep in memory: drop the queue, the reader goes back to the disk
        sub.queue = [];
        sub.bytes = 0;
        set.delete(sub);
      }
      sub.wake?.();
    }
  }
}
