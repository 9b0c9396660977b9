// node/runtime-flags.ts: which of the V8 flags a node is tuned for a process lacks.
import { strict as assert } from 'node:assert';
import { missingV8Flags, NODE_V8_FLAGS } from '../node/index.ts';

describe('node: the V8 flags a node runs with', () => {
  it('names the flags absent from both the command line and NODE_OPTIONS', () => {
    assert.deepEqual(missingV8Flags([], ''), [...NODE_V8_FLAGS]);
    assert.deepEqual(missingV8Flags(['--max-semi-space-size=32'], ''), [], 'any value of the flag counts as given');
    assert.deepEqual(missingV8Flags(['--import', 'tsx'], '--max-semi-space-size=64 --trace-gc'), []);
    assert.deepEqual(missingV8Flags(['--max-old-space-size=64'], '--semi'), [...NODE_V8_FLAGS], 'another flag is not it');
  });
});
