// Retry policies: the design's schedules, seeded jitter with a cap, and the runner on a
// VirtualClock (attempt timeouts, the overall deadline, what is not retried).
import assert from 'node:assert/strict';
import { SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import {
  CircuitOpenError, RETRY_POLICIES, createBreaker, defineRetryPolicy, isRetryable, retry, retryDelay, type RetryPolicy, type RetryTarget,
} from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';

const schedule = (p: RetryPolicy, rng?: SeededRng): number[] => Array.from({ length: p.retries }, (_, i) => retryDelay(p, i + 1, rng));

/** Lets promises run, then jumps the virtual clock to the next timer, until `p` settles. */
async function drive<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let settled = false;
  const watched = p.finally(() => (settled = true));
  watched.catch(() => undefined);
  for (let i = 0; i < 1000 && !settled; i++) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextTimerAt();
    if (!settled && next !== undefined) clock.advanceTo(next);
  }
  return watched;
}

describe('retry policies', () => {
  it('follow the design table without jitter', () => {
    assert.deepEqual(schedule(RETRY_POLICIES.api_call), [1000, 2000, 4000]);
    assert.deepEqual(schedule(RETRY_POLICIES.database_write), [100, 200, 300, 400, 500]);
    assert.deepEqual(schedule(RETRY_POLICIES.ml_inference), [500, 500]);
    assert.deepEqual(schedule(RETRY_POLICIES.external_webhook), [5000, 10000, 20000, 40000, 80000]);
    assert.deepEqual(schedule(RETRY_POLICIES.bus_publish), [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
    assert.deepEqual(
      Object.values(RETRY_POLICIES).map((p) => [p.name, p.retries, p.attemptTimeoutMs]),
      [['api_call', 3, 30000], ['database_write', 5, 10000], ['bus_publish', 10, 60000], ['ml_inference', 2, 5000], ['external_webhook', 5, 30000]],
    );
  });

  it('jitter is seeded, bounded by ±10 % and never passes the cap', () => {
    const p = RETRY_POLICIES.bus_publish;
    const a = schedule(p, new SeededRng(5));
    assert.deepEqual(a, schedule(p, new SeededRng(5)), 'same seed, same schedule');
    assert.notDeepEqual(a, schedule(p, new SeededRng(6)));
    const nominal = schedule(p);
    a.forEach((d, i) => {
      assert.ok(d >= nominal[i]! * 0.9 - 1 && d <= nominal[i]! * 1.1 + 1, `retry ${i + 1}: ${d} vs ${nominal[i]}`);
      assert.ok(d <= 10_000);
    });
    assert.deepEqual(schedule(RETRY_POLICIES.database_write, new SeededRng(5)), [100, 200, 300, 400, 500], 'linear has no jitter');
  });

  it('retries on the clock until the attempt succeeds', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    const waits: number[] = [];
    const result = await drive(clock, retry(RETRY_POLICIES.ml_inference, async (n) => {
      at.push(clock.now());
      if (n < 3) throw new Error('busy');
      return `answer on attempt ${n}`;
    }, { clock, onRetry: (i) => waits.push(i.delayMs) }));
    assert.equal(result, 'answer on attempt 3');
    assert.deepEqual(at, [0, 500, 1000]);
    assert.deepEqual(waits, [500, 500]);
  });

  it('gives up after the retries with UNAVAILABLE carrying the last error', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const p = retry(RETRY_POLICIES.api_call, async () => {
      attempts++;
      throw new Error(`fail ${attempts}`);
    }, { clock, rng: new SeededRng(1) });
    await assert.rejects(drive(clock, p), (e) => VigilError.is(e, 'UNAVAILABLE') && (e.cause as Error).message === 'fail 4');
    assert.equal(attempts, 4);
    assert.ok(clock.now() >= 0.9 * 7000 && clock.now() <= 1.1 * 7000, `waited ${clock.now()} ms in all`);
  });

  it('does not retry a permanent error', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const p = retry(RETRY_POLICIES.database_write, async () => {
      attempts++;
      throw new VigilError('BAD_REQUEST', 'bad row');
    }, { clock });
    await assert.rejects(drive(clock, p), (e) => VigilError.is(e, 'BAD_REQUEST'));
    assert.equal(attempts, 1);
    assert.equal(isRetryable(new VigilError('TIMEOUT', 't')), true);
    assert.equal(isRetryable(new VigilError('NOT_FOUND', 'n')), false);
  });

  it('times an attempt out on the clock, aborts it, and retries', async () => {
    const clock = new VirtualClock();
    const aborted: unknown[] = [];
    const at: number[] = [];
    const result = await drive(clock, retry(RETRY_POLICIES.ml_inference, (n, signal) => {
      at.push(clock.now());
      if (n === 1) {
        signal.addEventListener('abort', () => aborted.push(signal.reason));
        return new Promise<string>(() => undefined); // hangs
      }
      return Promise.resolve('late but fine');
    }, { clock }));
    assert.equal(result, 'late but fine');
    assert.deepEqual(at, [0, 5500], '5 s attempt timeout, then the 500 ms wait');
    assert.ok(VigilError.is(aborted[0], 'TIMEOUT'));
  });

  // DESIGN.md §1, written out: attempt start times when every attempt fails at once, no jitter.
  const DESIGN_STARTS: Record<RetryTarget, number[]> = {
    api_call: [0, 1_000, 3_000, 7_000],
    database_write: [0, 100, 300, 600, 1_000, 1_500],
    bus_publish: [0, 100, 300, 700, 1_500, 3_100, 6_300, 12_700, 22_700, 32_700, 42_700],
    ml_inference: [0, 500, 1_000],
    external_webhook: [0, 5_000, 15_000, 35_000, 75_000, 155_000],
  };

  for (const [target, starts] of Object.entries(DESIGN_STARTS) as Array<[RetryTarget, number[]]>) {
    it(`${target}: attempts start at ${starts.map((t) => t / 1000).join(', ')} s on the clock, then it gives up`, async () => {
      const clock = new VirtualClock();
      const at: number[] = [];
      const p = retry(RETRY_POLICIES[target], async () => {
        at.push(clock.now());
        throw new VigilError('UNAVAILABLE', 'still down');
      }, { clock });
      await assert.rejects(drive(clock, p), (e) => VigilError.is(e, 'UNAVAILABLE') && /gave up/.test(e.message));
      assert.deepEqual(at, starts);
    });
  }

  it('jitter stays within ±10 % of the nominal delay and under the cap, for every exponential policy and many seeds', () => {
    for (const p of Object.values(RETRY_POLICIES)) {
      if (p.backoff.kind !== 'exponential') continue;
      const cap = p.backoff.maxMs;
      const nominal = schedule(p);
      const lo = nominal.map(() => Infinity);
      const hi = nominal.map(() => -Infinity);
      for (let seed = 0; seed < 500; seed++) {
        schedule(p, new SeededRng(`jitter/${seed}`)).forEach((d, i) => {
          assert.ok(d >= Math.floor(nominal[i]! * 0.9) && d <= Math.min(cap, Math.ceil(nominal[i]! * 1.1)), `${p.name} retry ${i + 1}: ${d}`);
          lo[i] = Math.min(lo[i]!, d);
          hi[i] = Math.max(hi[i]!, d);
        });
      }
      nominal.forEach((n, i) => {
        assert.ok(lo[i]! < n * 0.92, `${p.name} retry ${i + 1}: jitter reaches down (min ${lo[i]})`);
        assert.ok(n === cap ? hi[i] === cap : hi[i]! > n * 1.08, `${p.name} retry ${i + 1}: jitter reaches up (max ${hi[i]})`);
      });
    }
  });

  it('the overall deadline cuts the last attempt short and gives up with TIMEOUT', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    const p = retry(RETRY_POLICIES.ml_inference, (_n, signal) => {
      at.push(clock.now());
      return new Promise<string>((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }, { clock });
    await assert.rejects(drive(clock, p), (e) => VigilError.is(e, 'TIMEOUT') && /deadline/.test(e.message) && VigilError.is(e.cause, 'TIMEOUT'));
    assert.deepEqual(at, [0, 5_500], 'a third attempt would start past the 10 s deadline');
    assert.equal(clock.now(), 10_000, 'the second attempt got 4.5 s, not 5');
  });

  it('a caller\'s tighter deadline: no wait that would pass it', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const p = retry(RETRY_POLICIES.api_call, async () => {
      attempts++;
      throw new Error('refused');
    }, { clock, deadlineMs: 2_500 });
    await assert.rejects(drive(clock, p), (e) => VigilError.is(e, 'TIMEOUT') && (e.cause as Error).message === 'refused');
    assert.equal(attempts, 2);
    assert.equal(clock.now(), 1_000, 'gave up at once instead of waiting 2 s past the deadline');
  });

  it('a caller\'s tighter attempt timeout: an attempt that hangs is cut at it, and the next one runs within the deadline', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    // bus_publish allows 60 s an attempt; a node's append gives each 2 s of a 5 s deadline
    const p = retry(RETRY_POLICIES.bus_publish, (n) => {
      at.push(clock.now());
      return n === 1 ? new Promise<string>(() => undefined) : Promise.resolve('acknowledged');
    }, { clock, deadlineMs: 5_000, attemptTimeoutMs: 2_000 });
    assert.equal(await drive(clock, p), 'acknowledged');
    assert.deepEqual(at, [0, 2_100], 'the first attempt cut at 2 s, then the 100 ms wait');
  });

  it('tells retriable from permanent errors', () => {
    const status = (s: number): Error => Object.assign(new Error(`HTTP ${s}`), { status: s });
    assert.deepEqual([400, 401, 404, 408, 422, 425, 429, 500, 503].map((s) => isRetryable(status(s))),
      [false, false, false, true, false, true, true, true, true]);
    assert.equal(isRetryable(new VigilError('QUOTA_EXCEEDED', 'q')), true);
    assert.equal(isRetryable(new VigilError('UNAVAILABLE', 'u')), true);
    assert.equal(isRetryable(new CircuitOpenError('graph_db', 'open')), false, 'an open circuit fails fast on purpose');
    assert.equal(isRetryable(Object.assign(new Error('socket'), { code: 'ECONNRESET' })), true);
  });

  it('checks custom policies', () => {
    const base: RetryPolicy = { name: 'x', retries: 2, backoff: { kind: 'fixed', delayMs: 10 }, attemptTimeoutMs: 100, deadlineMs: 1_000 };
    assert.equal(defineRetryPolicy(base).retries, 2);
    for (const bad of [{ retries: -1 }, { attemptTimeoutMs: 0 }, { deadlineMs: -5 }, { backoff: { kind: 'exponential', initialMs: 10, factor: 0.5, maxMs: 100, jitter: 0.1 } }]) {
      assert.throws(() => defineRetryPolicy({ ...base, ...bad } as RetryPolicy), (e) => VigilError.is(e, 'CONFIG_INVALID'), JSON.stringify(bad));
    }
  });

  it('with a breaker inside: each attempt is one guarded call, and an open circuit ends the retries at once', async () => {
    const clock = new VirtualClock();
    const graph = createBreaker('graph_db', clock); // opens on the 3rd failure in a row
    let calls = 0;
    const p = retry(RETRY_POLICIES.database_write, () => graph.call(async () => {
      calls++;
      throw new Error('graph store down');
    }), { clock });
    await assert.rejects(drive(clock, p), (e) => e instanceof CircuitOpenError && e.breaker === 'graph_db');
    assert.equal(calls, 3, 'the store saw 3 attempts, not 6');
    assert.equal(clock.now(), 600, 'waits 100, 200, 300 ms, then the 4th attempt is refused without waiting more');
    assert.equal(graph.counters.rejected, 1);
    graph.stop();
  });
});
