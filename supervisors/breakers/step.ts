// The breaker machine without an actor: its own config (breakerMachine.config) compiled once
// into a lookup table and stepped over a plain mutable record. Same states, guards, context
// updates and delays as the xstate machine, so there is one definition and two executors; a
// test checks they agree on random event sequences. The reset delay is not a timer: the record
// keeps the time it is due and the next read or event at or after it takes the transition.
// Why: an xstate actor costs ~3.9 KB and ~5 µs per event; 100,000 breakers (one per
// tenant-service pair) need far less (bench/breakers.ts).
import { VigilError } from '../../protocols/index.ts';
import {
  BREAKER_DELAYS, BREAKER_GUARDS, BREAKER_STATES, BREAKER_UPDATES, breakerMachine,
  type BreakerContext, type BreakerEvent, type BreakerState,
} from './machine.ts';

type Guard = (c: BreakerContext, e: BreakerEvent) => boolean;
type Update = (c: Readonly<BreakerContext>, e: BreakerEvent, into: BreakerContext) => void;

export interface CompiledTransition {
  guard: Guard | undefined;
  target: BreakerState | undefined;
  actions: Update[];
}

export interface CompiledState {
  entry: Update[];
  on: Partial<Record<BreakerEvent['type'], CompiledTransition[]>>;
  after: { delay: (c: BreakerContext) => number; target: BreakerState } | undefined;
}

/** A breaker's whole state as plain data. */
export interface BreakerRecord {
  state: BreakerState;
  context: BreakerContext;
  /** when the pending delayed transition is due (Infinity: none) */
  dueAt: number;
}

interface RawTransition { guard?: unknown; target?: unknown; actions?: unknown; reenter?: unknown }
interface RawState { entry?: unknown; exit?: unknown; on?: Record<string, RawTransition | RawTransition[]>; after?: Record<string, RawTransition> }

function unsupported(what: string): never {
  throw new VigilError('INTERNAL', `breaker stepper: the machine uses ${what}, which it does not interpret`);
}

function names(v: unknown): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return unsupported(`an inline action or guard (${JSON.stringify(v)})`);
}

function update(name: string): Update {
  const u = (BREAKER_UPDATES as Record<string, Update>)[name];
  return u ?? unsupported(`an unknown action "${name}"`);
}

function target(v: unknown): BreakerState | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && (BREAKER_STATES as readonly string[]).includes(v)) return v as BreakerState;
  return unsupported(`a target ${JSON.stringify(v)}`);
}

function transitionOf(t: RawTransition): CompiledTransition {
  if (t.reenter !== undefined) unsupported('reenter');
  const guards = names(t.guard);
  if (guards.length > 1) unsupported('several guards');
  const g = guards[0] === undefined ? undefined : (BREAKER_GUARDS as Record<string, Guard>)[guards[0]];
  if (guards[0] !== undefined && g === undefined) unsupported(`an unknown guard "${guards[0]}"`);
  return { guard: g, target: target(t.target), actions: names(t.actions).map(update) };
}

/** Compiles a breaker machine config (the machine's own by default); throws INTERNAL on what it cannot interpret. */
export function compileBreakerConfig(machineConfig: unknown = breakerMachine.config): Record<BreakerState, CompiledState> {
  const config = machineConfig as { initial?: unknown; states?: Record<string, RawState> };
  if (config.initial !== 'closed') unsupported('another initial state');
  const out = {} as Record<BreakerState, CompiledState>;
  for (const state of BREAKER_STATES) {
    const raw = config.states?.[state] ?? unsupported(`no state ${state}`);
    if (raw.exit !== undefined) unsupported('exit actions');
    const on: CompiledState['on'] = {};
    for (const [type, t] of Object.entries(raw.on ?? {})) {
      on[type as BreakerEvent['type']] = (Array.isArray(t) ? t : [t]).map(transitionOf);
    }
    let after: CompiledState['after'];
    const delays = Object.entries(raw.after ?? {});
    if (delays.length > 1) unsupported('several delays in one state');
    if (delays[0] !== undefined) {
      const [delayName, t] = delays[0];
      const delay = (BREAKER_DELAYS as Record<string, (c: BreakerContext) => number>)[delayName] ?? unsupported(`an unknown delay "${delayName}"`);
      const compiled = transitionOf(t);
      if (compiled.guard || compiled.actions.length > 0 || compiled.target === undefined) unsupported('a guarded delayed transition');
      after = { delay, target: compiled.target };
    }
    out[state] = { entry: names(raw.entry).map(update), on, after };
  }
  return out;
}

const TABLE = compileBreakerConfig();

function apply(c: BreakerContext, updates: Update[], e: BreakerEvent): void {
  for (let i = 0; i < updates.length; i++) updates[i]!(c, e, c);
}

/** The time of entry, read only by a state with a delay (the closed path never reads the clock). */
type Now = number | { now(): number };

function enter(r: BreakerRecord, state: BreakerState, e: BreakerEvent, at: Now): void {
  r.state = state;
  const s = TABLE[state];
  apply(r.context, s.entry, e);
  r.dueAt = s.after ? (typeof at === 'number' ? at : at.now()) + s.after.delay(r.context) : Infinity;
}

const INIT: BreakerEvent = { type: 'RESET' };

/** A record in the machine's initial state (its entry actions run, as xstate's start does). */
export function initialRecord(context: BreakerContext, now: number): BreakerRecord {
  const r: BreakerRecord = { state: 'closed', context: { ...context }, dueAt: Infinity };
  enter(r, 'closed', INIT, now);
  return r;
}

/** Takes the delayed transitions due by `now`; returns the states left, oldest first (usually none). */
export function advanceRecord(r: BreakerRecord, now: number, left?: BreakerState[]): BreakerState[] | undefined {
  while (r.dueAt !== Infinity && r.dueAt <= now) {
    const after = TABLE[r.state].after;
    if (!after) break;
    (left ??= []).push(r.state);
    enter(r, after.target, INIT, r.dueAt);
  }
  return left;
}

/**
 * Applies `event` at `now` (a time, or a clock read only if a delayed state is entered).
 * Due delayed transitions are the caller's (advanceRecord). Returns the state left when the
 * event changed the state, otherwise undefined. Mutates `r`.
 */
export function stepRecord(r: BreakerRecord, event: BreakerEvent, now: Now): BreakerState | undefined {
  const candidates = TABLE[r.state].on[event.type];
  if (!candidates) return undefined;
  for (let i = 0; i < candidates.length; i++) {
    const t = candidates[i]!;
    if (t.guard && !t.guard(r.context, event)) continue;
    apply(r.context, t.actions, event);
    if (t.target === undefined) return undefined;
    const from = r.state;
    enter(r, t.target, event, now);
    return from;
  }
  return undefined;
}
