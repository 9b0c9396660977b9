// Seeded randomness: xoshiro128** seeded through splitmix32 from a hash of the seed.
// fork(label) hashes the label into this stream's seed key, not its position, so a fork
// is the same whatever was drawn before it (adding a draw elsewhere does not shift it).
import { VigilError } from '../../protocols/index.ts';
import type { Rng } from './types.ts';

export class SeededRng implements Rng {
  /** What this stream was derived from, e.g. "42/tenant:acme" (for reports). */
  readonly key: string;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number | string) {
    this.key = String(seed);
    let x = hash32(this.key, 0x9e3779b9);
    const mix = (): number => {
      // splitmix32: spreads one 32-bit seed into independent words
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = mix() ^ hash32(this.key, 1);
    this.s1 = mix() ^ hash32(this.key, 2);
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next raw 32-bit word. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) {
      throw new VigilError('BAD_REQUEST', `rng.int needs a positive integer bound (got ${maxExclusive})`);
    }
    return Math.floor(this.next() * maxExclusive);
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    // Box–Muller; 1 - next() keeps the log away from 0
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fork(label: string): SeededRng {
    return new SeededRng(`${this.key}/${label}`);
  }
}

/** A seeded Rng (the same seed gives the same stream). */
export function createRng(seed: number | string): SeededRng {
  return new SeededRng(seed);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a with a murmur3 finish: a well-spread 32-bit hash of a string. */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
