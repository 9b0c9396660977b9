// Circuit breakers: the pure xstate machine, both executors (actor and lean record) on a
// VirtualClock through every transition, the design's named configurations driven through
// their thresholds, notices, counters and the registry.
import assert from 'node:assert/strict';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { VirtualClock } from '../actors/runtime/index.ts';
import {
  BREAKERS, BreakerRegistry, CircuitBreaker, CircuitOpenError, LeanBreaker, REJECTED, breakerMachine, createBreaker,
  isRetryable, type Breaker, type BreakerDependency, type BreakerEvent, type BreakerNotice, type BreakerParams, type BreakerState,
} from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';

const ok = (): Promise<string> => Promise.resolve('ok');
const boom = (): Promise<string> => Promise.reject(new Error('down'));

type Kind = 'actor' | 'lean';
const KINDS: Kind[] = ['actor', 'lean'];
const make = (kind: Kind, params: BreakerParams, clock: VirtualClock, name = 'dep'): Breaker =>
  kind === 'actor' ? new CircuitBreaker(name, params, clock) : new LeanBreaker(name, params, clock);

function fail(b: Breaker, n: number): void {
  for (let i = 0; i < n; i++) {
    const e = b.tryAcquire();
    assert.notEqual(e, REJECTED, `call ${i + 1} of ${n} refused in ${b.state}`);
    b.onFailure(e);
  }
}

function succeed(b: Breaker, n: number, durationMs = 0): void {
  for (let i = 0; i < n; i++) {
    const e = b.tryAcquire();
    assert.notEqual(e, REJECTED, `call ${i + 1} of ${n} refused in ${b.state}`);
    b.onSuccess(e, durationMs);
  }
}

