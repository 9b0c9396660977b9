// node/runtime-flags.ts: which of the V8 flags a node is tuned for a process lacks.
import { strict as assert } from 'node:assert';
import { missingV8Flags, NODE_V8_FLAGS, v8FlagsFor } from '../node/index.ts';

describe('node: the V8 flags a node runs with', () => {
  it('names the flags absent from both the command line and NODE_OPTIONS', () => {
    assert.deepEqual(missingV8Flags([], ''), [...NODE_V8_FLAGS]);
    assert.deepEqual(missingV8Flags(['--max-semi-space-size=32'], ''), [], 'any value of the flag counts as given');
    assert.deepEqual(missingV8Flags(['--import', 'tsx'], '--max-semi-space-size=64 --trace-gc'), []);
    assert.deepEqual(missingV8Flags(['--max-old-space-size=64'], '--semi'), [...NODE_V8_FLAGS], 'another flag is not it');
  });

  it('tunes a gateway node (it owns no shard) to Node\'s default young generation, a node that owns shards to a large one', () => {
    assert.deepEqual(v8FlagsFor('processing'), NODE_V8_FLAGS);
    assert.ok(NODE_V8_FLAGS.some((f) => f.startsWith('--max-semi-space-size=')));
    assert.deepEqual(v8FlagsFor('gateway'), []);
    assert.deepEqual(missingV8Flags([], '', 'gateway'), [], 'a gateway started by plain node lacks nothing');
    assert.deepEqual(missingV8Flags([], '', 'processing'), [...NODE_V8_FLAGS]);
  });
});
