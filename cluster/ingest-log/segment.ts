// Segment files: names, recovery of one file's bytes, and reading its frames back.
import type { FileHandle } from 'node:fs/promises';
import { checkFrame, decodeBody, FRAME_HEADER_BYTES, validFrameAfter, type Record } from './frame.ts';
import { IngestLogError } from './errors.ts';

export const SEGMENT_NAME = /^seg-(\d{16})\.log$/;

export function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(16, '0')}.log`;
}

/** A segment as the log tracks it. `size` counts only durable bytes. */
export interface Segment {
  seq: number;
  path: string;
  size: number;
  /** bytes of its opening checkpoint: a segment no bigger holds no record of its own */
  initialSize: number;
  /** per shard, the highest position this segment holds */
  shards: Map<number, number>;
}

export interface Recovered {
  /** the records in order, grouped as they were committed */
  groups: Record[][];
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
  const groups: Record[][] = [];
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
      groups.push(decodeBody(body));
    } catch (err) {
      throw new IngestLogError('INTERNAL', 'corrupt', `ingest log: segment ${name} has an unreadable group at byte ${off}`, { cause: err });
    }
    off += FRAME_HEADER_BYTES + c.bodyLen;
  }
  return { groups, validBytes: off };
}

export const READ_CHUNK_BYTES = 1 << 20;

/** The verified group bodies of a segment up to `size()` bytes (read in chunks; size may grow while reading). */
export async function* readGroups(fh: FileHandle, name: string, size: () => number): AsyncGenerator<Uint8Array> {
  let buf = Buffer.alloc(0);
  let bufAt = 0; // file offset of buf[0]
  let off = 0; // file offset of the next frame
  while (off < size()) {
    const have = bufAt + buf.byteLength - off;
    let need = FRAME_HEADER_BYTES;
    if (have >= FRAME_HEADER_BYTES) need = FRAME_HEADER_BYTES + buf.readUInt32LE(off - bufAt);
    if (have < need) {
      const want = Math.max(need, READ_CHUNK_BYTES);
      const next = Buffer.allocUnsafe(Math.min(want, size() - off));
      if (next.byteLength < need) throw damaged(name, off, 'past-end');
      const { bytesRead } = await fh.read(next, 0, next.byteLength, off);
      if (bytesRead < need) throw damaged(name, off, 'short read');
      buf = next.subarray(0, bytesRead);
      bufAt = off;
      continue;
    }
    const frame = buf.subarray(off - bufAt, off - bufAt + need);
    const c = checkFrame(frame, 0);
    if (!c.ok) throw damaged(name, off, c.why);
    yield frame.subarray(FRAME_HEADER_BYTES);
    off += need;
  }
}

function damaged(name: string, offset: number, why: string): IngestLogError {
  return new IngestLogError('INTERNAL', 'corrupt', `ingest log: segment ${name} is damaged at byte ${offset} (${why})`);
}
