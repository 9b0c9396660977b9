// A running circuit breaker: call guarding, counters and notices around the machine. Two
// executors of the one machine: CircuitBreaker hosts an xstate actor whose timer runs on the
// injected Clock (a handful of shared dependencies, each with its own timer); LeanBreaker steps
// a plain record (step.ts) and takes the reset delay lazily, for one breaker per
// tenant-service pair. Keep breakers off the per-sample path: guard one call per batch.
import { createActor, type Actor } from 'xstate';
import { VigilError } from '../../protocols/index.ts';
import type { Clock } from '../../actors/runtime/types.ts';
import {
  BREAKER_STATES, breakerMachine, contextFor, permits, windowFailures,
  type BreakerContext, type BreakerEvent, type BreakerInput, type BreakerState,
} from './machine.ts';
import { BREAKERS, namedBreakerParams, type BreakerDependency, type BreakerParams, type ResolvedBreakerParams } from './params.ts';
import { advanceRecord, initialRecord, stepRecord, type BreakerRecord } from './step.ts';
import { CircuitOpenError, type BreakerCounters, type BreakerListener, type BreakerNotice } from './events.ts';

export interface BreakerView {
  name: string;
  state: BreakerState;
  /** consecutive failures (closed) */
  failures: number;
  /** probe successes (halfOpen) */
  successes: number;
  /** probes let through (halfOpen) */
  probes: number;
  windowCalls: number;
  windowFailures: number;
  counters: BreakerCounters;
}

/** What a breaker reads the time from: the node's Clock, or a data-time source (a sample's timestamp). */
export type TimeSource = Pick<Clock, 'now'>;

/** A lean breaker's state as named, versioned fields (for a detector's snapshot). */
export interface BreakerSnapshot {
  version: 1;
  state: BreakerState;
  failures: number;
  successes: number;
  probes: number;
  window: number;
  calls: number;
  epoch: number;
  /** when open turns halfOpen; null when nothing is due */
  dueAt: number | null;
}

export interface CallOptions {
  /** errors that say nothing about the dependency's health (a 400 from a webhook) return false */
  countsAsFailure?: (err: unknown) => boolean;
}

/** Returned by tryAcquire when the circuit refuses the call. */
export const REJECTED = -1;

export abstract class Breaker {
  // counters as fields, not an object: 100,000 lean breakers save ~9 MB
  private nPermitted = 0;
  private nSucceeded = 0;
  private nFailed = 0;
  private nSlow = 0;
  private nRejected = 0;
  private nFallbacks = 0;
  private nTransitions = 0;
  private listeners: BreakerListener[] | undefined;

  protected constructor(readonly name: string, protected readonly clock: TimeSource) {}

  abstract get state(): BreakerState;

  /** Monotonic counts since the breaker was made (a copy). */
  get counters(): BreakerCounters {
    return {
      permitted: this.nPermitted, succeeded: this.nSucceeded, failed: this.nFailed, slow: this.nSlow,
      rejected: this.nRejected, fallbacks: this.nFallbacks, transitions: this.nTransitions,
    };
  }

  abstract get params(): ResolvedBreakerParams;
  protected abstract context(): BreakerContext;
  protected abstract send(event: BreakerEvent): void;
  /** Stops the breaker (its pending timer, if any). */
  abstract stop(): void;

  /** Would a call be let through now? (A read: no event, no count.) */
  allows(): boolean {
    return permits(this.state, this.context());
  }

  /**
   * Asks to make one call: its spell (>= 0) to pass to onSuccess/onFailure, or REJECTED.
   * For synchronous callers that cannot use `call` (a model scoring a batch in place).
   */
  tryAcquire(): number {
    const state = this.state;
    const c = this.context();
    if (!permits(state, c)) {
      this.nRejected++;
      this.notify({ type: 'rejected', breaker: this.name, state, at: this.clock.now() });
      return REJECTED;
    }
    if (state === 'halfOpen') this.send({ type: 'ACQUIRE' });
    this.nPermitted++;
    return c.epoch;
  }

  /** The call let through in spell `epoch` answered, after `durationMs` (slow calls count as failures). */
  onSuccess(epoch: number, durationMs = 0): void {
    const slow = this.params.slowCallMs;
    if (slow > 0 && durationMs > slow) this.nSlow++;
    else this.nSucceeded++;
    this.send({ type: 'SUCCESS', epoch, durationMs });
  }

