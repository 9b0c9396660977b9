// Property test: random parameters, outcomes, durations, clock jumps and operator commands
// (seeded, many runs). An independent monitor, fed only by what it sees (calls, answers,
// notices), checks the machine's rules at every step, and the lean executor must agree with
// the xstate actor state for state, epoch for epoch.
import assert from 'node:assert/strict';
import { SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { CircuitBreaker, LeanBreaker, REJECTED, breakerMachine, compileBreakerConfig, type BreakerNotice, type BreakerState } from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';

const RUNS = 200;
const STEPS = 300;

interface Call { epoch: number; spell: number; ok: boolean; durationMs: number }

const OPERATOR = ['trip', 'forceOpen', 'disable', 'reset'] as const;
type Operator = (typeof OPERATOR)[number];
const AFTER: Record<Operator, (from: BreakerState) => BreakerState> = {
  trip: (s) => (s === 'closed' || s === 'halfOpen' ? 'open' : s),
  forceOpen: () => 'forcedOpen',
  disable: () => 'disabled',
  reset: () => 'closed',
};

function runOnce(seed: number): { transitions: number; permitted: number; rejected: number } {
  const rng = new SeededRng(`breaker-property/${seed}`);
  const failureThreshold = 1 + rng.int(6);
  const successThreshold = 1 + rng.int(3);
  const halfOpenProbes = successThreshold + rng.int(3);
  const windowSize = 1 + rng.int(32);
  const minimumCalls = 1 + rng.int(windowSize);
  const failureRate = [0.2, 0.5, 0.8, 1][rng.int(4)]!;
  const slowCallMs = rng.next() < 0.5 ? 0 : 10 + rng.int(100);
  const resetTimeoutMs = 10 + rng.int(1000);
  const pFail = 0.05 + 0.9 * rng.next();
  const params = { failureThreshold, successThreshold, halfOpenProbes, windowSize, minimumCalls, failureRate, slowCallMs, resetTimeoutMs };
  const where = (): string => `seed ${seed} ${JSON.stringify(params)}`;

  const clock = new VirtualClock(1_000_000);
  const actor = new CircuitBreaker('a', params, clock);
  const lean = new LeanBreaker('l', params, clock);

  // the monitor's own view, built from notices only
  let state = 'closed' as BreakerState;
  let spell = 0;
  let blockedUntil = -Infinity;
  let probes = 0;
  let successes = 0;
  let outcomes: boolean[] = []; // failed?, this closed spell, oldest first
  let allowed: (from: BreakerState, to: BreakerState, at: number) => boolean = () => false;
  const violations: string[] = [];
  let transitions = 0;

  actor.onEvent((n: BreakerNotice) => {
    if (n.type !== 'state') return;
    if (n.from !== state) violations.push(`notice from ${n.from} while the monitor saw ${state}`);
    if (!allowed(n.from, n.to, n.at)) violations.push(`unexpected ${n.from} -> ${n.to} at ${n.at}`);
    transitions++;
    state = n.to;
    spell++;
    probes = 0;
    successes = 0;
    outcomes = [];
    blockedUntil = n.to === 'open' ? n.at + resetTimeoutMs : n.to === 'forcedOpen' ? Infinity : n.to === 'halfOpen' ? blockedUntil : -Infinity;
  });

  const pending: Call[] = [];
  let permitted = 0;
  let rejected = 0;
  const agree = (what: string): void => {
    assert.equal(lean.state, actor.state, `${where()}: executors disagree after ${what}`);
    assert.equal(actor.state, state, `${where()}: monitor and breaker disagree after ${what}`);
    assert.deepEqual(violations, [], `${where()}: after ${what}`);
  };

  for (let step = 0; step < STEPS; step++) {
    const r = rng.next();
    if (r < 0.4) {
      const ea = actor.tryAcquire();
      const el = lean.tryAcquire();
      assert.equal(el, ea, `${where()}: step ${step}: executors answer differently`);
      if (ea === REJECTED) {
        rejected++;
        assert.ok(state === 'open' || state === 'forcedOpen' || (state === 'halfOpen' && probes >= halfOpenProbes),
          `${where()}: refused in ${state} with ${probes} probes`);
      } else {
        permitted++;
        assert.ok(clock.now() >= blockedUntil, `${where()}: a call let through while open, ${blockedUntil - clock.now()} ms before the timeout`);
        assert.ok(state !== 'open' && state !== 'forcedOpen', `${where()}: a call let through in ${state}`);
        if (state === 'halfOpen') assert.ok(++probes <= halfOpenProbes, `${where()}: probe ${probes} of ${halfOpenProbes}`);
        const durationMs = rng.int(slowCallMs > 0 ? 2 * slowCallMs : 50);
        pending.push({ epoch: ea, spell, ok: rng.next() >= pFail, durationMs });
      }
    } else if (r < 0.75 && pending.length > 0) {
      const [call] = pending.splice(rng.int(pending.length), 1) as [Call];
      const failed = !call.ok || (slowCallMs > 0 && call.durationMs > slowCallMs);
      const current = call.spell === spell;
      let expected: BreakerState = state;
      if (current && state === 'closed') {
        outcomes.push(failed);
        let run = 0;
        for (let i = outcomes.length - 1; i >= 0 && outcomes[i]; i--) run++;
        const recent = outcomes.slice(-windowSize);
        const rateHit = recent.length >= minimumCalls && recent.filter(Boolean).length >= failureRate * recent.length;
        if (failed && (run >= failureThreshold || rateHit)) expected = 'open';
      } else if (current && state === 'halfOpen') {
        if (failed) expected = 'open';
        else if (++successes >= successThreshold) expected = 'closed';
      }
      const from = state;
      allowed = (f, t) => f === from && t === expected;
      if (call.ok) {
        actor.onSuccess(call.epoch, call.durationMs);
        lean.onSuccess(call.epoch, call.durationMs);
      } else {
        actor.onFailure(call.epoch, call.durationMs);
        lean.onFailure(call.epoch, call.durationMs);
      }
      assert.equal(state, expected, `${where()}: step ${step}: ${from} + ${failed ? 'failure' : 'success'} (current ${current})`);
      agree(`answer at step ${step}`);
    } else if (r < 0.97) {
      const jump = rng.next() < 0.5 ? rng.int(resetTimeoutMs + 1) : rng.int(20);
      allowed = (f, t, at) => f === 'open' && t === 'halfOpen' && at === blockedUntil;
      clock.advance(jump);
      if (state === 'open') assert.ok(clock.now() < blockedUntil, `${where()}: still open past its timeout`);
      agree(`advance ${jump} at step ${step}`);
    } else {
      const op = OPERATOR[rng.int(OPERATOR.length)]!;
      const from = state;
      const to = AFTER[op](from);
      allowed = (f, t) => f === from && t === to && t !== f;
      actor[op]();
      lean[op]();
      assert.equal(state, to, `${where()}: ${op} from ${from}`);
      agree(`${op} at step ${step}`);
    }
  }
  assert.deepEqual(lean.counters, actor.counters, `${where()}: counters`);
  actor.stop();
  return { transitions, permitted, rejected };
}

describe('circuit breaker properties (seeded random runs)', () => {
  it(`${RUNS} runs of ${STEPS} steps keep the rules, and both executors agree`, () => {
    const total = { transitions: 0, permitted: 0, rejected: 0 };
    for (let seed = 1; seed <= RUNS; seed++) {
      const r = runOnce(seed);
      total.transitions += r.transitions;
      total.permitted += r.permitted;
      total.rejected += r.rejected;
    }
    // the runs must exercise the machine, not idle in closed
    assert.ok(total.transitions > RUNS * 5, `only ${total.transitions} transitions`);
    assert.ok(total.rejected > RUNS, `only ${total.rejected} rejections`);
  });

  it('the lean stepper refuses a machine config it cannot interpret instead of drifting from it', () => {
    const base = breakerMachine.config as unknown as { states: Record<string, Record<string, unknown>> };
    const variant = (state: string, patch: Record<string, unknown>): unknown =>
      ({ ...base, states: { ...base.states, [state]: { ...base.states[state], ...patch } } });
    assert.equal(Object.keys(compileBreakerConfig()).length, 5);
    const bad: Array<[unknown, RegExp]> = [
      [variant('closed', { exit: 'beginSpell' }), /exit actions/],
      [variant('open', { entry: () => undefined }), /inline action/],
      [variant('closed', { on: { FAILURE: { guard: 'nope', target: 'open' } } }), /unknown guard "nope"/],
      [variant('closed', { on: { FAILURE: { target: 'ajar' } } }), /target "ajar"/],
      [variant('closed', { on: { FAILURE: { target: 'open', reenter: true } } }), /reenter/],
      [variant('open', { after: { resetTimeout: { target: 'halfOpen' }, other: { target: 'closed' } } }), /several delays/],
    ];
    for (const [config, re] of bad) {
      assert.throws(() => compileBreakerConfig(config), (e) => VigilError.is(e, 'INTERNAL') && re.test(e.message), String(re));
    }
  });
});
