// The actor system: a tree of cells over a flat set of nact actors, hosting the supervision
// decisions of supervisors/ (restart with backoff, escalate, fail at the root).
//
// Why flat under nact: nact copies an actor's child map into the context of every message it
// handles, so a TenantActor with thousands of ServiceActor children would pay O(children)
// per batch. nact keeps the mailboxes and runs one message at a time per actor; the cells
// keep the hierarchy, paths and restart state.
import { spawn as nactSpawn, start as nactStart, stop as nactStop, type ActorSystemRef } from 'nact';
import pino, { type Logger } from 'pino';
import { VigilError } from '../../protocols/index.ts';
import { Supervisor } from '../../supervisors/index.ts';
import { Cell, type CellHost, type Delivery } from './cell.ts';
import { ROOT_PATH } from './defaults.ts';
import { CellRef } from './ref.ts';
import { SeededRng } from './rng.ts';
import { SystemClock } from './system-clock.ts';
import { nextTurn } from './turn.ts';
import type {
  ActorInfo, ActorRef, ActorSystem, ActorSystemOptions, Behavior, Clock, RestartReason, Rng,
  RuntimeCounters, RuntimeEvent, TimerHandle,
} from './types.ts';

let systemsStarted = 0;

export function createActorSystem(options: ActorSystemOptions = {}): ActorSystem {
  return new Runtime(options);
}

class Runtime implements ActorSystem, CellHost {
  readonly name: string;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  inNact = 0;
  inFlight = 0;

  private readonly nact: ActorSystemRef;
  private readonly root: Cell;
  private readonly index = new Map<string, Cell>();
  private readonly listeners: Array<(e: RuntimeEvent) => void> = [];
  private readonly restartTimers = new Set<TimerHandle>();
  private readonly onRootFailure: ((err: Error) => void) | undefined;
  readonly logBindings: (path: string) => Record<string, unknown>;
  private readonly counters = { restartsTotal: 0, escalationsTotal: 0, crashesTotal: 0, passivationsTotal: 0, deadLettersTotal: 0, readoptedTotal: 0 };
  private nextId = 0;
  private stopped = false;

  constructor(options: ActorSystemOptions) {
    this.name = options.name ?? 'vigil';
    this.clock = options.clock ?? new SystemClock();
    this.rng = options.rng ?? new SeededRng(0);
    this.log = options.log ?? pino({ name: this.name, level: 'warn' });
    this.onRootFailure = options.onRootFailure;
    this.logBindings = options.logBindings ?? (() => ({}));
    const rootBehavior: Behavior<never, null> = {
      kind: 'root',
      supervision: options.supervision,
      init: () => null,
      receive: (s) => s,
    };
    this.root = new Cell<never>(this, undefined, 'root', ROOT_PATH, rootBehavior, (c) => new CellRef(c));
    this.root.supervisor = new Supervisor(options.supervision); // validates the options now
    // nact reads the system name from an object (its typings say string)
    this.nact = nactStart({ name: `vigil-${++systemsStarted}-${this.name}` } as unknown as string);
  }

  // ---- ActorSystem ----

  spawn<M>(name: string, behavior: Behavior<M, unknown>): ActorRef<M> {
    return this.spawnChild(this.root, name, behavior);
  }

  find<M>(path: string): ActorRef<M> | undefined {
    return this.index.get(path)?.ref as ActorRef<M> | undefined;
  }

  tree(): ActorInfo {
    const info = (c: Cell): ActorInfo => ({
      path: c.path,
      kind: c.kind,
      status: c.status,
      restarts: c.restarts,
      mailbox: c.mailbox,
      children: [...c.children.values()].map(info),
    });
    return info(this.root);
  }

  async restart(path: string): Promise<void> {
    if (this.stopped) throw new VigilError('UNAVAILABLE', `actor system ${this.name} is stopped`);
    const targets = path === ROOT_PATH ? [...this.root.children.values()] : [this.index.get(path)];
    if (targets[0] === undefined && path !== ROOT_PATH) throw new VigilError('NOT_FOUND', `no actor at ${path}`);
    for (const cell of targets) {
      if (!cell || cell.status === 'stopped') continue;
      this.beginRestart(cell);
      this.completeRestart(cell, 0, 'operator');
    }
  }

  stats(): RuntimeCounters {
    let mailboxDepth = 0;
    for (const c of this.index.values()) mailboxDepth += c.mailbox;
    return { actorsAlive: this.index.size, mailboxDepth, ...this.counters };
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async settled(): Promise<void> {
    while (this.inNact > 0 || this.inFlight > 0) await nextTurn();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const child of [...this.root.children.values()].reverse()) this.stopCell(child, 'stopped');
    for (const t of this.restartTimers) this.clock.clearTimeout(t);
    this.restartTimers.clear();
    if (this.root.status !== 'failed') this.root.status = 'stopped';
    nactStop(this.nact);
  }

