// The node's health: one DegradationController and the node's shared breakers, on the node's
// clock, fed from what the node can observe today and from injected faults.
//   tsdb   the batch writers' 'down'/'up' events (a table refusing writes and spilling)
//   cache  the cache's L2 state (Redis), polled each check round (cache alone stays L0)
//   bus    an ingest-log append failing with an IngestLogError (up again at the next append)
//   graph  the graph_db breaker every GraphStore call goes through
//   model  the ml_inference breaker every Robust detector's model guard shares (5 failed
//          blocks of model calls open it; an injected fault makes model calls throw: modelFault)
// An injected fault marks its dependency down while it lasts and makes the wrapped calls of
// that dependency fail, slow down or hang (see gate()), so the real reactions follow too.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import { VigilError } from '../protocols/index.ts';
import { BreakerRegistry, type BreakerState } from '../supervisors/breakers/index.ts';
import {
  DEPENDENCIES, DegradationController, LEVEL_NAMES, dependencyOfBreaker, parseLevel,
  type Dependency, type Level, type LevelChange,
} from '../supervisors/degradation/index.ts';
import type { WriterEvent } from '../storage/writer/index.ts';
import { IngestLogError } from './ingest-log/index.ts';

/** How often the dependencies are re-read (the cache's L2 state has no event). */
export const DEFAULT_HEALTH_CHECK_MS = 1_000;
/** What a 'slow' fault adds to each call: past the graph_db breaker's 2 s slow-call threshold. */
export const DEFAULT_SLOW_FAULT_MS = 2_500;
/** The longest fault one request may inject (a forgotten fault must still end). */
export const MAX_FAULT_MS = 24 * 3_600_000;

export type FaultMode = 'fail' | 'slow' | 'hang';
export const FAULT_MODES: readonly FaultMode[] = ['fail', 'slow', 'hang'];

export interface Fault {
  dependency: Dependency;
  mode: FaultMode;
  /** when it ends by itself (node clock, ms) */
  until: number;
}

export interface NodeStatus {
  level: Level;
  levelName: string;
  /** when the level last changed (node clock, ms) */
  since: number;
  override?: { level: Level; until: number };
  breakers: Record<string, BreakerState>;
  dependencies: Record<Dependency, 'up' | 'down'>;
  faults: Fault[];
}

export interface NodeHealthOptions {
  clock: Clock;
  log?: Logger;
  /** how long a better level must hold before it applies (default: the controller's 30 s) */
  dwellMs?: number;
  checkIntervalMs?: number;
  slowFaultMs?: number;
}

/** The error a wrapped call gets while its dependency has an injected 'fail' (or ended 'hang') fault. */
export class InjectedFaultError extends VigilError {
  constructor(readonly dependency: Dependency, mode: FaultMode) {
    super('UNAVAILABLE', `${dependency}: injected fault (${mode})`);
    this.name = 'InjectedFaultError';
  }
}

export class NodeHealth {
  readonly breakers: BreakerRegistry;
  private readonly controller: DegradationController;
  private readonly faults = new Map<Dependency, Fault>();
  /** calls held by a 'hang' fault, released (failing) when it ends */
  private readonly hung = new Map<Dependency, Array<() => void>>();
  private readonly downTables = new Set<string>();
  private busDown = false;
  private cacheUp: (() => boolean) | undefined;
  private graphProbe: (() => Promise<unknown>) | undefined;
  private probing = false;
  private checking = false;
  private again = false;
  private since: number;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly listeners: Array<(status: NodeStatus, change: LevelChange) => void> = [];
  private readonly checkMs: number;
  private readonly slowMs: number;

