// The webhook delivery both senders share (actors/notify/webhook-delivery.ts): the on-call and
// SRE notifier and the runbook steps. Each outcome the callers act on, on a virtual clock.
import assert from 'node:assert/strict';
import { VirtualClock } from '../actors/runtime/index.ts';
import { deliverWebhook, type WebhookOutcome } from '../actors/notify/index.ts';
import { VigilError } from '../protocols/index.ts';
import { HttpStatusError, createBreaker } from '../supervisors/index.ts';

/** Runs the delivery to its end, jumping the clock over each retry wait. */
async function settled<T>(clock: VirtualClock, p: Promise<WebhookOutcome<T>>): Promise<WebhookOutcome<T>> {
  let out: WebhookOutcome<T> | undefined;
  void p.then((o) => { out = o; });
  for (let k = 0; k < 100 && out === undefined; k++) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextTimerAt();
    if (next !== undefined) clock.advanceTo(next);
  }
  assert.ok(out, 'the delivery ended');
  return out;
}

describe('a webhook delivery (actors/notify/webhook-delivery.ts)', () => {
  it('sent: the answer after the failures the policy retries, every attempt counted', async () => {
    const clock = new VirtualClock(0);
    const at: number[] = [];
    const out = await settled(clock, deliverWebhook(async () => {
      at.push(clock.now());
      if (at.length < 3) throw new HttpStatusError(503);
      return 'ok';
    }, { clock }));
    assert.deepEqual(out, { type: 'sent', answer: 'ok', attempts: 3 });
    assert.deepEqual(at, [0, 5_000, 15_000], 'the external_webhook schedule, no rng: no jitter');
  });

  it('spent: six attempts (5 retries), each a failure of the receiver for its breaker', async () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('external_integrations', clock, { lean: true });
    const out = await settled(clock, deliverWebhook(async () => { throw new HttpStatusError(502); }, { clock, breaker }));
    assert.deepEqual([out.type, out.attempts], ['spent', 6]);
    const error = out.type === 'spent' ? out.error : undefined;
    assert.ok(error instanceof VigilError && error.code === 'UNAVAILABLE', String(error));
    assert.ok(error.cause instanceof HttpStatusError && error.cause.status === 502, 'the last answer is the cause');
    assert.equal(breaker.counters.failed, 6);
  });

  it('refused: a 4xx is not retried and the breaker counts it as an answer', async () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('external_integrations', clock, { lean: true });
    const out = await settled(clock, deliverWebhook(async () => { throw new HttpStatusError(400); }, { clock, breaker }));
    assert.deepEqual([out.type, out.attempts], ['refused', 1]);
    assert.equal(breaker.counters.failed, 0);
  });

  it('held: an open circuit refuses the call without sending it', async () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('external_integrations', clock, { lean: true });
    breaker.trip();
    let sends = 0;
    const out = await settled(clock, deliverWebhook(async () => { sends++; }, { clock, breaker }));
    assert.deepEqual([out.type, out.attempts, sends], ['held', 0, 0]);
  });

  it('a caller\'s retryable decides: a 3xx is an answer, not tried again', async () => {
    const clock = new VirtualClock(0);
    const out = await settled(clock, deliverWebhook(async () => { throw new HttpStatusError(302); }, {
      clock, retryable: (err) => !(err instanceof HttpStatusError && err.status < 400),
    }));
    assert.deepEqual([out.type, out.attempts], ['refused', 1]);
  });

  it('a cancel aborts the attempt in flight; it is refused, not retried, and the breaker does not count it', async () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('external_integrations', clock, { lean: true });
    const cancel = new AbortController();
    const p = deliverWebhook((signal) => new Promise<never>((_r, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }), { clock, breaker, cancel: cancel.signal });
    await new Promise((r) => setImmediate(r));
    cancel.abort();
    const out = await settled(clock, p);
    assert.deepEqual([out.type, out.attempts], ['refused', 1]);
    assert.match(String(out.type === 'refused' ? out.error : ''), /cancelled/);
    assert.equal(breaker.counters.failed, 0);
  });
});
