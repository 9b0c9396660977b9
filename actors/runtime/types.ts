// The typed face of Vigil's actor runtime (a wrapper over nact). Domain actors
// (tenant, service, correlator) are written against these types only.
import type { Logger } from 'pino';

/** Time source. Real (SystemClock) in a node, virtual (VirtualClock) in the simulator and tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Seeded random numbers: the same seed replays the same run. */
export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** integer in [0, maxExclusive) */
  int(maxExclusive: number): number;
  /** standard normal */
  normal(): number;
  /** an independent stream derived from this one and a label (stable across runs) */
  fork(label: string): Rng;
}

export interface ActorRef<M> {
  /** e.g. "/root/tenants/acme/checkout" */
  readonly path: string;
  /** Fire and forget. Messages sent while the actor restarts are kept and delivered after. */
  tell(msg: M): void;
  /**
   * Request/response. `make` builds the message around a reply callback. Rejects with
   * VigilError('TIMEOUT') after timeoutMs (default DEFAULT_ASK_TIMEOUT_MS) and with
   * VigilError('UNAVAILABLE') when the actor is stopped.
   */
  ask<R>(make: (reply: (result: R) => void) => M, timeoutMs?: number): Promise<R>;
}

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface BackoffOptions {
  initialMs: number; // first restart delay (default 50)
  maxMs: number;     // cap (default 5000)
  factor: number;    // growth per consecutive restart (default 2)
}

/** How an actor supervises its children (OTP semantics). */
export interface SupervisionOptions {
  strategy: Strategy;
  /** more than `intensity` restarts within `periodMs` escalates to this actor's parent (default 3 in 5000 ms) */
  intensity?: number;
  periodMs?: number;
  backoff?: Partial<BackoffOptions>;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly path: string;
  readonly clock: Clock;
  readonly rng: Rng;
  /** pino child logger carrying { actor: path } (and whatever bindings the parent added) */
  readonly log: Logger;
  /** Starts a child; children are supervised per this actor's `supervision`. Names are unique among siblings. */
  spawn<C>(name: string, behavior: Behavior<C, unknown>): ActorRef<C>;
  /** A live child by name, if any. */
  child<C>(name: string): ActorRef<C> | undefined;
  /** Stops a child for good (not restarted). */
  stopChild(name: string): void;
  /** Names of live children, in start order. */
  children(): string[];
}

/**
 * An actor's behaviour. State is owned by the actor; `receive` returns the next state.
 * A throw from `receive` is a crash: the parent's strategy decides (restart with backoff,
 * or escalate). On restart `init` runs again: the state starts afresh; the message that
 * crashed is dropped; messages queued behind it are kept.
 */
export interface Behavior<M, S = unknown> {
  /** what this actor is, for introspection: 'tenant', 'service', 'correlator', ... */
  readonly kind: string;
  init(ctx: ActorContext<M>): S;
  receive(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  /** called when the actor stops (passivation, stopChild, shutdown): a place to hand off state */
  onStop?(state: S, ctx: ActorContext<M>): void;
  /** how this actor supervises its children; default one_for_one, 3 in 5 s */
  readonly supervision?: SupervisionOptions;
  /** passivation: stop after this long without a message (the parent sees the child disappear) */
  readonly idleAfterMs?: number;
  /**
   * After this actor restarts (init has run): messages its former child `child` had queued
   * and not handled, oldest first. The fresh incarnation routes them again (to a new child,
   * say), so nothing a child had accepted is lost. Without it they are dead letters.
   */
  readopt?(state: S, child: string, messages: readonly unknown[], ctx: ActorContext<M>): S;
}

export type ActorStatus = 'running' | 'restarting' | 'stopped' | 'failed';

export interface ActorInfo {
  path: string;
  kind: string;
  status: ActorStatus;
  restarts: number;
  mailbox: number;
  children: ActorInfo[];
}

/** Counters the node exports to /metrics. */
export interface RuntimeStats {
  actorsAlive: number;
  restartsTotal: number;
  mailboxDepth: number; // sum over live actors
  escalationsTotal: number;
}

// ---- Added by the runtime: the system, its options and lifecycle events ----

/** Counters beyond RuntimeStats (stats() returns these too). */
export interface RuntimeCounters extends RuntimeStats {
  crashesTotal: number;
  passivationsTotal: number;
  /** messages told to a stopped actor, or left in a mailbox when its actor stopped */
  deadLettersTotal: number;
  /** messages a child had queued when its parent restarted, handed to the parent's next incarnation */
  readoptedTotal: number;
}

/** What happened to an actor, for the node to log and count. */
export type RuntimeEvent =
  | { type: 'started'; path: string; kind: string }
  | { type: 'crashed'; path: string; kind: string; error: Error }
  /** `reason`: its own crash, a sibling's under one_for_all/rest_for_one, or an operator's request */
  | { type: 'restarted'; path: string; kind: string; delayMs: number; restarts: number; reason: RestartReason }
  /** `path` is the supervisor whose restart intensity was exceeded ('/root' at the top) */
  | { type: 'escalated'; path: string; error: Error }
  | { type: 'stopped'; path: string; kind: string }
  /** messages that will never be handled: told to a stopped actor, or left when it stopped without a parent to take them */
  | { type: 'dead-letters'; path: string; messages: readonly unknown[] }
  | { type: 'passivated'; path: string; kind: string };

export type RestartReason = 'crash' | 'sibling' | 'operator';

export interface ActorSystemOptions {
  /** node id, used in logs */
  name?: string;
  clock?: Clock;
  rng?: Rng;
  log?: Logger;
  /** how the root supervises top-level actors (default one_for_one, 3 in 5 s) */
  supervision?: SupervisionOptions;
  /** the root gave up (intensity exceeded at the top): the node should stop. Default: stop the system. */
  onRootFailure?: (err: Error) => void;
  /** log fields for an actor's lines besides `actor` (the node adds the tenant a path belongs to) */
  logBindings?: (path: string) => Record<string, unknown>;
}

export interface ActorSystem {
  readonly name: string;
  readonly clock: Clock;
  readonly rng: Rng;
  /** A top-level actor, `/root/<name>`, supervised by the root. */
  spawn<M>(name: string, behavior: Behavior<M, unknown>): ActorRef<M>;
  /** A live actor by path. */
  find<M>(path: string): ActorRef<M> | undefined;
  tree(): ActorInfo;
  /** Operator restart: fresh state for the actor and its subtree, now; counts in its restarts. NOT_FOUND for an unknown path. */
  restart(path: string): Promise<void>;
  stats(): RuntimeCounters;
  /** Lifecycle events; returns an unsubscribe function. */
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /** Resolves once no message is queued in, or being handled by, a running actor (timers aside). */
  settled(): Promise<void>;
  /** Stops every actor, children before parents, running onStop hooks. */
  stop(): Promise<void>;
}