  constructor(private readonly o: NodeHealthOptions) {
    this.checkMs = o.checkIntervalMs ?? DEFAULT_HEALTH_CHECK_MS;
    this.slowMs = o.slowFaultMs ?? DEFAULT_SLOW_FAULT_MS;
    this.since = o.clock.now();
    this.breakers = new BreakerRegistry(o.clock);
    this.breakers.create('ml_inference', 'ml_inference');
    this.breakers.create('graph_db', 'graph_db');
    this.breakers.onEvent((n) => {
      if (n.type === 'state') this.check();
    });
    this.controller = new DegradationController({ clock: o.clock, ...(o.dwellMs === undefined ? {} : { dwellMs: o.dwellMs }) });
    this.controller.onChange((change) => {
      this.since = change.at;
      o.log?.[change.to > change.from ? 'warn' : 'info']({ from: change.from, to: change.to, cause: change.cause, down: change.down }, `degradation level L${change.to} (${LEVEL_NAMES[change.to]})`);
      const s = this.status();
      for (const l of [...this.listeners]) l(s, change);
    });
  }

  /** Starts the check rounds on the clock. */
  start(): void {
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const dep of [...this.faults.keys()]) this.endFault(dep);
    this.breakers.stop();
  }

  // --- signals -------------------------------------------------------------------------

  /** The batch writers' events: a table refusing writes takes tsdb down until it is 'up'. */
  writerEvent(e: WriterEvent): void {
    if (e.type === 'down') this.downTables.add(e.table);
    else if (e.type === 'up') this.downTables.delete(e.table);
    else return;
    this.check();
  }

  /** The cache's L2 state, read each round (undefined probe: no L2 configured, nothing to watch). */
  watchCache(up: () => boolean): void {
    this.cacheUp = up;
  }

  /** A cheap graph call to probe a half-open graph_db breaker with (nobody else may call soon). */
  watchGraph(probe: () => Promise<unknown>): void {
    this.graphProbe = probe;
  }

  /** An ingest-log append's outcome: an IngestLogError (not a refused input) takes the bus down. */
  logAppend(err?: unknown): void {
    const down = err instanceof IngestLogError && err.reason !== 'bad-input' && err.reason !== 'closed';
    if (err !== undefined && !down) return;
    if (down === this.busDown) return;
    this.busDown = down;
    this.check();
  }

  /** Runs a graph call through the graph_db breaker, after the graph's injected fault if any. */
  guardGraph<T>(fn: () => Promise<T>): Promise<T> {
    return this.breakers.require('graph_db').call(async () => {
      await this.gate('graph');
      return fn();
    });
  }

  // --- injected faults -----------------------------------------------------------------

  inject(dependency: string, mode: string, durationMs: number): Fault {
    if (!(DEPENDENCIES as readonly string[]).includes(dependency)) throw new VigilError('BAD_REQUEST', `dependency must be one of ${DEPENDENCIES.join(', ')} (got "${dependency}")`);
    if (!(FAULT_MODES as readonly string[]).includes(mode)) throw new VigilError('BAD_REQUEST', `mode must be one of ${FAULT_MODES.join(', ')} (got "${mode}")`);
    if (!Number.isInteger(durationMs) || durationMs < 1 || durationMs > MAX_FAULT_MS) throw new VigilError('BAD_REQUEST', `durationMs must be an integer in 1..${MAX_FAULT_MS}`);
    const dep = dependency as Dependency;
    if (this.faults.has(dep)) this.endFault(dep, false);
    const fault: Fault = { dependency: dep, mode: mode as FaultMode, until: this.o.clock.now() + durationMs };
    this.faults.set(dep, fault);
    this.o.log?.warn({ fault }, 'fault injected');
    this.check();
    return { ...fault };
  }

  /** Ends every injected fault now; returns how many there were. */
  clearFaults(): number {
    const n = this.faults.size;
    for (const dep of [...this.faults.keys()]) this.endFault(dep, false);
    if (n > 0) this.check();
    return n;
  }

  /** What a model call meets: the error to throw while the model has an injected 'fail' or 'hang' fault (a model call is synchronous: 'slow' only marks it down). */
  modelFault(): Error | undefined {
    const f = this.activeFault('model');
    return f && f.mode !== 'slow' ? new InjectedFaultError('model', f.mode) : undefined;
  }

  activeFault(dep: Dependency): Fault | undefined {
    const f = this.faults.get(dep);
    return f && f.until > this.o.clock.now() ? f : undefined;
  }

  /**
   * What a wrapped call of `dep` meets before it runs: nothing without a fault; 'fail' rejects;
   * 'slow' waits DEFAULT_SLOW_FAULT_MS on the clock and goes on; 'hang' waits until the fault
   * ends, then rejects (a hang that never ended would hold a request forever).
   */
  async gate(dep: Dependency): Promise<void> {
    const f = this.activeFault(dep);
    if (!f) return;
    if (f.mode === 'fail') throw new InjectedFaultError(dep, f.mode);
    if (f.mode === 'slow') {
      await new Promise<void>((r) => this.o.clock.setTimeout(r, this.slowMs));
      return;
    }
    await new Promise<void>((r) => {
      const list = this.hung.get(dep) ?? [];
      list.push(r);
      this.hung.set(dep, list);
    });
    throw new InjectedFaultError(dep, f.mode);
  }

  // --- operator ------------------------------------------------------------------------

  degrade(level: unknown, forMs: number): NodeStatus {
    const l = parseLevel(level);
    if (l === 0) this.controller.clearOverride();
    else this.controller.override(l, forMs);
    this.schedule();
    return this.status();
  }

  breaker(name: string, command: string): BreakerState {
    const state = this.breakers.command(name, command);
    this.check();
    return state;
  }

  // --- reading -------------------------------------------------------------------------

  status(): NodeStatus {
    const s = this.controller.status();
    const down = new Set(s.down);
    const dependencies = Object.fromEntries(DEPENDENCIES.map((d) => [d, down.has(d) ? 'down' : 'up'])) as Record<Dependency, 'up' | 'down'>;
    return {
      level: s.level, levelName: LEVEL_NAMES[s.level], since: this.since,
      ...(s.override ? { override: s.override } : {}),
      breakers: this.breakers.states(), dependencies,
      faults: [...this.faults.values()].map((f) => ({ ...f })),
    };
  }

  get level(): Level {
    return this.controller.level;
  }

  onChange(listener: (status: NodeStatus, change: LevelChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // --- the round -----------------------------------------------------------------------

  /** One check round: expire faults, read the signals, feed the controller, plan the next round. */
  check(): void {
    if (this.stopped) return;
    if (this.checking) {
      this.again = true; // a breaker changed state during this round: run one more
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        this.round();
      } while (this.again);
    } finally {
      this.checking = false;
    }
    this.probeGraph();
    this.schedule();
  }

  private round(): void {
    const now = this.o.clock.now();
    for (const f of [...this.faults.values()]) if (f.until <= now) this.endFault(f.dependency);
    const health: Partial<Record<Dependency, boolean>> = {};
    for (const dep of this.faults.keys()) health[dep] = false;
    if (this.downTables.size > 0) health.tsdb = false;
    if (this.busDown) health.bus = false;
    if (this.cacheUp && !this.cacheUp()) health.cache = false;
    this.controller.observe({ health, breakers: this.breakers.states() });
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    let at = now + this.checkMs;
    const next = this.controller.nextChangeAt();
    if (next !== undefined) at = Math.min(at, Math.max(now, next));
    for (const f of this.faults.values()) at = Math.min(at, Math.max(now, f.until));
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, at - now);
  }

  /** A half-open graph_db breaker needs a call to close: probe it rather than wait for a client. */
  private probeGraph(): void {
    const b = this.breakers.get('graph_db');
    if (!b || b.state !== 'halfOpen' || !this.graphProbe || this.probing) return;
    this.probing = true;
    const probe = this.graphProbe;
    this.guardGraph(probe).catch(() => undefined).finally(() => {
      this.probing = false;
    });
  }

  /**
   * Ends a fault: releases hung calls, and closes the node's breakers it opened (an injected
   * outage is declared over, so waiting out the 60 s reset as for a real one would only delay
   * the test of recovery; a breaker an operator forced stays as it is).
   */
  private endFault(dep: Dependency, log = true): void {
    if (!this.faults.delete(dep)) return;
    for (const release of this.hung.get(dep) ?? []) release();
    this.hung.delete(dep);
    for (const name of this.breakers.names()) {
      const b = this.breakers.get(name)!;
      if (dependencyOfBreaker(name) === dep && (b.state === 'open' || b.state === 'halfOpen')) b.reset();
    }
    if (log) this.o.log?.info({ dependency: dep }, 'injected fault ended');
  }
}
