// The snappy block format (google/snappy, format_description.txt), decoded strictly: every
// element's length and offset is checked against the input and the output before a byte
// moves, so a hostile block fails with BAD_REQUEST after work linear in its declared output.
// snappyjs's decoder trusted them: a fuzzed 117-byte remote-write body drove its copy position
// negative, and its loop ran for billions of steps on the event loop (test/protocols-snappy).
import { VigilError } from './errors.ts';

/** The uncompressed length a snappy block announces (its varint header) and where its elements start. */
function header(block: Uint8Array): { length: number; start: number } {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { length, start: i + 1 };
  }
  throw new VigilError('BAD_REQUEST', 'body is not a snappy block (no valid length header)');
}

/** The uncompressed length a snappy block announces, before any work. */
export function snappyLength(block: Uint8Array): number {
  return header(block).length;
}

/** Below this many bytes a loop beats a native copy's call (most elements are this short). */
const SHORT = 16;

const broken = (what: string, at: number): VigilError => new VigilError('BAD_REQUEST', `body is not valid snappy (block format): ${what} at byte ${at}`);

/** An unsigned little-endian number of `n` bytes at `at`. */
function littleEndian(block: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + block[at + i]!;
  return v;
}

/**
 * Decompresses a snappy block of at most `maxBytes` uncompressed. The length header is
 * checked first, so a small body that claims gigabytes (a snappy bomb) costs nothing.
 */
export function unsnappy(block: Uint8Array, maxBytes: number): Buffer {
  const { length, start } = header(block);
  if (length > maxBytes) {
    throw new VigilError('PAYLOAD_TOO_LARGE', `body decompresses to ${length} bytes, over the limit of ${maxBytes}`);
  }
  const out = Buffer.allocUnsafe(length);
  let pos = start;
  let at = 0;
  while (pos < block.length) {
    const tag = block[pos]!;
    const kind = tag & 3;
    let len: number;
    if (kind === 0) {
      // a literal: its length in the tag (up to 60), or in the 1-4 bytes after it
      const small = tag >> 2;
      const extra = small < 60 ? 0 : small - 59;
      if (pos + 1 + extra > block.length) throw broken('a literal\'s length runs past the end', pos);
      len = (extra === 0 ? small : littleEndian(block, pos + 1, extra)) + 1;
      pos += 1 + extra;
      if (pos + len > block.length) throw broken(`a literal of ${len} bytes runs past the end`, pos);
      if (at + len > length) throw broken(`a literal of ${len} bytes overruns the declared ${length}`, pos);
      if (len < SHORT) for (let i = 0; i < len; i++) out[at + i] = block[pos + i]!;
      else out.set(block.subarray(pos, pos + len), at);
      pos += len;
      at += len;
      continue;
    }
    // a copy of earlier output: 1-, 2- or 4-byte offset
    const offsetBytes = kind === 1 ? 1 : kind === 2 ? 2 : 4;
    if (pos + 1 + offsetBytes > block.length) throw broken('a copy runs past the end', pos);
    let offset: number;
    if (kind === 1) {
      len = ((tag >> 2) & 7) + 4;
      offset = ((tag >> 5) << 8) | block[pos + 1]!;
    } else {
      len = (tag >> 2) + 1;
      offset = littleEndian(block, pos + 1, offsetBytes);
    }
    if (offset === 0 || offset > at) throw broken(`a copy from offset ${offset} with ${at} bytes written`, pos);
    if (at + len > length) throw broken(`a copy of ${len} bytes overruns the declared ${length}`, pos);
    if (offset >= len && len >= SHORT) out.copyWithin(at, at - offset, at - offset + len);
    else for (let i = 0; i < len; i++) out[at + i] = out[at - offset + i]!; // byte by byte, a run (overlap) included
    pos += 1 + offsetBytes;
    at += len;
  }
  if (at !== length) throw broken(`${at} bytes decoded where the header declares ${length}`, pos);
  return out;
}
