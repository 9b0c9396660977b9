// Segment files: names, recovery of one file's bytes, and reading its frames back.
import type { FileHandle } from 'node:fs/promises';
import { checkFrame, decodeBody, FRAME_HEADER_BYTES, validFrameAfter, type Record } from './frame.ts';
import { IngestLogError } from './errors.ts';

export const SEGMENT_NAME = /^seg-(\d{16})\.log$/;

export function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(16, '0')}.log`;
}

/**
 * Where a shard's records sit in one segment. Records are appended in position order, so a
 * segment holds a run of consecutive positions of each shard: position first + i is at
 * offsets[i] (file offset) and takes lengths[i] bytes. A reader seeks straight to its records.
 */
export class ShardIndex {
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];

  constructor(readonly first: number) {}

  get last(): number {
    return this.first + this.offsets.length - 1;
  }

  add(position: number, offset: number, length: number): void {
    if (position !== this.first + this.offsets.length) {
      throw new IngestLogError('INTERNAL', 'corrupt', `ingest log: position ${position} follows ${this.last} in a segment`);
    }
    this.offsets.push(offset);
    this.lengths.push(length);
  }
}

/** A segment as the log tracks it. `size` counts only durable bytes. */
export interface Segment {
  seq: number;
  path: string;
  size: number;
  /** bytes of its opening checkpoint: a segment no bigger holds no record of its own */
  initialSize: number;
  /** per shard, where its records are */
  shards: Map<number, ShardIndex>;
}

export function indexRecord(seg: Segment, shard: number, position: number, offset: number, length: number): void {
  let idx = seg.shards.get(shard);
  if (!idx) seg.shards.set(shard, (idx = new ShardIndex(position)));
  idx.add(position, offset, length);
}

export interface Recovered {
  /** the records in order, grouped as they were committed, with each group's body offset in the file */
  groups: Array<{ bodyAt: number; records: Record[] }>;
  /** bytes that hold whole, valid frames */
  validBytes: number;
  /** set when the last frame was torn (a crash during its write): where and why */
  torn?: { offset: number; why: string };
}

/**
 * Checks every frame of a segment's bytes. A bad frame is a torn tail only in the last segment
 * and only when no valid frame follows it (one group is one write, and the next is written
 * after its fsync, so a crash tears at most the last group). Anything else is damage.
 */
export function recoverSegment(name: string, buf: Uint8Array, isLast: boolean): Recovered {
  const groups: Recovered['groups'] = [];
  let off = 0;
  while (off < buf.byteLength) {
    const c = checkFrame(buf, off);
    if (!c.ok) {
      const next = validFrameAfter(buf, off);
      if (!isLast || next !== undefined) {
        const after = next !== undefined ? `; a valid frame follows at byte ${next}` : '; it is not the last segment';
        throw new IngestLogError('INTERNAL', 'corrupt', `ingest log: segment ${name} is damaged at byte ${off} (${c.why})${after}`);
      }
      return { groups, validBytes: off, torn: { offset: off, why: c.why } };
    }
    const body = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + c.bodyLen);
    try {
      groups.push({ bodyAt: off + FRAME_HEADER_BYTES, records: decodeBody(body) });
    } catch (err) {
      throw new IngestLogError('INTERNAL', 'corrupt', `ingest log: segment ${name} has an unreadable group at byte ${off}`, { cause: err });
    }
    off += FRAME_HEADER_BYTES + c.bodyLen;
  }
  return { groups, validBytes: off };
}

/** Reads at most this much in one call when a shard's records lie next to each other. */
export const READ_CHUNK_BYTES = 1 << 20;

/** The records of `idx` from position `from` on, read in runs of adjacent records, each checked. */
export async function* readIndexed(fh: FileHandle, name: string, idx: ShardIndex, from: number): AsyncGenerator<Record> {
  let i = Math.max(0, from - idx.first);
  while (i < idx.offsets.length) {
    // one read for a run of records that sit next to each other
    let j = i + 1;
    let bytes = idx.lengths[i]!;
    while (j < idx.offsets.length && idx.offsets[j] === idx.offsets[j - 1]! + idx.lengths[j - 1]! && bytes + idx.lengths[j]! <= READ_CHUNK_BYTES) {
      bytes += idx.lengths[j]!;
      j++;
    }
    const buf = Buffer.allocUnsafe(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, idx.offsets[i]!);
    if (bytesRead < bytes) throw damaged(name, idx.offsets[i]!, 'short read');
    let records: Record[];
    try {
      records = decodeBody(buf);
    } catch (err) {
      throw damaged(name, idx.offsets[i]!, (err as Error).message);
    }
    yield* records;
    i = j;
  }
}

function damaged(name: string, offset: number, why: string): IngestLogError {
  return new IngestLogError('INTERNAL', 'corrupt', `ingest log: segment ${name} is damaged at byte ${offset} (${why})`);
}
