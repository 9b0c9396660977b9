// One actor as the runtime sees it: behaviour, state, incarnation, mailbox, children.
// The cell keeps the mailbox itself (so what is queued can be handed on when the actor
// stops: see Runtime.beginRestart); nact carries one wake-up per queued message and runs
// one at a time per actor. A wake-up while the actor restarts does nothing: the message
// stays queued and is handled, in order, by the next incarnation.
import { dispatch, type Ref } from 'nact';
import type { Logger } from 'pino';
import type { Supervisor } from '../../supervisors/index.ts';
import type { ActorContext, ActorRef, ActorStatus, Behavior, Clock, Rng, TimerHandle } from './types.ts';

/** What nact carries: a wake-up that makes the cell handle the head of its mailbox. */
export const KICK: unique symbol = Symbol('vigil.kick');
export type Delivery = typeof KICK;

/** What a cell needs from the system hosting it. */
export interface CellHost {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  logBindings(path: string): Record<string, unknown>;
  /** messages dispatched to nact and not yet delivered, over all cells */
  inNact: number;
  /** async receives in progress, over all cells */
  inFlight: number;
  crash(cell: Cell, err: unknown): void;
  /** messages that will never be handled (told to a stopped actor, left when it stopped) */
  deadLetter(path: string, messages: readonly unknown[]): void;
  spawnChild<C>(parent: Cell, name: string, behavior: Behavior<C, unknown>): ActorRef<C>;
  stopChild(parent: Cell, name: string): void;
  lookup(path: string): Cell | undefined;
  supervisorOf(cell: Cell): Supervisor;
}

export class Cell<M = unknown> {
  status: ActorStatus = 'running';
  state: unknown = undefined;
  /** incarnation; bumped on restart and stop so a stale async result is ignored */
  gen = 0;
  restarts = 0;
  /** set by a crash, cleared by the restart: a crashed state is not handed to onStop */
  crashed = false;
  /** wake-ups inside nact's mailbox */
  inbox = 0;
  /** the mailbox: messages told and not yet handled, oldest at `head` */
  private queue: M[] = [];
  private head = 0;
  /** messages its children had queued when this actor began a restart, by child name */
  orphans: Array<[string, unknown[]]> = [];
  busy = false;
  lastActive = 0;
  idleTimer: TimerHandle | undefined;
  supervisor: Supervisor | undefined;
  readonly children = new Map<string, Cell>();
  readonly ref: ActorRef<M>;
  readonly ctx: ActorContext<M>;
  nactRef: Ref<Delivery> | undefined;
  /** replies awaited from this actor: rejected when it stops */
  asks: Set<(err: Error) => void> | undefined;

  constructor(
    readonly host: CellHost,
    readonly parent: Cell | undefined,
    readonly name: string,
    readonly path: string,
    readonly behavior: Behavior<M, unknown>,
    makeRef: (cell: Cell<M>) => ActorRef<M>,
  ) {
    this.ref = makeRef(this);
    this.ctx = new CellContext(this);
  }

  get kind(): string {
    return this.behavior.kind;
  }

  get mailbox(): number {
    return this.queue.length - this.head;
  }

  tell(msg: M): void {
    if (this.status === 'stopped' || !this.nactRef) {
      this.host.deadLetter(this.path, [msg]);
      return;
    }
    this.queue.push(msg);
    this.wake(1);
  }

  /** After a restart: a wake-up for every queued message that has none in nact. */
  kick(): void {
    this.wake(this.mailbox - this.inbox);
  }

  /** Empties the mailbox and returns what it held, oldest first (the actor is stopping). */
  drain(): M[] {
    const left = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return left;
  }

  /** nact's handler for this cell: handle the oldest queued message, if running. */
  deliver(_wake: Delivery): Promise<void> | undefined {
    this.inbox--;
    this.host.inNact--;
    if (this.status !== 'running' || this.head === this.queue.length) return undefined;
    const next = this.queue[this.head]!;
    this.queue[this.head++] = undefined as M; // let it be collected
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head); // amortised O(1) per message
      this.head = 0;
    }
    return this.process(next);
  }

  private wake(n: number): void {
    if (!this.nactRef) return;
    for (let i = 0; i < n; i++) {
      this.inbox++;
      this.host.inNact++;
      dispatch(this.nactRef, KICK);
    }
  }

  private process(msg: M): Promise<void> | undefined {
    const gen = this.gen;
    if (this.behavior.idleAfterMs !== undefined) this.lastActive = this.host.clock.now();
    let result: unknown;
    try {
      result = this.behavior.receive(this.state, msg, this.ctx);
    } catch (err) {
      this.host.crash(this, err);
      return undefined;
    }
    if (!(result instanceof Promise)) {
      this.state = result;
      return undefined;
    }
    this.busy = true;
    this.host.inFlight++;
    return result.then(
      (s: unknown) => {
        this.settle();
        if (this.gen === gen && this.status === 'running') this.state = s;
      },
      (err: unknown) => {
        this.settle();
        if (this.gen === gen && this.status === 'running') this.host.crash(this, err);
      },
    );
  }

  private settle(): void {
    this.busy = false;
    this.host.inFlight--;
  }
}

/** The ActorContext a behaviour sees; one per cell, reused across messages and restarts. */
class CellContext<M> implements ActorContext<M> {
  private logger: Logger | undefined;
  private stream: Rng | undefined;

  constructor(private readonly cell: Cell<M>) {}

  get self(): ActorRef<M> {
    return this.cell.ref;
  }

  get path(): string {
    return this.cell.path;
  }

  get clock(): Clock {
    return this.cell.host.clock;
  }

  /** A stream per actor path: replays the same whatever order actors were spawned in. */
  get rng(): Rng {
    return (this.stream ??= this.cell.host.rng.fork(this.cell.path));
  }

  /** Created on first use: thousands of actors that never log cost no logger. */
  get log(): Logger {
    return (this.logger ??= this.cell.host.log.child({ ...this.cell.host.logBindings(this.cell.path), actor: this.cell.path }));
  }

  spawn<C>(name: string, behavior: Behavior<C, unknown>): ActorRef<C> {
    return this.cell.host.spawnChild(this.cell, name, behavior);
  }

  child<C>(name: string): ActorRef<C> | undefined {
    return this.cell.children.get(name)?.ref as ActorRef<C> | undefined;
  }

  stopChild(name: string): void {
    this.cell.host.stopChild(this.cell, name);
  }

  children(): string[] {
    return [...this.cell.children.keys()];
  }
}