  // ---- CellHost ----

  lookup(path: string): Cell | undefined {
    return this.index.get(path);
  }

  supervisorOf(cell: Cell): Supervisor {
    return (cell.supervisor ??= new Supervisor(cell.behavior.supervision));
  }

  deadLetter(path: string, messages: readonly unknown[]): void {
    if (messages.length === 0) return;
    this.counters.deadLettersTotal += messages.length;
    this.emit({ type: 'dead-letters', path, messages });
  }

  spawnChild<C>(parent: Cell, name: string, behavior: Behavior<C, unknown>): ActorRef<C> {
    if (this.stopped) throw new VigilError('UNAVAILABLE', `actor system ${this.name} is stopped`);
    if (parent.status === 'stopped') throw new VigilError('UNAVAILABLE', `${parent.path} is stopped`);
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      throw new VigilError('BAD_REQUEST', `actor name must be non-empty and without '/' (got '${String(name)}')`);
    }
    if (parent.children.has(name)) throw new VigilError('CONFLICT', `${parent.path}/${name} already exists`);
    const path = `${parent.path}/${name}`;
    const cell = new Cell<C>(this, parent, name, path, behavior, (c) => new CellRef(c));
    if (behavior.supervision) cell.supervisor = new Supervisor(behavior.supervision);
    cell.nactRef = nactSpawn(this.nact, (_s: unknown, msg: Delivery) => cell.deliver(msg), `a${++this.nextId}`, {
      // deliver() handles crashes itself; should the handling fail, keep the mailbox going
      // rather than let nact's default policy stop the actor behind the cell's back
      onCrash: (_msg, err, ctx) => {
        this.log.error({ err, actor: path }, 'runtime error while handling a crash');
        return ctx.resume;
      },
    });
    parent.children.set(name, cell);
    this.index.set(path, cell);
    cell.lastActive = this.clock.now();
    try {
      cell.state = behavior.init(cell.ctx);
    } catch (err) {
      this.discard(cell);
      throw new VigilError('INTERNAL', `${path}: init failed: ${messageOf(err)}`, { cause: err });
    }
    if (behavior.idleAfterMs !== undefined) this.armIdle(cell, behavior.idleAfterMs);
    this.emit({ type: 'started', path, kind: behavior.kind });
    return cell.ref;
  }

  stopChild(parent: Cell, name: string): void {
    const child = parent.children.get(name);
    if (child) this.stopCell(child, 'stopped');
  }

  /** A receive threw or rejected (or a restart's init threw): the parent's policy decides. */
  crash(cell: Cell, err: unknown): void {
    const parent = cell.parent;
    if (cell.status !== 'running' || !parent) return; // already being handled
    const error = toError(err);
    cell.crashed = true;
    this.counters.crashesTotal++;
    this.emit({ type: 'crashed', path: cell.path, kind: cell.kind, error });
    if (parent.status !== 'running') {
      cell.status = 'failed'; // the parent is going down with its subtree anyway
      return;
    }
    const decision = this.supervisorOf(parent).decide(cell.name, this.clock.now(), [...parent.children.keys()]);
    if (decision.action === 'escalate') {
      cell.status = 'failed';
      this.escalate(parent, error);
      return;
    }
    const targets: Cell[] = [];
    for (const name of decision.targets) {
      const t = parent.children.get(name);
      if (t && t.status !== 'stopped') targets.push(t);
    }
    for (let i = targets.length - 1; i >= 0; i--) this.beginRestart(targets[i]!); // OTP: stop in reverse start order
    const finish = (): void => {
      for (const t of targets) this.completeRestart(t, decision.delayMs, t === cell ? 'crash' : 'sibling');
    };
    if (decision.delayMs <= 0) {
      finish();
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.restartTimers.delete(timer);
      finish();
    }, decision.delayMs);
    this.restartTimers.add(timer);
  }

  // ---- supervision internals ----

  private escalate(supervisor: Cell, cause: Error): void {
    this.counters.escalationsTotal++;
    const error = new VigilError('INTERNAL', `${supervisor.path}: restart intensity exceeded`, { cause });
    this.emit({ type: 'escalated', path: supervisor.path, error });
    if (supervisor === this.root) this.failRoot(error);
    else this.crash(supervisor, error);
  }

  private failRoot(error: Error): void {
    if (this.root.status === 'failed') return;
    this.root.status = 'failed';
    this.log.fatal({ err: error }, 'root supervisor gave up');
    if (!this.onRootFailure) {
      void this.stop();
      return;
    }
    try {
      this.onRootFailure(error);
    } catch (err) {
      this.log.error({ err }, 'onRootFailure threw');
    }
  }

  /**
   * Messages are kept from now on; the subtree stops (it is rebuilt by init). What the
   * children had queued is kept too, for the next incarnation to route again (readopt).
   */
  private beginRestart(cell: Cell): void {
    cell.status = 'restarting';
    cell.gen++;
    for (const child of [...cell.children.values()].reverse()) {
      const left = this.stopCell(child, 'stopped', true);
      if (left.length > 0) cell.orphans.unshift([child.name, left]);
    }
    cell.supervisor?.reset();
  }

  /** The fresh incarnation takes its former children's queued messages, in start order. */
  private readopt(cell: Cell): void {
    const orphans = cell.orphans;
    cell.orphans = [];
    for (const [child, messages] of orphans) {
      if (!cell.behavior.readopt) {
        this.deadLetter(`${cell.path}/${child}`, messages);
        continue;
      }
      try {
        this.counters.readoptedTotal += messages.length;
        cell.state = cell.behavior.readopt(cell.state, child, messages, cell.ctx);
      } catch (err) {
        cell.ctx.log.error({ err, child }, 'readopt threw: the child\'s queued messages are lost');
        this.deadLetter(`${cell.path}/${child}`, messages);
      }
    }
  }

  private completeRestart(cell: Cell, delayMs: number, reason: RestartReason): void {
    if (cell.status !== 'restarting' || this.stopped) return;
    cell.restarts++;
    this.counters.restartsTotal++;
    cell.status = 'running';
    cell.crashed = false;
    cell.lastActive = this.clock.now();
    try {
      cell.state = cell.behavior.init(cell.ctx);
    } catch (err) {
      this.crash(cell, err);
      return;
    }
    this.readopt(cell);
    this.emit({ type: 'restarted', path: cell.path, kind: cell.kind, delayMs, restarts: cell.restarts, reason });
    cell.kick();
  }

  /**
   * For good: children first (reverse start order), then onStop, then gone from the tree.
   * Its queued messages are returned when `keep` (a restarting parent takes them), and are
   * dead letters otherwise.
   */
  private stopCell(cell: Cell, how: 'stopped' | 'passivated', keep = false): unknown[] {
    if (cell.status === 'stopped') return [];
    for (const child of [...cell.children.values()].reverse()) this.stopCell(child, 'stopped');
    const handOff = !cell.crashed && cell.status !== 'failed';
    cell.status = 'stopped';
    cell.gen++;
    if (cell.idleTimer !== undefined) this.clock.clearTimeout(cell.idleTimer);
    cell.idleTimer = undefined;
    if (handOff && cell.behavior.onStop) {
      try {
        cell.behavior.onStop(cell.state, cell.ctx);
      } catch (err) {
        cell.ctx.log.warn({ err }, 'onStop threw');
      }
    }
    this.detach(cell);
    const left = cell.drain();
    this.inNact -= cell.inbox;
    cell.inbox = 0;
    for (const [child, messages] of cell.orphans) this.deadLetter(`${cell.path}/${child}`, messages);
    cell.orphans = [];
    if (!keep) this.deadLetter(cell.path, left);
    if (cell.asks) {
      const err = new VigilError('UNAVAILABLE', `${cell.path} stopped before answering`);
      for (const fail of [...cell.asks]) fail(err);
    }
    if (how === 'passivated') this.counters.passivationsTotal++;
    this.emit({ type: how, path: cell.path, kind: cell.kind });
    return keep ? left : [];
  }

  /** A spawn whose init threw: undo it quietly (it never started). */
  private discard(cell: Cell): void {
    for (const child of [...cell.children.values()].reverse()) this.stopCell(child, 'stopped');
    cell.status = 'stopped';
    this.detach(cell);
  }

  private detach(cell: Cell): void {
    const parent = cell.parent;
    if (parent && parent.children.get(cell.name) === cell) {
      parent.children.delete(cell.name);
      parent.supervisor?.forget(cell.name);
    }
    if (this.index.get(cell.path) === cell) this.index.delete(cell.path);
    if (cell.nactRef) nactStop(cell.nactRef);
  }

  /** Passivation on the injected clock: one timer per actor, re-armed lazily, not per message. */
  private armIdle(cell: Cell, idleMs: number): void {
    const check = (): void => {
      cell.idleTimer = undefined;
      if (cell.status === 'stopped' || this.stopped) return;
      const idleFor = this.clock.now() - cell.lastActive;
      const quiet = cell.status === 'running' && !cell.busy && cell.inbox === 0 && cell.mailbox === 0;
      if (quiet && idleFor >= idleMs) {
        this.stopCell(cell, 'passivated');
        return;
      }
      cell.idleTimer = this.clock.setTimeout(check, quiet ? Math.max(1, idleMs - idleFor) : idleMs);
    };
    cell.idleTimer = this.clock.setTimeout(check, idleMs);
  }

  private emit(event: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.warn({ err, event: event.type }, 'runtime event listener threw');
      }
    }
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new VigilError('INTERNAL', `non-Error thrown: ${messageOf(err)}`, { cause: err });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
