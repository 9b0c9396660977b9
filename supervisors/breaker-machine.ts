// The circuit breaker as an xstate v5 machine: pure transition config. Time enters only
// through the `resetTimeout` delay, which the hosting actor schedules on an injected clock.
//   closed --(failureThreshold consecutive FAILUREs)--> open --(resetTimeoutMs)--> half_open
//   half_open --(successThreshold SUCCESSes)--> closed;  half_open --FAILURE--> open
// Results arriving while open (calls started before it opened) change nothing.
import { assign, setup } from 'xstate';
import type { BreakerParams } from './breaker-params.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

export type BreakerEvent =
  | { type: 'SUCCESS' }
  | { type: 'FAILURE' }
  /** operator: open now */
  | { type: 'TRIP' }
  /** operator: close now */
  | { type: 'RESET' };

export interface BreakerContext extends BreakerParams {
  failures: number;
  successes: number;
}

export const breakerMachine = setup({
  types: {
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
    input: {} as BreakerParams,
  },
  guards: {
    opensOnThisFailure: ({ context }) => context.failures + 1 >= context.failureThreshold,
    closesOnThisSuccess: ({ context }) => context.successes + 1 >= context.successThreshold,
  },
  delays: {
    resetTimeout: ({ context }) => context.resetTimeoutMs,
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => ({ ...input, failures: 0, successes: 0 }),
  initial: 'closed',
  states: {
    closed: {
      entry: assign({ failures: 0, successes: 0 }),
      on: {
        FAILURE: [
          { guard: 'opensOnThisFailure', target: 'open' },
          { actions: assign({ failures: ({ context }) => context.failures + 1 }) },
        ],
        SUCCESS: { actions: assign({ failures: 0 }) },
        TRIP: { target: 'open' },
      },
    },
    open: {
      entry: assign({ successes: 0 }),
      after: { resetTimeout: { target: 'half_open' } },
      on: { RESET: { target: 'closed' } },
    },
    half_open: {
      entry: assign({ successes: 0 }),
      on: {
        SUCCESS: [
          { guard: 'closesOnThisSuccess', target: 'closed' },
          { actions: assign({ successes: ({ context }) => context.successes + 1 }) },
        ],
        FAILURE: { target: 'open' },
        TRIP: { target: 'open' },
        RESET: { target: 'closed' },
      },
    },
  },
});
