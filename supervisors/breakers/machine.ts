// The circuit breaker as an xstate v5 machine: pure transition config with named guards,
// actions and delays. Time enters only through the `resetTimeout` delay, which the host
// schedules on an injected clock (CircuitBreaker) or checks lazily (LeanBreaker over step.ts,
// which runs this same config without an actor).
//   closed --(failureThreshold consecutive failures, or failureRate over the window)--> open
//   open --(resetTimeoutMs)--> halfOpen --(successThreshold probe successes)--> closed
//   halfOpen --(a probe fails)--> open;  operators: TRIP -> open, FORCE_OPEN -> forcedOpen,
//   DISABLE -> disabled (lets everything through, records nothing), RESET -> closed.
// Every state entry starts a new spell (`epoch`) and clears the counts: a result counts only
// in the spell its call was let through in, so late answers from before a change are ignored.
import { assign, setup } from 'xstate';
import { resolveBreakerParams, type BreakerParams, type ResolvedBreakerParams } from './params.ts';

export type BreakerState = 'closed' | 'open' | 'halfOpen' | 'forcedOpen' | 'disabled';
export const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled'];

export type BreakerEvent =
  /** a probe call let through (sent in halfOpen only; closed calls cost no event) */
  | { type: 'ACQUIRE' }
  /** a call's outcome; `epoch` as read when it was let through (omitted: the current spell) */
  | { type: 'SUCCESS'; epoch?: number; durationMs?: number }
  | { type: 'FAILURE'; epoch?: number; durationMs?: number }
  /** operator: open now (the reset timeout then runs as after failures) */
  | { type: 'TRIP' }
  /** operator: open until RESET */
  | { type: 'FORCE_OPEN' }
  /** operator: let everything through, judge nothing, until RESET */
  | { type: 'DISABLE' }
  /** operator: close now */
  | { type: 'RESET' };

export type BreakerResult = Extract<BreakerEvent, { type: 'SUCCESS' | 'FAILURE' }>;

export interface BreakerContext {
  readonly params: ResolvedBreakerParams;
  /** consecutive failures (closed) */
  failures: number;
  /** successful probes in this half-open spell */
  successes: number;
  /** probes let through in this half-open spell */
  probes: number;
  /** the sliding window, newest call in bit 0; 1 = failed (or slow) */
  window: number;
  /** calls in the window (<= windowSize) */
  calls: number;
  /** bumped on every state entry */
  epoch: number;
}

export type BreakerInput = BreakerParams & { name?: string };

type Ctx = BreakerContext;

// ---- the rules, as plain functions shared by the xstate machine and the lean stepper ----

function isCurrent(c: Ctx, e: BreakerEvent): boolean {
  return (e.type === 'SUCCESS' || e.type === 'FAILURE') && (e.epoch === undefined || e.epoch === c.epoch);
}

/** A failure, or a success slower than the threshold. */
function isFailed(c: Ctx, e: BreakerEvent): boolean {
  if (e.type === 'FAILURE') return true;
  return e.type === 'SUCCESS' && c.params.slowCallMs > 0 && (e.durationMs ?? 0) > c.params.slowCallMs;
}

function pushedWindow(c: Ctx, failed: boolean): number {
  const size = c.params.windowSize;
  const mask = size === 32 ? 0xffffffff : (1 << size) - 1;
  return (((c.window << 1) | (failed ? 1 : 0)) & mask) >>> 0;
}

function bitCount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Failures recorded in the window. */
export function windowFailures(c: Ctx): number {
  return bitCount(c.window);
}

/** Guards, by the names the machine uses. */
export const BREAKER_GUARDS = {
  /** a current failure that reaches the consecutive count or the failure rate */
  opensCircuit: (c: Ctx, e: BreakerEvent): boolean => {
    if (!isCurrent(c, e) || !isFailed(c, e)) return false;
    if (c.failures + 1 >= c.params.failureThreshold) return true;
    const calls = Math.min(c.params.windowSize, c.calls + 1);
    return calls >= c.params.minimumCalls && bitCount(pushedWindow(c, true)) >= c.params.failureRate * calls;
  },
  isCurrent,
  probeAvailable: (c: Ctx): boolean => c.probes < c.params.halfOpenProbes,
  probeFailed: (c: Ctx, e: BreakerEvent): boolean => isCurrent(c, e) && isFailed(c, e),
  probesClose: (c: Ctx, e: BreakerEvent): boolean => isCurrent(c, e) && c.successes + 1 >= c.params.successThreshold,
} satisfies Record<string, (c: Ctx, e: BreakerEvent) => boolean>;

/**
 * Context updates, by the names the machine uses. Each reads `c` and writes the fields it
 * changes into `into`: a fresh copy for xstate's assign, `c` itself for the lean stepper
 * (so each reads everything it needs before writing).
 */