  onFailure(epoch: number, durationMs = 0): void {
    this.nFailed++;
    this.send({ type: 'FAILURE', epoch, durationMs });
  }

  /** Records an outcome observed outside `call` (a health probe, a batch scored elsewhere). */
  success(durationMs = 0): void {
    this.onSuccess(this.context().epoch, durationMs);
  }

  failure(): void {
    this.onFailure(this.context().epoch);
  }

  /** Runs `fn` if the circuit allows it, recording the outcome; refused calls reject with CircuitOpenError. */
  async call<T>(fn: () => Promise<T>, options: CallOptions | ((err: unknown) => boolean) = {}): Promise<T> {
    const countsAsFailure = typeof options === 'function' ? options : options.countsAsFailure;
    const epoch = this.tryAcquire();
    if (epoch === REJECTED) throw new CircuitOpenError(this.name, this.state);
    const timed = this.params.slowCallMs > 0;
    const started = timed ? this.clock.now() : 0;
    try {
      const result = await fn();
      this.onSuccess(epoch, timed ? this.clock.now() - started : 0);
      return result;
    } catch (err) {
      if (countsAsFailure === undefined || countsAsFailure(err)) this.onFailure(epoch, timed ? this.clock.now() - started : 0);
      else this.onSuccess(epoch, 0); // the dependency answered; the request was at fault
      throw err;
    }
  }

  /** Like call, but answers from `fallback` when refused or failed (statistical detection, cached topology...). */
  async callOr<T>(fn: () => Promise<T>, fallback: (err: unknown) => T | Promise<T>, options: CallOptions = {}): Promise<T> {
    try {
      return await this.call(fn, options);
    } catch (err) {
      this.nFallbacks++;
      const reason = err instanceof CircuitOpenError && err.breaker === this.name ? 'rejected' : 'failed';
      this.notify({ type: 'fallback', breaker: this.name, reason, at: this.clock.now() });
      return fallback(err);
    }
  }

  /** Operator: open now; the reset timeout then runs as after failures. */
  trip(): void {
    this.send({ type: 'TRIP' });
  }

  /** Operator: open until reset. */
  forceOpen(): void {
    this.send({ type: 'FORCE_OPEN' });
  }

  /** Operator: let everything through and judge nothing, until reset. */
  disable(): void {
    this.send({ type: 'DISABLE' });
  }

  /** Operator: close now. */
  reset(): void {
    this.send({ type: 'RESET' });
  }

  /** Every state change, rejection and fallback; returns an unsubscribe function. */
  onEvent(listener: BreakerListener): () => void {
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners?.indexOf(listener) ?? -1;
      if (i >= 0) this.listeners?.splice(i, 1);
    };
  }

  /** State changes only (to, from). */
  onChange(listener: (state: BreakerState, from: BreakerState) => void): () => void {
    return this.onEvent((n) => {
      if (n.type === 'state') listener(n.to, n.from);
    });
  }

  view(): BreakerView {
    const state = this.state;
    const c = this.context();
    return {
      name: this.name, state, failures: c.failures, successes: c.successes, probes: c.probes,
      windowCalls: c.calls, windowFailures: windowFailures(c), counters: this.counters,
    };
  }

  protected changed(from: BreakerState, to: BreakerState): void {
    this.nTransitions++;
    this.notify({ type: 'state', breaker: this.name, from, to, at: this.clock.now() });
  }

  private notify(n: BreakerNotice): void {
    const ls = this.listeners;
    if (ls) for (const l of [...ls]) l(n);
  }
}

/** The machine hosted by an xstate actor; the reset timer runs on the injected clock. */
export class CircuitBreaker extends Breaker {
  private readonly actor: Actor<typeof breakerMachine>;
  private last: BreakerState = 'closed';

