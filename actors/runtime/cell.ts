// One actor as the runtime sees it: behaviour, state, incarnation, mailbox counts, children.
// nact owns the mailbox and runs one message at a time; the cell decides what a delivery
// means (run it, keep it for after a restart, or drop it as a stale incarnation's).
import { dispatch, type Ref } from 'nact';
import type { Logger } from 'pino';
import type { Supervisor } from '../../supervisors/index.ts';
import type { ActorContext, ActorRef, ActorStatus, Behavior, Clock, Rng, TimerHandle } from './types.ts';

/** Wakes a cell after a restart so messages kept during it are handled (see deliver). */
export const KICK: unique symbol = Symbol('vigil.kick');
export type Delivery<M> = M | typeof KICK;

/** What a cell needs from the system hosting it. */
export interface CellHost {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  /** messages dispatched to nact and not yet delivered, over all cells */
  inNact: number;
  /** async receives in progress, over all cells */
  inFlight: number;
  crash(cell: Cell, err: unknown): void;
  deadLetter(path: string, count: number): void;
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
  /** real messages inside nact's mailbox */
  queued = 0;
  /** real messages plus kicks inside nact's mailbox */
  inbox = 0;
  /** messages accepted while restarting, handled first after it */
  pending: M[] = [];
  busy = false;
  lastActive = 0;
  idleTimer: TimerHandle | undefined;
  supervisor: Supervisor | undefined;
  readonly children = new Map<string, Cell>();
  readonly ref: ActorRef<M>;
  readonly ctx: ActorContext<M>;
  nactRef: Ref<Delivery<M>> | undefined;
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
    return this.queued + this.pending.length;
  }

  tell(msg: M): void {
    if (this.status === 'stopped' || !this.nactRef) {
      this.host.deadLetter(this.path, 1);
      return;
    }
    this.queued++;
    this.inbox++;
    this.host.inNact++;
    dispatch(this.nactRef, msg);
  }

  /** After a restart: one kick per kept message, queued behind whatever nact still holds. */
  kick(): void {
    if (!this.nactRef) return;
    for (let i = 0; i < this.pending.length; i++) {
      this.inbox++;
      this.host.inNact++;
      dispatch(this.nactRef, KICK);
    }
  }

  /** nact's handler for this cell. Kept messages go first; kicks only make room for them. */
  deliver(msg: Delivery<M>): Promise<void> | undefined {
    this.inbox--;
    this.host.inNact--;
    const real = msg !== KICK;
    if (real) this.queued--;
    if (this.status !== 'running') {
      if (real && this.status !== 'stopped') this.pending.push(msg);
      return undefined;
    }
    let next: M;
    if (this.pending.length > 0) {
      if (real) this.pending.push(msg);
      next = this.pending.shift()!;
    } else if (real) {
      next = msg;
    } else {
      return undefined;
    }
    return this.process(next);
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
    return (this.logger ??= this.cell.host.log.child({ actor: this.cell.path }));
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
