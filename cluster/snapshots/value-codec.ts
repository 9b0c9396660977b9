// A compact, lossless binary form of the plain objects detectors snapshot (DetectorSnapshot):
// the keys stay named, so the shape is still readable and versioned by the detector itself,
// but numbers are not text. A detector's state is mostly arrays of doubles (seasonal profiles,
// grids, sketches): packed as float64 they take 8 bytes each instead of ~19 characters of JSON,
// decode without parsing, and keep NaN and ±Infinity (JSON turns them into null).
//
//   value = tag u8 | payload
//   0 null · 1 false · 2 true · 3 uint (varint) · 4 negative int (varint of -v) · 5 float64
//   6 string (varint bytes, utf8) · 7 array (varint n, values) · 8 number array (varint n, n float64)
//   9 object (varint n, (varint bytes, utf8 key, value)*)
// Keys whose value is undefined are left out and undefined in an array becomes null, as in JSON.

import { endianness } from 'node:os';

// float64 arrays are copied as one block through a Float64Array (the platform's byte order),
// which is only the wire's little-endian order on a little-endian machine
const LITTLE_ENDIAN = endianness() === 'LE';

const NULL = 0, FALSE = 1, TRUE = 2, UINT = 3, NEG_INT = 4, F64 = 5, STR = 6, ARR = 7, F64_ARR = 8, OBJ = 9;

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value | undefined };

/** Longer runs of bytes are copied through a view (one allocation); shorter ones by a loop (none). */
const COPY_LOOP_MAX_BYTES = 2048;

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private doubles = new Float64Array(64);
  private doubleBytes = new Uint8Array(this.doubles.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.byteLength * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  varint(v: number): void {
    this.room(8);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  f64(v: number): void {
    this.room(8);
    this.length = this.buf.writeDoubleLE(v, this.length);
  }

  f64s(v: number[]): void {
    const n = v.length * 8;
    this.room(n);
    if (LITTLE_ENDIAN) {
      // through one reused Float64Array, its bytes copied by a loop: a checkpoint packs
      // thousands of these arrays in a few turns, and a typed array made per call (a fresh
      // array, then a view for the copy) was a sixth, then a twelfth, of what it allocated
      if (this.doubles.length < v.length) {
        this.doubles = new Float64Array(Math.max(v.length, this.doubles.length * 2));
        this.doubleBytes = new Uint8Array(this.doubles.buffer);
      }
      this.doubles.set(v);
      const from = this.doubleBytes;
      const to = this.buf;
      const at = this.length;
      if (n > COPY_LOOP_MAX_BYTES) to.set(from.subarray(0, n), at);
      else for (let i = 0; i < n; i++) to[at + i] = from[i]!;
      this.length += n;
    } else {
      for (const x of v) this.length = this.buf.writeDoubleLE(x, this.length);
    }
  }

  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.room(n);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

// one growing scratch buffer for every call (encoding is synchronous): no regrowth per value
const scratch = new Writer();

export function encodeValue(value: unknown): Uint8Array {
  scratch.length = 0;
  write(scratch, value, '$');
  return Uint8Array.prototype.slice.call(scratch.bytes());
}

// `key` names the value in an error only (no path is built on the hot path)
function write(w: Writer, v: unknown, key: string | number): void {
  if (v === null || v === undefined) return w.byte(NULL);
  switch (typeof v) {
    case 'boolean':
      return w.byte(v ? TRUE : FALSE);
    case 'number':
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        w.byte(v >= 0 ? UINT : NEG_INT);
        return w.varint(Math.abs(v));
      }
      w.byte(F64);
      return w.f64(v);
    case 'string':
      w.byte(STR);
      return w.text(v);
    case 'object': {
      if (Array.isArray(v)) {
        if (v.length > 1 && allNumbers(v)) {
          w.byte(F64_ARR);
          w.varint(v.length);
          return w.f64s(v as number[]);
        }
        w.byte(ARR);
        w.varint(v.length);
        for (let i = 0; i < v.length; i++) write(w, v[i], i);
        return;
      }
      if (ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set || v instanceof Date) {
        throw new TypeError(`value codec: ${JSON.stringify(key)} is a ${v.constructor.name}, not a plain object or array`);
      }
      // for-in over own keys, twice, rather than an Object.keys array per object (a
      // detector's snapshot is a few objects, packed for thousands of series per checkpoint)
      const o = v as Record<string, unknown>;
      let defined = 0;
      for (const k in o) if (Object.hasOwn(o, k) && o[k] !== undefined) defined++;
      w.byte(OBJ);
      w.varint(defined);
      for (const k in o) {
        if (!Object.hasOwn(o, k) || o[k] === undefined) continue;
        w.text(k);
        write(w, o[k], k);
      }
      return;
    }
    default:
      throw new TypeError(`value codec: ${JSON.stringify(key)} is a ${typeof v}`);
  }
}

function allNumbers(v: readonly unknown[]): boolean {
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') return false;
  return true;
}

export function decodeValue(bytes: Uint8Array): Value {
  const r = new Reader(bytes);
  const v = r.value();
  if (r.at !== bytes.byteLength) throw new RangeError(`value codec: ${bytes.byteLength - r.at} bytes left over`);
  return v;
}

class Reader {
  at = 0;
  private readonly buf: Buffer;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.buf.byteLength) throw new RangeError(`value codec: truncated at byte ${this.at}`);
  }

  private varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      this.need(1);
      const b = this.buf[this.at++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('value codec: varint too long');
    }
  }

  private text(): string {
    const n = this.varint();
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  value(): Value {
    this.need(1);
    const tag = this.buf[this.at++]!;
    switch (tag) {
      case NULL: return null;
      case FALSE: return false;
      case TRUE: return true;
      case UINT: return this.varint();
      case NEG_INT: return -this.varint();
      case F64: {
        this.need(8);
        const v = this.buf.readDoubleLE(this.at);
        this.at += 8;
        return v;
      }
      case STR: return this.text();
      case ARR: {
        const n = this.varint();
        const out: Value[] = [];
        for (let i = 0; i < n; i++) out.push(this.value());
        return out;
      }
      case F64_ARR: {
        const n = this.varint();
        this.need(n * 8);
        const out = new Array<number>(n);
        if (LITTLE_ENDIAN) {
          const f = new Float64Array(n);
          new Uint8Array(f.buffer).set(this.buf.subarray(this.at, this.at + n * 8));
          for (let i = 0; i < n; i++) out[i] = f[i]!;
        } else {
          for (let i = 0; i < n; i++) out[i] = this.buf.readDoubleLE(this.at + i * 8);
        }
        this.at += n * 8;
        return out;
      }
      case OBJ: {
        const n = this.varint();
        const out: { [key: string]: Value } = {};
        for (let i = 0; i < n; i++) {
          const k = this.text();
          // defineProperty: a key named __proto__ stays a key, never a prototype
          Object.defineProperty(out, k, { value: this.value(), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      default:
        throw new RangeError(`value codec: unknown tag ${tag} at byte ${this.at - 1}`);
    }
  }
}