  constructor(name: string, params: BreakerParams, clock: Clock) {
    super(name, clock);
    const input: BreakerInput = { ...contextFor(name, params).params, name }; // refuses bad parameters before an actor exists
    this.actor = createActor(breakerMachine, {
      input,
      clock: { setTimeout: (fn, ms: number) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) },
    });
    this.actor.subscribe((snap) => {
      const state = snap.value as BreakerState;
      if (state === this.last) return;
      const from = this.last;
      this.last = state;
      this.changed(from, state);
    });
    this.actor.start();
  }

  get state(): BreakerState {
    return this.actor.getSnapshot().value as BreakerState;
  }

  get params(): ResolvedBreakerParams {
    return this.actor.getSnapshot().context.params;
  }

  protected context(): BreakerContext {
    return this.actor.getSnapshot().context;
  }

  protected send(event: BreakerEvent): void {
    this.actor.send(event);
  }

  stop(): void {
    this.actor.stop();
  }
}

/**
 * The same machine stepped over a plain record: no actor, no timer. The move from open to
 * halfOpen happens at the first read or call at or after the reset timeout (its notice then
 * carries that time), so an idle breaker costs nothing.
 */
export class LeanBreaker extends Breaker {
  private readonly record: BreakerRecord;

  constructor(name: string, params: BreakerParams | ResolvedBreakerParams, clock: TimeSource) {
    super(name, clock);
    this.record = initialRecord(contextFor(name, params), clock.now());
  }

  snapshot(): BreakerSnapshot {
    void this.state; // takes a due open -> halfOpen first
    const { state, context: c, dueAt } = this.record;
    return {
      version: 1, state, failures: c.failures, successes: c.successes, probes: c.probes,
      window: c.window, calls: c.calls, epoch: c.epoch, dueAt: dueAt === Infinity ? null : dueAt,
    };
  }

  /** Takes up a snapshot (no notice: the state was already announced where it was taken). */
  restore(s: BreakerSnapshot): this {
    const counts = [s.failures, s.successes, s.probes, s.window, s.calls, s.epoch];
    const ok = s.version === 1 && BREAKER_STATES.includes(s.state) && counts.every((v) => Number.isInteger(v) && v >= 0)
      && (s.dueAt === null || Number.isFinite(s.dueAt)) && (s.dueAt !== null) === (s.state === 'open');
    if (!ok) throw new VigilError('BAD_REQUEST', `breaker ${this.name}: not a version-1 breaker snapshot (${JSON.stringify(s)})`);
    const r = this.record;
    r.state = s.state;
    r.dueAt = s.dueAt ?? Infinity;
    Object.assign(r.context, { failures: s.failures, successes: s.successes, probes: s.probes, window: s.window, calls: s.calls, epoch: s.epoch });
    return this;
  }

  get state(): BreakerState {
    const r = this.record;
    if (r.dueAt !== Infinity && r.dueAt <= this.clock.now()) this.advance();
    return r.state;
  }

  get params(): ResolvedBreakerParams {
    return this.record.context.params;
  }

  protected context(): BreakerContext {
    return this.record.context;
  }

  protected send(event: BreakerEvent): void {
    const r = this.record;
    if (r.dueAt !== Infinity && r.dueAt <= this.clock.now()) this.advance();
    const from = stepRecord(r, event, this.clock); // reads the clock only on entering open
    if (from !== undefined) this.changed(from, r.state);
  }

  stop(): void {
    // nothing scheduled
  }

  private advance(): void {
    const r = this.record;
    const left = advanceRecord(r, this.clock.now());
    if (!left) return;
    for (let i = 0; i < left.length; i++) this.changed(left[i]!, left[i + 1] ?? r.state);
  }
}

export interface BreakerOptions {
  /** the display name (default: the dependency), e.g. "ml_inference/acme/checkout" */
  name?: string;
  /** step a plain record instead of hosting an actor (for many breakers) */
  lean?: boolean;
  /** overrides of the named parameters */
  params?: Partial<BreakerParams>;
}

/** A breaker with the design's parameters for one kind of dependency. */
export function createBreaker(dependency: BreakerDependency, clock: Clock, options: BreakerOptions | string = {}): Breaker {
  const o = typeof options === 'string' ? { name: options } : options;
  const { fallback: _fallback, ...named } = BREAKERS[dependency];
  const params = o.params ? { ...named, ...o.params } : namedBreakerParams(dependency);
  const name = o.name ?? dependency;
  return o.lean ? new LeanBreaker(name, params, clock) : new CircuitBreaker(name, params, clock);
}
