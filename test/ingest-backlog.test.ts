import { strict as assert } from 'node:assert';
import { IngestBacklog } from '../cluster/index.ts';
import { VigilError } from '../protocols/index.ts';

describe('ingest backlog', () => {
  it('admits up to the bound, refuses past it with UNAVAILABLE, and admits again once drained', () => {
    const b = new IngestBacklog(1000);
    b.admit(600);
    b.admit(400);
    assert.equal(b.size, 1000);
    assert.throws(() => b.admit(1), (e: unknown) => VigilError.is(e, 'UNAVAILABLE') && /1000 samples waiting/.test((e as Error).message));
    assert.equal(b.size, 1000, 'a refused request adds nothing');
    assert.equal(b.full, true);
    b.taken(700);
    assert.equal(b.full, false);
    b.admit(500);
    assert.equal(b.size, 800);
  });

  it('lets one oversized batch through when nothing waits, and never goes below zero', () => {
    const b = new IngestBacklog(100);
    b.admit(5000);
    assert.throws(() => b.admit(1));
    b.taken(6000);
    assert.equal(b.size, 0);
    b.admit(1);
  });
});
