// The on-disk format, pure (no I/O). A segment is a sequence of group frames; one group is
// what one write + one fsync made durable, so a crash can tear at most the last group.
//
//   frame  = bodyLen u32 | crc32(bodyLen) u32 | crc32(body) u32 | body
//   body   = record*
//   DATA   = 1 u8 | shard u32 | position u48 | idLen u16 | id utf8 | len u32 | bytes | crc32(the record before it) u32
//   ACK    = 2 u8 | shard u32 | position u48
//   CHECKPOINT = 3 u8 | count u32 | (shard u32 | last u48 | acked u48)*
//
// The length has its own CRC so a damaged length is told apart from a short file; a run of
// zeros never passes as a frame (crc32 of a zero length is not zero, and bodyLen must be > 0).
// A DATA record has its own CRC too: a shard's reader reads its records alone (through the
// segment's index), not the whole group, and still checks what it read.
// Little-endian throughout; positions fit in 48 bits (2.8e14 batches per shard).
import * as zlib from 'node:zlib';

export const FRAME_HEADER_BYTES = 12;
export const RECORD_DATA = 1;
export const RECORD_ACK = 2;
export const RECORD_CHECKPOINT = 3;
export const MAX_ID_BYTES = 0xffff;

export type Record =
  | { type: typeof RECORD_DATA; shard: number; position: number; id: string; bytes: Uint8Array; at?: number }
  | { type: typeof RECORD_ACK; shard: number; position: number }
  | { type: typeof RECORD_CHECKPOINT; shards: Array<{ shard: number; last: number; acked: number }> };

const crc32: (data: Uint8Array, value?: number) => number = typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32Js;

export function recordBytes(r: Record): number {
  switch (r.type) {
    case RECORD_DATA: return 1 + 4 + 6 + 2 + Buffer.byteLength(r.id) + 4 + r.bytes.byteLength + 4;
    case RECORD_ACK: return 1 + 4 + 6;
    case RECORD_CHECKPOINT: return 1 + 4 + r.shards.length * 16;
  }
}

/** One group frame holding `records`, ready for one write. */
export function encodeGroup(records: readonly Record[]): Buffer {
  let bodyLen = 0;
  for (const r of records) bodyLen += recordBytes(r);
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLen);
  let o = FRAME_HEADER_BYTES;
  for (const r of records) {
    const start = o;
    buf.writeUInt8(r.type, o++);
    if (r.type === RECORD_CHECKPOINT) {
      o = buf.writeUInt32LE(r.shards.length, o);
      for (const s of r.shards) {
        o = buf.writeUInt32LE(s.shard, o);
        o = buf.writeUIntLE(s.last, o, 6);
        o = buf.writeUIntLE(s.acked, o, 6);
      }
      continue;
    }
    o = buf.writeUInt32LE(r.shard, o);
    o = buf.writeUIntLE(r.position, o, 6);
    if (r.type === RECORD_DATA) {
      const idLen = buf.write(r.id, o + 2, 'utf8');
      o = buf.writeUInt16LE(idLen, o) + idLen;
      o = buf.writeUInt32LE(r.bytes.byteLength, o);
      buf.set(r.bytes, o);
      o += r.bytes.byteLength;
      o = buf.writeUInt32LE(crc32(buf.subarray(start, o)), o);
    }
  }
  writeHeader(buf, bodyLen);
  return buf;
}

function writeHeader(buf: Buffer, bodyLen: number): void {
  buf.writeUInt32LE(bodyLen, 0);
  buf.writeUInt32LE(crc32(buf.subarray(0, 4)), 4);
  buf.writeUInt32LE(crc32(buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + bodyLen)), 8);
}

export type FrameCheck =
  | { ok: true; bodyLen: number }
  | { ok: false; why: 'short' | 'bad-length' | 'past-end' | 'bad-crc' };

/** Checks the frame at `offset` of `buf` (which ends where the file ends). */
export function checkFrame(buf: Uint8Array, offset: number): FrameCheck {
  if (buf.byteLength - offset < FRAME_HEADER_BYTES) return { ok: false, why: 'short' };
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bodyLen = view.readUInt32LE(offset);
  if (bodyLen === 0 || crc32(view.subarray(offset, offset + 4)) !== view.readUInt32LE(offset + 4)) return { ok: false, why: 'bad-length' };
  const end = offset + FRAME_HEADER_BYTES + bodyLen;
  if (end > buf.byteLength) return { ok: false, why: 'past-end' };
  if (crc32(view.subarray(offset + FRAME_HEADER_BYTES, end)) !== view.readUInt32LE(offset + 8)) return { ok: false, why: 'bad-crc' };
  return { ok: true, bodyLen };
}

/** Reads the bodyLen of a header without checking it (for readers of frames already verified at recovery or written by us). */
export function headerBodyLen(header: Uint8Array): number {
  return Buffer.from(header.buffer, header.byteOffset, header.byteLength).readUInt32LE(0);
}

/**
 * The records of a group body, or of DATA records read alone. DATA bytes are views into `body`
 * (no copy) and `at` is the record's offset in `body`. A DATA record whose own CRC fails throws.
 */
export function decodeBody(body: Uint8Array): Record[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: Record[] = [];
  let o = 0;
  while (o < buf.byteLength) {
    const at = o;
    const type = buf.readUInt8(o++);
    if (type === RECORD_CHECKPOINT) {
      const n = buf.readUInt32LE(o);
      o += 4;
      const shards: Array<{ shard: number; last: number; acked: number }> = [];
      for (let i = 0; i < n; i++, o += 16) {
        shards.push({ shard: buf.readUInt32LE(o), last: buf.readUIntLE(o + 4, 6), acked: buf.readUIntLE(o + 10, 6) });
      }
      out.push({ type, shards });
      continue;
    }
    const shard = buf.readUInt32LE(o);
    const position = buf.readUIntLE(o + 4, 6);
    o += 10;
    if (type === RECORD_ACK) {
      out.push({ type, shard, position });
    } else if (type === RECORD_DATA) {
      const idLen = buf.readUInt16LE(o);
      const id = buf.toString('utf8', o + 2, o + 2 + idLen);
      o += 2 + idLen;
      const len = buf.readUInt32LE(o);
      o += 4;
      if (o + len + 4 > buf.byteLength) throw new RangeError(`record of ${len} bytes runs past its group`);
      if (crc32(buf.subarray(at, o + len)) !== buf.readUInt32LE(o + len)) throw new RangeError(`record at ${at} (shard ${shard}, position ${position}) fails its checksum`);
      out.push({ type, shard, position, id, bytes: body.subarray(o, o + len), at });
      o += len + 4;
    } else {
      throw new RangeError(`unknown record type ${type}`);
    }
  }
  return out;
}

/** Is there any valid frame starting after `from`? Tells a torn tail from damage in the middle. */
export function validFrameAfter(buf: Uint8Array, from: number): number | undefined {
  for (let o = from + 1; o + FRAME_HEADER_BYTES <= buf.byteLength; o++) {
    if (buf[o] === 0 && buf[o + 1] === 0 && buf[o + 2] === 0 && buf[o + 3] === 0) continue;
    if (checkFrame(buf, o).ok) return o;
  }
  return undefined;
}

// CRC-32 (IEEE) for Node versions before 20.15, which lack zlib.crc32.
let table: Uint32Array | undefined;
function crc32Js(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
