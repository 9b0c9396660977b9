// Retry policies: the design's schedules, seeded jitter with a cap, and the runner on a VirtualClock.
import assert from 'node:assert/strict';
import { SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { RETRY_POLICIES, isRetryable, retry, retryDelay, type RetryPolicy } from '../supervisors/index.ts';
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
});