describe('circuit breakers', () => {
  describe('machine (pure transitions)', () => {
    type Snap = SnapshotFrom<typeof breakerMachine>;
    const start = (p: BreakerParams): Snap => initialTransition(breakerMachine, p)[0];
    const send = (s: Snap, ...events: BreakerEvent[]): Snap => {
      for (const e of events) s = transition(breakerMachine, s, e)[0];
      return s;
    };
    const F: BreakerEvent = { type: 'FAILURE' };
    const S: BreakerEvent = { type: 'SUCCESS' };

    it('opens on consecutive failures only, and schedules the half-open timer by its named delay', () => {
      const s0 = start({ failureThreshold: 3, successThreshold: 1, resetTimeoutMs: 60_000 });
      assert.equal(send(s0, F, F).value, 'closed');
      assert.equal(send(s0, F, F).context.failures, 2);
      assert.equal(send(s0, F, F, S, F, F).value, 'closed');
      const [open, actions] = transition(breakerMachine, send(s0, F, F), F);
      assert.equal(open.value, 'open');
      const timer = actions.find((a) => a.type === 'xstate.raise') as { params?: { delay?: number } } | undefined;
      assert.equal(timer?.params?.delay, 60_000);
    });

    it('opens on the failure rate over the count window once the minimum number of calls is reached', () => {
      const p = { failureThreshold: 100, successThreshold: 1, resetTimeoutMs: 1, windowSize: 10, minimumCalls: 10, failureRate: 0.5 };
      const s0 = start(p);
      // F S F S F S F S S: 4 of 9; a fifth failure makes 5 of 10 = 50 %
      const nine = send(s0, F, S, F, S, F, S, F, S, S);
      assert.equal(nine.value, 'closed');
      assert.equal(send(nine, F).value, 'open');
      assert.equal(send(nine, S).value, 'closed', '4 of 10');
      // below the minimum number of calls nothing opens, even at 100 %
      assert.equal(send(start({ ...p, failureThreshold: 100 }), F, F, F, F, F, F, F, F, F).value, 'closed');
      // the window slides: old failures drop out
      const slid = send(s0, F, F, F, F, S, S, S, S, S, S, S, S, S, S);
      assert.equal(slid.value, 'closed');
      assert.equal(slid.context.calls, 10);
      assert.equal(send(slid, F, F, F, F).value, 'closed', '4 of the last 10');
      assert.equal(send(slid, F, F, F, F, F).value, 'open', '5 of the last 10');
    });

    it('counts a success slower than slowCallMs as a failure', () => {
      const s0 = start({ failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 1, slowCallMs: 100 });
      const slow: BreakerEvent = { type: 'SUCCESS', durationMs: 101 };
      assert.equal(send(s0, { type: 'SUCCESS', durationMs: 100 }, { type: 'SUCCESS', durationMs: 100 }).value, 'closed');
      assert.equal(send(s0, slow, slow).value, 'open');
    });

    it('ignores results from an earlier spell, and results while open', () => {
      const s0 = start({ failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 1 });
      const epoch = s0.context.epoch;
      const open = send(s0, { type: 'FAILURE', epoch });
      assert.equal(open.value, 'open');
      assert.equal(send(open, S, S).value, 'open');
      const closed = send(open, { type: 'RESET' });
      assert.equal(send(closed, { type: 'FAILURE', epoch }).value, 'closed', 'a late failure from before the reset');
      assert.equal(send(closed, { type: 'FAILURE', epoch: closed.context.epoch }).value, 'open');
    });

    it('half-open: probes up to the limit, closes after the successes, reopens on a failure', () => {
      const s0 = start({ failureThreshold: 1, successThreshold: 2, resetTimeoutMs: 10, halfOpenProbes: 3 });
      const timer = { type: 'xstate.after.resetTimeout.breaker.open' } as unknown as BreakerEvent;
      const half = send(s0, F, timer);
      assert.equal(half.value, 'halfOpen');
      const A: BreakerEvent = { type: 'ACQUIRE' };
      assert.equal(send(half, A, A, A, A).context.probes, 3, 'a fourth probe is not counted');
      assert.equal(send(half, A, A, S).value, 'halfOpen');
      assert.equal(send(half, A, A, S, S).value, 'closed');
      assert.equal(send(half, A, A, S, F).value, 'open');
    });

    it('operators: TRIP, FORCE_OPEN, DISABLE and RESET from every state', () => {
      const s0 = start({ failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 10 });
      const timer = { type: 'xstate.after.resetTimeout.breaker.open' } as unknown as BreakerEvent;
      const at: Record<BreakerState, Snap> = {
        closed: s0,
        open: send(s0, F),
        halfOpen: send(s0, F, timer),
        forcedOpen: send(s0, { type: 'FORCE_OPEN' }),
        disabled: send(s0, { type: 'DISABLE' }),
      };
      const expect: Record<BreakerState, Record<'TRIP' | 'FORCE_OPEN' | 'DISABLE' | 'RESET', BreakerState>> = {
        closed: { TRIP: 'open', FORCE_OPEN: 'forcedOpen', DISABLE: 'disabled', RESET: 'closed' },
        open: { TRIP: 'open', FORCE_OPEN: 'forcedOpen', DISABLE: 'disabled', RESET: 'closed' },
        halfOpen: { TRIP: 'open', FORCE_OPEN: 'forcedOpen', DISABLE: 'disabled', RESET: 'closed' },
        forcedOpen: { TRIP: 'forcedOpen', FORCE_OPEN: 'forcedOpen', DISABLE: 'disabled', RESET: 'closed' },
        disabled: { TRIP: 'disabled', FORCE_OPEN: 'forcedOpen', DISABLE: 'disabled', RESET: 'closed' },
      };
      for (const [from, row] of Object.entries(expect) as Array<[BreakerState, (typeof expect)['closed']]>) {
        assert.equal(at[from].value, from);
        for (const [type, to] of Object.entries(row)) {
          assert.equal(send(at[from], { type } as BreakerEvent).value, to, `${from} --${type}-->`);
        }
      }
      assert.equal(send(at.disabled, F, F, F).value, 'disabled', 'disabled judges nothing');
      assert.equal(send(at.forcedOpen, S, timer).value, 'forcedOpen', 'forcedOpen has no timer');
    });
  });

  // The design's table, written out here so a wrong constant fails as well as a wrong machine.
  const DESIGN: Array<[BreakerDependency, number, number, number, string]> = [
    ['ml_inference', 5, 2, 30_000, 'statistical_detection'],
    ['graph_db', 3, 1, 60_000, 'cached_topology'],
    ['external_integrations', 10, 3, 120_000, 'queue_for_retry'],
  ];

  for (const kind of KINDS) {
    describe(`${kind} breaker on a VirtualClock`, () => {
      for (const [dep, opensAt, closesAt, resetMs, fallback] of DESIGN) {
        it(`${dep}: opens at ${opensAt} failures, half-opens after ${resetMs / 1000} s, closes after ${closesAt} successes (fallback ${fallback})`, () => {
          assert.equal(BREAKERS[dep].fallback, fallback);
          const clock = new VirtualClock();
          const b = createBreaker(dep, clock, { lean: kind === 'lean' });
          const seen: string[] = [];
          b.onChange((to, from) => seen.push(`${from}>${to}@${clock.now()}`));
          fail(b, opensAt - 1);
          succeed(b, 1);
          fail(b, opensAt - 1);
          assert.equal(b.state, 'closed', `${opensAt - 1} failures, a success, ${opensAt - 1} failures`);
          fail(b, 1);
          assert.equal(b.state, 'open');
          assert.equal(b.tryAcquire(), REJECTED);
          clock.advance(resetMs - 1);
          assert.equal(b.state, 'open');
          assert.equal(b.allows(), false);
          clock.advance(1);
          assert.equal(b.state, 'halfOpen');
          succeed(b, closesAt - 1);
          assert.equal(b.state, 'halfOpen');
          fail(b, 1);
          assert.equal(b.state, 'open', 'a failed probe reopens');
          clock.advance(resetMs);
          succeed(b, closesAt);
          assert.equal(b.state, 'closed');
          assert.deepEqual(seen, [
            `closed>open@0`, `open>halfOpen@${resetMs}`, `halfOpen>open@${resetMs}`,
            `open>halfOpen@${2 * resetMs}`, `halfOpen>closed@${2 * resetMs}`,
          ]);
          // the same N over a window of 2N: alternating answers open it at call 2N, not before
          for (let i = 1; i < 2 * opensAt; i++) {
            if (i % 2 === 1) succeed(b, 1);
            else fail(b, 1);
          }
          assert.equal(b.state, 'closed', `${opensAt - 1} of ${2 * opensAt - 1} calls failed`);
          fail(b, 1);
          assert.equal(b.state, 'open', `${opensAt} of the last ${2 * opensAt} calls failed`);
          b.stop();
        });
      }

      it('half-open lets at most halfOpenProbes calls through, in flight or not', async () => {
        const clock = new VirtualClock();
        const b = make(kind, { failureThreshold: 1, successThreshold: 2, resetTimeoutMs: 100 }, clock);
        await assert.rejects(b.call(boom));
        clock.advance(100);
        const gates: Array<() => void> = [];
        const slow = (): Promise<string> => new Promise((r) => gates.push(() => r('slow')));
        const p1 = b.call(slow);
        const p2 = b.call(slow);
        assert.equal(b.allows(), false);
        await assert.rejects(b.call(ok), (e) => e instanceof CircuitOpenError && e.state === 'halfOpen' && VigilError.is(e, 'UNAVAILABLE'));
        gates.forEach((g) => g());
        assert.deepEqual(await Promise.all([p1, p2]), ['slow', 'slow']);
        assert.equal(b.state, 'closed');
        b.stop();
      });

      it('slow calls (timed on the clock) count as failures and open the circuit', async () => {
        const clock = new VirtualClock();
        const b = make(kind, { failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 100, slowCallMs: 50 }, clock);
        const takes = (ms: number) => (): Promise<string> => new Promise((r) => clock.setTimeout(() => r('late'), ms));
        for (let i = 0; i < 2; i++) {
          const p = b.call(takes(51));
          clock.advance(51);
          assert.equal(await p, 'late', 'a slow call still answers its caller');
        }
        assert.equal(b.state, 'open');
        assert.equal(b.counters.slow, 2);
        b.stop();
      });

      it('forcedOpen refuses everything and never half-opens; disabled lets everything through and never opens', async () => {
        const clock = new VirtualClock();
        const b = make(kind, { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 100 }, clock);
        b.forceOpen();
        assert.equal(b.state, 'forcedOpen');
        clock.advance(10_000);
        assert.equal(b.state, 'forcedOpen');
        await assert.rejects(b.call(ok), (e) => e instanceof CircuitOpenError);
        b.disable();
        assert.equal(b.state, 'disabled');
        for (let i = 0; i < 5; i++) await assert.rejects(b.call(boom), /down/);
        assert.equal(b.state, 'disabled');
        b.reset();
        assert.equal(b.state, 'closed');
        b.trip();
        assert.equal(b.state, 'open');
        clock.advance(100);
        assert.equal(b.state, 'halfOpen', 'a trip recovers by itself, unlike forceOpen');
        b.reset();
        assert.equal(b.state, 'closed');
        b.stop();
      });

      it('a late answer from before a state change changes nothing', () => {
        const clock = new VirtualClock();
        const b = make(kind, { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 100 }, clock);
        const early = b.tryAcquire();
        fail(b, 1);
        clock.advance(100);
        const probe = b.tryAcquire();
        b.onFailure(early);
        assert.equal(b.state, 'halfOpen', 'the failure belongs to the closed spell');
        b.onSuccess(probe);
        assert.equal(b.state, 'closed');
        b.stop();
      });

      it('notices every state change, rejection and fallback, and counts calls (no notice per ordinary call)', async () => {
        const clock = new VirtualClock();
        const b = make(kind, { failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 100 }, clock, 'graph_db');
        const notices: BreakerNotice[] = [];
        b.onEvent((n) => notices.push(n));
        assert.equal(await b.callOr(ok, () => 'cached'), 'ok');
        assert.equal(await b.callOr(boom, () => 'cached'), 'cached');
        assert.equal(await b.callOr(boom, () => 'cached'), 'cached');
        assert.equal(await b.callOr(ok, () => 'cached'), 'cached');
        assert.deepEqual(notices, [
          { type: 'fallback', breaker: 'graph_db', reason: 'failed', at: 0 },
          { type: 'state', breaker: 'graph_db', from: 'closed', to: 'open', at: 0 },
          { type: 'fallback', breaker: 'graph_db', reason: 'failed', at: 0 },
          { type: 'rejected', breaker: 'graph_db', state: 'open', at: 0 },
          { type: 'fallback', breaker: 'graph_db', reason: 'rejected', at: 0 },
        ]);
        assert.deepEqual(b.counters, { permitted: 3, succeeded: 1, failed: 2, slow: 0, rejected: 1, fallbacks: 3, transitions: 1 });
        // an error that says nothing about the dependency leaves it closed
        b.reset();
        const notFound = (): Promise<string> => Promise.reject(new VigilError('NOT_FOUND', 'no such node'));
        for (let i = 0; i < 5; i++) await assert.rejects(b.call(notFound, { countsAsFailure: (e) => !VigilError.is(e, 'NOT_FOUND') }));
        assert.equal(b.state, 'closed');
        b.stop();
      });

      it('refuses bad parameters with CONFIG_INVALID naming the field', () => {
        const clock = new VirtualClock();
        const bad: Array<[Partial<BreakerParams>, RegExp]> = [
          [{ failureThreshold: 0 }, /failureThreshold/],
          [{ successThreshold: 1.5 }, /successThreshold/],
          [{ resetTimeoutMs: 0 }, /resetTimeoutMs/],
          [{ successThreshold: 3, halfOpenProbes: 2 }, /halfOpenProbes/],
          [{ windowSize: 33 }, /windowSize/],
          [{ windowSize: 5, minimumCalls: 6 }, /minimumCalls/],
          [{ failureRate: 0 }, /failureRate/],
          [{ slowCallMs: -1 }, /slowCallMs/],
        ];
        for (const [patch, re] of bad) {
          assert.throws(() => make(kind, { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 1, ...patch }, clock),
            (e) => VigilError.is(e, 'CONFIG_INVALID') && re.test(e.message), JSON.stringify(patch));
        }
      });
    });
  }

  it('the actor executor keeps one timer while open and stop() cancels it; the lean one keeps none', () => {
    const clock = new VirtualClock();
    const a = new CircuitBreaker('a', { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 100 }, clock);
    const l = new LeanBreaker('l', { failureThreshold: 1, successThreshold: 1, resetTimeoutMs: 100 }, clock);
    fail(a, 1);
    fail(l, 1);
    assert.equal(clock.pendingTimers(), 1);
    a.stop();
    assert.equal(clock.pendingTimers(), 0);
    clock.advance(100);
    assert.equal(l.state, 'halfOpen');
  });

  it('lean: a snapshot restores into a fresh breaker, open timer included; a bad one is refused', () => {
    const clock = new VirtualClock();
    const a = new LeanBreaker('m', { failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 100 }, clock);
    fail(a, 2);
    clock.advance(40);
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<LeanBreaker['snapshot']>;
    assert.equal(snap.state, 'open');
    assert.equal(snap.dueAt, 100);
    const b = new LeanBreaker('m', { failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 100 }, clock).restore(snap);
    assert.equal(b.state, 'open');
    clock.advance(60);
    assert.equal(b.state, 'halfOpen');
    assert.deepEqual(b.snapshot(), a.snapshot());
    assert.throws(() => b.restore({ ...snap, version: 2 as 1 }), (e) => VigilError.is(e, 'BAD_REQUEST'));
    assert.throws(() => b.restore({ ...snap, state: 'closed' }), (e) => VigilError.is(e, 'BAD_REQUEST'), 'closed with a timer');
  });

  it('a per-sample model guarded per block of samples, on data time (the inference-guard pattern)', () => {
    // one guarded "call" per block of 256 inferences; the time is the samples' own timestamps
    let dataNow = 0;
    const b = new LeanBreaker('ml_inference/acme/checkout', { ...BREAKERS.ml_inference, slowCallMs: 12.8 }, { now: () => dataNow });
    const notices: BreakerNotice[] = [];
    b.onEvent((n) => notices.push(n));
    let broken = true;
    let epoch = REJECTED;
    let inBlock = 0;
    for (let i = 0; i < 40 * 1024; i++) {
      dataNow = i * 10; // a sample every 10 ms of data time
      if (i === 20_000) broken = false;
      if (inBlock === 0) {
        if (!b.allows()) continue; // a read, no notice: this sample is scored statistically (L1)
        epoch = b.tryAcquire();
      }
      if (broken) {
        b.onFailure(epoch);
        inBlock = 0;
        continue;
      }
      if (++inBlock === 256) {
        b.onSuccess(epoch, 5); // the block took 5 ms: under the 12.8 ms budget
        inBlock = 0;
      }
    }
    assert.equal(b.state, 'closed');
    const states = notices.filter((n) => n.type === 'state').map((n) => n.type === 'state' && `${n.to}@${n.at}`);
    // 5 failures open it at sample 4; it probes every 30 s of data (3,000 samples) until the fix at sample 20,000
    assert.equal(states[0], 'open@40');
    assert.equal(states[1], 'halfOpen@30040');
    assert.deepEqual(states.slice(-2), ['halfOpen@210040', 'closed@215150']);
    assert.equal(notices.filter((n) => n.type !== 'state').length, 0, 'no notice per sample');
    assert.ok(b.counters.permitted < 200, `${b.counters.permitted} guarded calls for 40,960 samples`);
  });

  it('a refused call is not retried', () => {
    assert.equal(isRetryable(new CircuitOpenError('x', 'open')), false);
  });

  describe('registry', () => {
    it('creates named breakers, snapshots their states, obeys operators and fans notices out', () => {
      const clock = new VirtualClock();
      const reg = new BreakerRegistry(clock);
      const ml = reg.create('ml_inference', 'ml_inference');
      reg.create('graph_db', 'graph_db', { lean: true });
      reg.create('webhook/acme', 'external_integrations');
      const notices: BreakerNotice[] = [];
      reg.onEvent((n) => notices.push(n));
      assert.deepEqual(reg.states(), { graph_db: 'closed', ml_inference: 'closed', 'webhook/acme': 'closed' });
      fail(ml, 5);
      assert.equal(reg.command('graph_db', 'open'), 'forcedOpen');
      assert.equal(reg.command('webhook/acme', 'disable'), 'disabled');
      assert.deepEqual(reg.states(), { graph_db: 'forcedOpen', ml_inference: 'open', 'webhook/acme': 'disabled' });
      clock.advance(30_000);
      assert.equal(reg.states().ml_inference, 'halfOpen');
      assert.equal(reg.command('graph_db', 'close'), 'closed');
      assert.deepEqual(notices.map((n) => n.type === 'state' ? `${n.breaker}:${n.to}` : n.type), [
        'ml_inference:open', 'graph_db:forcedOpen', 'webhook/acme:disabled', 'ml_inference:halfOpen', 'graph_db:closed',
      ]);
      const row = reg.metrics().find((r) => r.name === 'ml_inference');
      assert.deepEqual(row, { name: 'ml_inference', state: 'halfOpen', stateCode: 2, permitted: 5, succeeded: 0, failed: 5, slow: 0, rejected: 0, fallbacks: 0, transitions: 2 });
      assert.throws(() => reg.command('nope', 'open'), (e) => VigilError.is(e, 'NOT_FOUND'));
      assert.throws(() => reg.command('graph_db', 'half'), (e) => VigilError.is(e, 'BAD_REQUEST'));
      assert.throws(() => reg.create('graph_db', 'graph_db'), (e) => VigilError.is(e, 'CONFLICT'));
      assert.throws(() => reg.create('x', 'tsdb' as BreakerDependency), (e) => VigilError.is(e, 'CONFIG_INVALID'));
      reg.stop();
      assert.deepEqual(reg.states(), {});
      assert.equal(clock.pendingTimers(), 0);
    });
  });
});
