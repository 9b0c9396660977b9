// A running circuit breaker: the machine hosted by an xstate actor whose timers run on the
// injected Clock, plus call guarding. Half-open lets at most `successThreshold` trial calls
// through at once; the rest are refused like in open. One breaker per guarded dependency
// (per tenant at most), not per sample: the DESIGN keeps breaker events off the sample path.
import { createActor, type Actor } from 'xstate';
import { VigilError } from '../protocols/index.ts';
import type { Clock } from '../actors/runtime/types.ts';
import { breakerMachine, type BreakerState } from './breaker-machine.ts';
import { BREAKERS, type BreakerDependency, type BreakerParams } from './breaker-params.ts';

export interface BreakerView {
  name: string;
  state: BreakerState;
  failures: number;
  successes: number;
}

export class CircuitBreaker {
  private readonly actor: Actor<typeof breakerMachine>;
  private probes = 0;
  private last: BreakerState = 'closed';
  private readonly listeners: Array<(state: BreakerState, from: BreakerState) => void> = [];

  constructor(readonly name: string, readonly params: BreakerParams, clock: Clock) {
    checkParams(name, params);
    this.actor = createActor(breakerMachine, {
      input: { ...params },
      clock: { setTimeout: (fn, ms: number) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) },
    });
    this.actor.subscribe((snap) => {
      const state = snap.value as BreakerState;
      if (state === this.last) return;
      const from = this.last;
      this.last = state;
      if (state === 'half_open') this.probes = 0;
      for (const l of this.listeners) l(state, from);
    });
    this.actor.start();
  }

  get state(): BreakerState {
    return this.actor.getSnapshot().value as BreakerState;
  }

  /** Would a call be let through now? */
  allows(): boolean {
    const s = this.state;
    return s === 'closed' || (s === 'half_open' && this.probes < this.params.successThreshold);
  }

  /**
   * Runs `fn` if the circuit allows it, recording the outcome. Refused calls reject with
   * VigilError('UNAVAILABLE'). `countsAsFailure` lets callers ignore errors that say nothing
   * about the dependency's health (a 400 from a webhook, say).
   */
  async call<T>(fn: () => Promise<T>, countsAsFailure: (err: unknown) => boolean = () => true): Promise<T> {
    if (!this.allows()) throw new VigilError('UNAVAILABLE', `${this.name}: circuit ${this.state}`);
    const probe = this.state === 'half_open';
    if (probe) this.probes++;
    try {
      const result = await fn();
      this.success();
      return result;
    } catch (err) {
      if (countsAsFailure(err)) this.failure();
      throw err;
    } finally {
      if (probe && this.probes > 0) this.probes--;
    }
  }

  /** Like call, but answers from `fallback` when refused or failed (statistical detection, cached topology...). */
  async callOr<T>(fn: () => Promise<T>, fallback: (err: unknown) => T | Promise<T>): Promise<T> {
    try {
      return await this.call(fn);
    } catch (err) {
      return fallback(err);
    }
  }

  success(): void {
    this.actor.send({ type: 'SUCCESS' });
  }

  failure(): void {
    this.actor.send({ type: 'FAILURE' });
  }

  /** Operator: open now. */
  trip(): void {
    this.actor.send({ type: 'TRIP' });
  }

  /** Operator: close now. */
  reset(): void {
    this.actor.send({ type: 'RESET' });
  }

  /** State changes (to, from); returns an unsubscribe function. */
  onChange(listener: (state: BreakerState, from: BreakerState) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  view(): BreakerView {
    const { context, value } = this.actor.getSnapshot();
    return { name: this.name, state: value as BreakerState, failures: context.failures, successes: context.successes };
  }

  /** Stops the machine (its pending half-open timer included). */
  stop(): void {
    this.actor.stop();
  }
}

/** A breaker with the design's parameters for one kind of dependency. */
export function createBreaker(dependency: BreakerDependency, clock: Clock, name: string = dependency): CircuitBreaker {
  const { fallback: _fallback, ...params } = BREAKERS[dependency];
  return new CircuitBreaker(name, params, clock);
}

function checkParams(name: string, p: BreakerParams): void {
  const ok = Number.isInteger(p.failureThreshold) && p.failureThreshold >= 1
    && Number.isInteger(p.successThreshold) && p.successThreshold >= 1
    && p.resetTimeoutMs > 0;
  if (!ok) throw new VigilError('CONFIG_INVALID', `breaker ${name}: thresholds must be integers >= 1 and the reset timeout > 0`);
}
