import { strict as assert } from 'node:assert';
import { IngestBacklog } from '../cluster/index.ts';
import { settleDropped } from '../actors/tenant/index.ts';
import { VigilError } from '../protocols/index.ts';

describe('ingest backlog', () => {
  it('admits up to the bound, refuses past it with UNAVAILABLE, and admits again once drained', () => {
    const b = new IngestBacklog(1000);
    const first = b.admit('a', 600);
    b.admit('a', 400);
    assert.equal(b.size, 1000);
    assert.throws(() => b.admit('a', 1), (e: unknown) => VigilError.is(e, 'UNAVAILABLE') && /tenant a has 1000 samples waiting/.test((e as Error).message));
    assert.equal(b.size, 1000, 'a refused request adds nothing');
    assert.equal(b.full('a'), true);
    assert.equal(b.full('b'), false, 'another tenant is not held back');
    b.admit('b', 900);
    first.settle();
    assert.equal(b.full('a'), false);
    b.admit('a', 500);
    assert.equal(b.sizeOf('a'), 900);
    assert.equal(b.size, 1800);
  });

  it('lets one oversized batch through when nothing waits', () => {
    const b = new IngestBacklog(100);
    const big = b.admit('a', 5000);
    assert.throws(() => b.admit('a', 1));
    big.settle();
    assert.equal(b.size, 0);
    b.admit('a', 1);
  });

  it('a receipt gives its samples back exactly once, split or whole', () => {
    const b = new IngestBacklog(10_000);
    const r = b.admit('a', 100);
    const a = r.split(30);
    const c = r.split(50);
    assert.equal(b.size, 100);
    a.settle();
    a.settle();
    assert.equal(b.size, 70, 'a part settles its own 30, once');
    r.settle();
    assert.equal(b.size, 50, 'the whole gives back what was not split off (20)');
    assert.equal(r.split(10).samples, 0, 'nothing left to split');
    settleDropped([{ type: 'to-tenant', msg: { type: 'samples', receipt: c } }, { type: 'tick' }, null, 42]);
    assert.equal(b.size, 0, 'a dead letter inside an envelope settles too');
    c.settle();
    assert.equal(b.size, 0, 'and never twice');
  });
});
