// The node's snappy decoder (protocols/snappy.ts): what snappyjs compresses comes back byte for
// byte, and a hostile block is a BAD_REQUEST after work bounded by its declared output, never a
// loop. The first case below is the 117-byte remote-write body a CI run's fuzz made (its
// timestamps follow the clock): snappyjs's decoder drove its copy position negative on it
// and held the event loop for over 20 minutes.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { compress } from 'snappyjs';
import { VigilError } from '../protocols/index.ts';
import { snappyLength, unsnappy } from '../protocols/snappy.ts';

const FUZZED = [108, 240, 107, 10, 106, 10, 12, 10, 3, 106, 111, 98, 18, 5, 122, 108, 71, 114, 96, 10, 22, 10, 8, 95, 95, 110, 97, 109, 101, 95, 95, 18, 10, 45, 179, 221, 35, 65, 140, 191, 54, 55, 48, 57, 54, 55, 53, 52, 51, 10, 27, 10, 16, 46, 46, 47, 46, 46, 47, 101, 116, 99, 47, 112, 97, 115, 115, 119, 100, 18, 7, 61, 65, 96, 124, 100, 91, 92, 10, 19, 10, 7, 115, 101, 114, 118, 105, 99, 101, 18, 8, 68, 79, 126, 39, 36, 88, 78, 53, 18, 16, 9, 252, 189, 255, 229, 214, 68, 23, 92, 16, 252, 178, 209, 188, 163, 52];

const refused = (block: number[], pattern: RegExp) => assert.throws(() => unsnappy(new Uint8Array(block), 1 << 20),
  (err: unknown) => VigilError.is(err, 'BAD_REQUEST') && pattern.test((err as Error).message));

describe('protocols/snappy: the strict block decoder', () => {
  it('refuses the fuzzed body that held snappyjs in a loop', () => {
    refused(FUZZED, /not valid snappy/);
  });

  it('decodes what snappyjs compresses, for random and repetitive bytes', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 4096 }),
      // runs and repeats: copies with short (overlapping) and long offsets
      fc.array(fc.constantFrom(...'abab abc aaaa 0123456789'.split('')), { maxLength: 6000 }).map((cs) => new TextEncoder().encode(cs.join(''))),
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 400 })).map(([unit, n]) => {
        const out = new Uint8Array(unit.length * n);
        for (let i = 0; i < n; i++) out.set(unit, i * unit.length);
        return out;
      }),
    );
    fc.assert(fc.property(bytes, (input) => {
      const block = compress(Buffer.from(input));
      assert.equal(snappyLength(block), input.length);
      assert.deepEqual(new Uint8Array(unsnappy(block, input.length)), input);
    }), { numRuns: 400, seed: 20261201 });
  });

  it('refuses each kind of broken element with the place it broke', () => {
    refused([3, 0x00], /a literal of 1 bytes runs past the end/); // a literal with no byte
    refused([2, 0x04, 0x61], /a literal of 2 bytes runs past the end/);
    refused([1, 0xf0], /a literal's length runs past the end/); // length in one more byte, absent
    refused([1, 0x04, 0x61, 0x62], /overruns the declared 1/); // 2 literal bytes, 1 declared
    refused([5, 0x01, 0x01], /a copy from offset 1 with 0 bytes written/); // a copy before any output
    refused([6, 0x00, 0x61, 0x01, 0x00], /a copy from offset 0/); // offset 0
    refused([6, 0x00, 0x61, 0x02, 0x05, 0x00], /a copy from offset 5 with 1 bytes written/);
    refused([6, 0x00, 0x61, 0x02], /a copy runs past the end/);
    refused([3, 0x00, 0x61, 0x05, 0x01], /a copy of 5 bytes overruns the declared 3/); // 1-byte-offset copy of 5
    refused([4, 0x00, 0x61], /1 bytes decoded where the header declares 4/);
  });

  it('decodes a copy that overlaps its own output (a run)', () => {
    // 'a', then a copy of 7 from offset 1: 'aaaaaaaa'
    assert.equal(unsnappy(new Uint8Array([8, 0x00, 0x61, 0x0d, 0x01]), 8).toString(), 'aaaaaaaa');
  });
});