export const BREAKER_UPDATES = {
  /** every state entry: a new spell, counts cleared */
  beginSpell: (c: Readonly<Ctx>, _e: BreakerEvent, into: Ctx): void => {
    into.epoch = c.epoch + 1;
    into.failures = 0;
    into.successes = 0;
    into.probes = 0;
    into.window = 0;
    into.calls = 0;
  },
  recordResult: (c: Readonly<Ctx>, e: BreakerEvent, into: Ctx): void => {
    const failed = isFailed(c, e);
    const window = pushedWindow(c, failed);
    const calls = Math.min(c.params.windowSize, c.calls + 1);
    into.failures = failed ? c.failures + 1 : 0;
    into.window = window;
    into.calls = calls;
  },
  countProbe: (c: Readonly<Ctx>, _e: BreakerEvent, into: Ctx): void => {
    into.probes = c.probes + 1;
  },
  countProbeSuccess: (c: Readonly<Ctx>, _e: BreakerEvent, into: Ctx): void => {
    into.successes = c.successes + 1;
  },
} satisfies Record<string, (c: Readonly<Ctx>, e: BreakerEvent, into: Ctx) => void>;

/** For xstate's assign: the update applied to a copy. */
function updated(u: (c: Readonly<Ctx>, e: BreakerEvent, into: Ctx) => void, c: Ctx, e: BreakerEvent): Ctx {
  const next = { ...c };
  u(c, e, next);
  return next;
}

export const BREAKER_DELAYS = {
  resetTimeout: (c: Ctx): number => c.params.resetTimeoutMs,
} satisfies Record<string, (c: Ctx) => number>;

/** Would a call be let through in this state? (A read, not an event.) */
export function permits(state: BreakerState, c: Ctx): boolean {
  return state === 'closed' || state === 'disabled' || (state === 'halfOpen' && c.probes < c.params.halfOpenProbes);
}

export function initialContext(input: BreakerInput): Ctx {
  return contextFor(input.name ?? 'breaker', input);
}

/** The starting context for `params` (resolved params are shared, not copied). */
export function contextFor(name: string, params: BreakerParams): Ctx {
  return { params: resolveBreakerParams(name, params), failures: 0, successes: 0, probes: 0, window: 0, calls: 0, epoch: 0 };
}

const G = BREAKER_GUARDS;
const U = BREAKER_UPDATES;

const inClosed = [
  { guard: 'opensCircuit', target: 'open' },
  { guard: 'isCurrent', actions: 'recordResult' },
] as const;
const inHalfOpen = [
  { guard: 'probeFailed', target: 'open' },
  { guard: 'probesClose', target: 'closed' },
  { guard: 'isCurrent', actions: 'countProbeSuccess' },
] as const;

export const breakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
    input: {} as BreakerInput,
  },
  guards: {
    opensCircuit: ({ context, event }) => G.opensCircuit(context, event),
    isCurrent: ({ context, event }) => G.isCurrent(context, event),
    probeAvailable: ({ context }) => G.probeAvailable(context),
    probeFailed: ({ context, event }) => G.probeFailed(context, event),
    probesClose: ({ context, event }) => G.probesClose(context, event),
  },
  actions: {
    beginSpell: assign(({ context, event }) => updated(U.beginSpell, context, event)),
    recordResult: assign(({ context, event }) => updated(U.recordResult, context, event)),
    countProbe: assign(({ context, event }) => updated(U.countProbe, context, event)),
    countProbeSuccess: assign(({ context, event }) => updated(U.countProbeSuccess, context, event)),
  },
  delays: {
    resetTimeout: ({ context }) => BREAKER_DELAYS.resetTimeout(context),
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => initialContext(input),
  initial: 'closed',
  states: {
    closed: {
      entry: 'beginSpell',
      on: {
        SUCCESS: [...inClosed],
        FAILURE: [...inClosed],
        TRIP: { target: 'open' },
        FORCE_OPEN: { target: 'forcedOpen' },
        DISABLE: { target: 'disabled' },
      },
    },
    open: {
      entry: 'beginSpell',
      after: { resetTimeout: { target: 'halfOpen' } },
      on: {
        FORCE_OPEN: { target: 'forcedOpen' },
        DISABLE: { target: 'disabled' },
        RESET: { target: 'closed' },
      },
    },
    halfOpen: {
      entry: 'beginSpell',
      on: {
        ACQUIRE: { guard: 'probeAvailable', actions: 'countProbe' },
        SUCCESS: [...inHalfOpen],
        FAILURE: [...inHalfOpen],
        TRIP: { target: 'open' },
        FORCE_OPEN: { target: 'forcedOpen' },
        DISABLE: { target: 'disabled' },
        RESET: { target: 'closed' },
      },
    },
    forcedOpen: {
      entry: 'beginSpell',
      on: {
        DISABLE: { target: 'disabled' },
        RESET: { target: 'closed' },
      },
    },
    disabled: {
      entry: 'beginSpell',
      on: {
        FORCE_OPEN: { target: 'forcedOpen' },
        RESET: { target: 'closed' },
      },
    },
  },
});
