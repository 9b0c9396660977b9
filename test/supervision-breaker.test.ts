// Circuit breakers: the pure xstate config and the hosted breaker on a VirtualClock.
import assert from 'node:assert/strict';
import { initialTransition, transition } from 'xstate';
import { VirtualClock } from '../actors/runtime/index.ts';
import { BREAKERS, CircuitBreaker, breakerMachine, createBreaker, type BreakerEvent, type BreakerState } from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';

const ok = (): Promise<string> => Promise.resolve('ok');
const boom = (): Promise<string> => Promise.reject(new Error('down'));

describe('circuit breakers', () => {
  it('carries the design parameters', () => {
    assert.deepEqual(BREAKERS.ml_inference, { failureThreshold: 5, successThreshold: 2, resetTimeoutMs: 30_000, fallback: 'statistical_detection' });
    assert.deepEqual(BREAKERS.graph_db, { failureThreshold: 3, successThreshold: 1, resetTimeoutMs: 60_000, fallback: 'cached_topology' });
    assert.deepEqual(BREAKERS.external_integrations, { failureThreshold: 10, successThreshold: 3, resetTimeoutMs: 120_000, fallback: 'queue_for_retry' });
  });

  describe('machine (pure transitions)', () => {
    const run = (events: BreakerEvent['type'][]): { state: string; failures: number } => {
      let [snap] = initialTransition(breakerMachine, { ...BREAKERS.graph_db });
      for (const type of events) [snap] = transition(breakerMachine, snap, { type } as BreakerEvent);
      return { state: String(snap.value), failures: snap.context.failures };
    };
    it('opens on consecutive failures only', () => {
      assert.deepEqual(run(['FAILURE', 'FAILURE']), { state: 'closed', failures: 2 });
      assert.deepEqual(run(['FAILURE', 'FAILURE', 'SUCCESS', 'FAILURE', 'FAILURE']), { state: 'closed', failures: 2 });
      assert.equal(run(['FAILURE', 'FAILURE', 'FAILURE']).state, 'open');
    });
    it('ignores late results while open; operators can trip and reset', () => {
      assert.equal(run(['FAILURE', 'FAILURE', 'FAILURE', 'SUCCESS', 'SUCCESS']).state, 'open');
      assert.equal(run(['TRIP']).state, 'open');
      assert.deepEqual(run(['FAILURE', 'TRIP', 'RESET']), { state: 'closed', failures: 0 });
    });
  });

  describe('CircuitBreaker on a VirtualClock', () => {
    it('ml_inference: opens after 5 failures, half-opens after 30 s, closes after 2 successes', async () => {
      const clock = new VirtualClock();
      const b = createBreaker('ml_inference', clock);
      const seen: Array<[BreakerState, BreakerState]> = [];
      b.onChange((to, from) => seen.push([from, to]));
      for (let i = 0; i < 5; i++) await assert.rejects(b.call(boom), /down/);
      assert.equal(b.state, 'open');
      let called = false;
      await assert.rejects(b.call(async () => { called = true; return 'x'; }), (e) => VigilError.is(e, 'UNAVAILABLE'));
      assert.equal(called, false, 'an open circuit does not call through');
      clock.advance(29_999);
      assert.equal(b.state, 'open');
      clock.advance(1);
      assert.equal(b.state, 'half_open');
      assert.equal(await b.call(ok), 'ok');
      assert.equal(b.state, 'half_open', 'one success of two');
      assert.equal(await b.call(ok), 'ok');
      assert.equal(b.state, 'closed');
      assert.deepEqual(seen, [['closed', 'open'], ['open', 'half_open'], ['half_open', 'closed']]);
      b.stop();
    });

    it('half-open lets only successThreshold trial calls through at once, and a failure reopens it', async () => {
      const clock = new VirtualClock();
      const b = new CircuitBreaker('dep', { failureThreshold: 1, successThreshold: 2, resetTimeoutMs: 100 }, clock);
      await assert.rejects(b.call(boom));
      clock.advance(100);
      const gates: Array<() => void> = [];
      const slow = (): Promise<string> => new Promise((r) => gates.push(() => r('slow')));
      const p1 = b.call(slow);
      const p2 = b.call(slow);
      assert.equal(b.allows(), false);
      await assert.rejects(b.call(ok), (e) => VigilError.is(e, 'UNAVAILABLE'));
      gates.forEach((g) => g());
      assert.deepEqual(await Promise.all([p1, p2]), ['slow', 'slow']);
      assert.equal(b.state, 'closed');
      await assert.rejects(b.call(boom));
      clock.advance(100);
      await assert.rejects(b.call(boom));
      assert.equal(b.state, 'open', 'a failed trial reopens');
      clock.advance(99);
      assert.equal(b.state, 'open', 'and waits the full reset timeout again');
      clock.advance(1);
      assert.equal(b.state, 'half_open');
      b.stop();
    });

    it('external_integrations: 9 failures then a success stay closed (consecutive count)', async () => {
      const b = createBreaker('external_integrations', new VirtualClock());
      for (let i = 0; i < 9; i++) await assert.rejects(b.call(boom));
      assert.equal(b.view().failures, 9);
      await b.call(ok);
      assert.deepEqual(b.view(), { name: 'external_integrations', state: 'closed', failures: 0, successes: 0 });
      b.stop();
    });

    it('callOr falls back; errors that do not count leave the circuit alone', async () => {
      const b = createBreaker('graph_db', new VirtualClock(), 'graph_db/acme');
      for (let i = 0; i < 3; i++) await b.callOr(boom, () => 'cached');
      assert.equal(b.state, 'open');
      assert.equal(await b.callOr(ok, () => 'cached'), 'cached');
      b.reset();
      const notFound = (): Promise<string> => Promise.reject(new VigilError('NOT_FOUND', 'no such node'));
      for (let i = 0; i < 5; i++) await assert.rejects(b.call(notFound, (e) => !VigilError.is(e, 'NOT_FOUND')));
      assert.equal(b.state, 'closed');
      b.stop();
    });

    it('stop cancels the pending half-open timer; bad parameters are refused', async () => {
      const clock = new VirtualClock();
      const b = new CircuitBreaker('dep', { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 100 }, clock);
      await assert.rejects(b.call(boom));
      assert.equal(clock.pendingTimers(), 1);
      b.stop();
      assert.equal(clock.pendingTimers(), 0);
      assert.throws(() => new CircuitBreaker('x', { failureThreshold: 0, successThreshold: 1, resetTimeoutMs: 1 }, clock),
        (e) => VigilError.is(e, 'CONFIG_INVALID'));
    });
  });
});
