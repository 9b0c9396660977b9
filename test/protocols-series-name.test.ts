import { strict as assert } from 'node:assert';
import { createRng } from '../actors/runtime/index.ts';
import { labelsName, seriesName, sortedLabelNames, type Labels } from '../protocols/index.ts';

// the name as first written: Array.prototype.sort, map and join (the spelling every store and
// snapshot already holds, so the cheaper build must give it exactly)
function referenceName(labels: Labels): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return '';
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${names.map((n) => `${n}="${esc(labels[n]!)}"`).join(',')}}`;
}

describe('protocols: series names', () => {
  it('names labels in code-unit order with values escaped, as Array.prototype.sort, map and join did, for 5,000 random label sets', () => {
    const rng = createRng('series-name');
    const alphabet = ['a', 'b', 'Z', '_', '0', 'é', 'ü', '✓', '"', '\\', '\n', ',', '=', '{', '𝄞'];
    const text = (max: number) => Array.from({ length: 1 + rng.int(max) }, () => alphabet[rng.int(alphabet.length)]!).join('');
    for (let i = 0; i < 5_000; i++) {
      // up to 40 labels: both the insertion sort (≤ 16) and Array.prototype.sort (beyond) are used
      const labels: Labels = {};
      const count = i % 10 === 0 ? 17 + rng.int(24) : rng.int(8);
      for (let j = 0; j < count; j++) labels[text(4)] = text(6);
      assert.equal(labelsName(labels), referenceName(labels), JSON.stringify(labels));
      assert.deepEqual(sortedLabelNames(labels), Object.keys(labels).sort());
      assert.equal(seriesName('m', labels), `m${referenceName(labels)}`);
    }
  });

  it('gives no braces without labels, and the same name whatever order the client sent the labels in', () => {
    assert.equal(seriesName('cpu', {}), 'cpu');
    assert.equal(seriesName('cpu', { b: '2', a: '1' }), seriesName('cpu', { a: '1', b: '2' }));
    assert.equal(seriesName('cpu', { b: '2', a: 'x"y' }), 'cpu{a="x\\"y",b="2"}');
  });
});
