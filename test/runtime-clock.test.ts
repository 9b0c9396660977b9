// Injected time and randomness: VirtualClock ordering and SeededRng determinism.
import assert from 'node:assert/strict';
import { SeededRng, SystemClock, VirtualClock, createRng } from '../actors/runtime/index.ts';
import { VigilError } from '../protocols/index.ts';

describe('runtime clock and rng', () => {
  describe('VirtualClock', () => {
    it('fires due timers in time order, ties in scheduling order', () => {
      const c = new VirtualClock(1000);
      const fired: string[] = [];
      c.setTimeout(() => fired.push('b@20'), 20);
      c.setTimeout(() => fired.push('a@10'), 10);
      c.setTimeout(() => fired.push('c@20'), 20);
      c.setTimeout(() => fired.push('late'), 31);
      c.advance(30);
      assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
      assert.equal(c.now(), 1030);
      assert.equal(c.pendingTimers(), 1);
    });

    it('shows each timer its own due time as now', () => {
      const c = new VirtualClock();
      const at: number[] = [];
      c.setTimeout(() => at.push(c.now()), 5);
      c.setTimeout(() => at.push(c.now()), 7);
      c.advance(100);
      assert.deepEqual(at, [5, 7]);
    });

    it('fires timers scheduled by timers within the same advance', () => {
      const c = new VirtualClock();
      const at: number[] = [];
      const tick = (): void => {
        at.push(c.now());
        if (at.length < 4) c.setTimeout(tick, 10);
      };
      c.setTimeout(tick, 10);
      c.advance(35);
      assert.deepEqual(at, [10, 20, 30]);
      c.advance(5);
      assert.deepEqual(at, [10, 20, 30, 40]);
    });

    it('clearTimeout cancels; runUntilIdle jumps to each timer', () => {
      const c = new VirtualClock();
      let hits = 0;
      const h = c.setTimeout(() => hits++, 10);
      c.setTimeout(() => hits += 10, 500);
      c.clearTimeout(h);
      assert.equal(c.runUntilIdle(), 1);
      assert.equal(hits, 10);
      assert.equal(c.now(), 500);
      assert.equal(c.nextTimerAt(), undefined);
    });

    it('keeps its order under many random timers, nested ones and cancellations', () => {
      const rng = new SeededRng('heap');
      const c = new VirtualClock();
      const fired: Array<{ due: number; at: number; id: number }> = [];
      const cancelled = new Set<number>();
      let nextId = 0;
      const schedule = (depth: number): void => {
        const id = nextId++;
        const delay = rng.int(1000);
        const due = c.now() + delay;
        const h = c.setTimeout(() => {
          fired.push({ due, at: c.now(), id });
          if (depth < 2 && rng.next() < 0.3) schedule(depth + 1);
        }, delay);
        if (rng.next() < 0.2) {
          c.clearTimeout(h);
          cancelled.add(id);
        }
      };
      for (let i = 0; i < 500; i++) schedule(0);
      while (c.nextTimerAt() !== undefined) c.advance(rng.int(200));
      assert.ok(fired.length > 300);
      for (let i = 0; i < fired.length; i++) {
        assert.equal(fired[i]!.at, fired[i]!.due, 'fires at its due time');
        if (i > 0) assert.ok(fired[i]!.due >= fired[i - 1]!.due, 'in time order');
        assert.ok(!cancelled.has(fired[i]!.id), 'a cleared timer never fires');
      }
      assert.equal(fired.length + cancelled.size, nextId);
      assert.equal(c.pendingTimers(), 0);
    });

    it('refuses to go back in time and to run a timer loop forever', () => {
      const c = new VirtualClock(100);
      assert.throws(() => c.advanceTo(50), (e) => VigilError.is(e, 'BAD_REQUEST'));
      const loop = (): void => void c.setTimeout(loop, 1);
      loop();
      assert.throws(() => c.runUntilIdle(50), (e) => VigilError.is(e, 'INTERNAL'));
    });
  });

  describe('SystemClock', () => {
    it('follows the wall clock and runs timers', async () => {
      const c = new SystemClock();
      assert.ok(Math.abs(c.now() - Date.now()) < 1000);
      const fired = await new Promise<boolean>((resolve) => {
        const cancelled = c.setTimeout(() => resolve(false), 1);
        c.clearTimeout(cancelled);
        c.setTimeout(() => resolve(true), 1);
      });
      assert.equal(fired, true);
    });
  });

  describe('SeededRng', () => {
    const draw = (r: SeededRng, n: number): number[] => Array.from({ length: n }, () => r.next());

    it('replays the same stream for the same seed and differs for another', () => {
      assert.deepEqual(draw(new SeededRng(42), 20), draw(new SeededRng(42), 20));
      assert.notDeepEqual(draw(new SeededRng(42), 20), draw(new SeededRng(43), 20));
      assert.deepEqual(draw(createRng('sim-7'), 5), draw(new SeededRng('sim-7'), 5));
    });

    it('forks by label: stable whatever was drawn before, independent across labels', () => {
      const a = new SeededRng(1);
      const b = new SeededRng(1);
      draw(b, 100);
      assert.deepEqual(draw(a.fork('tenant:acme'), 10), draw(b.fork('tenant:acme'), 10));
      assert.notDeepEqual(draw(a.fork('tenant:acme'), 10), draw(a.fork('tenant:beta'), 10));
      assert.notDeepEqual(draw(a.fork('x'), 10), draw(new SeededRng(2).fork('x'), 10));
    });

    it('stays in range and looks uniform and normal', () => {
      const r = new SeededRng(7);
      const n = 20_000;
      let sum = 0, sumN = 0, sumN2 = 0;
      const buckets = new Array<number>(10).fill(0);
      for (let i = 0; i < n; i++) {
        const u = r.next();
        assert.ok(u >= 0 && u < 1);
        sum += u;
        const k = r.int(10);
        assert.ok(Number.isInteger(k) && k >= 0 && k < 10);
        buckets[k]!++;
        const z = r.normal();
        sumN += z;
        sumN2 += z * z;
      }
      assert.ok(Math.abs(sum / n - 0.5) < 0.01, `uniform mean ${sum / n}`);
      for (const b of buckets) assert.ok(Math.abs(b / n - 0.1) < 0.01, `bucket share ${b / n}`);
      assert.ok(Math.abs(sumN / n) < 0.03, `normal mean ${sumN / n}`);
      assert.ok(Math.abs(sumN2 / n - 1) < 0.05, `normal variance ${sumN2 / n}`);
    });

    it('rejects a bad int bound', () => {
      assert.throws(() => new SeededRng(1).int(0), (e) => VigilError.is(e, 'BAD_REQUEST'));
      assert.throws(() => new SeededRng(1).int(2.5), (e) => VigilError.is(e, 'BAD_REQUEST'));
    });
  });
});
