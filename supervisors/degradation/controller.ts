// The degradation controller: derives the level from health checks and breaker states, with
// hysteresis, and an operator override that expires. Pure apart from reading the injected
// clock: it sets no timers. The host calls observe() with each round of health checks and
// tick() at nextChangeAt() (or on its check interval), and broadcasts what onChange reports.
//
// Hysteresis: a worse level applies at once (failing fast is safe); a better one only after
// it has held continuously for `dwellMs`. Each level keeps the time since which the raw level
// has been at or below it, so a flapping store keeps the node down until it is steady.
import { VigilError } from '../../protocols/index.ts';
import type { Clock } from '../../actors/runtime/types.ts';
import type { BreakerState } from '../breakers/machine.ts';
import { LEVELS, type Level } from './levels.ts';
import { DEPENDENCIES, breakerSaysDown, dependencyOfBreaker, levelFor, type Dependency } from './mapping.ts';

/** 30 s: longer than a breaker's shortest reset timeout, short beside an incident. */
export const DEFAULT_RECOVERY_DWELL_MS = 30_000;

export interface DegradationInput {
  /** health checks: false = down; a dependency left out counts as up; an unknown name is BAD_REQUEST */
  health?: Partial<Record<Dependency, boolean>>;
  /** breaker states by name (a BreakerRegistry's states()); mapped by `breakerDependency` */
  breakers?: Readonly<Record<string, BreakerState>>;
}

export interface DegradationOptions {
  clock: Clock;
  dwellMs?: number;
  /** which dependency a breaker guards (default: by name, see BREAKER_DEPENDENCY) */
  breakerDependency?: (name: string) => Dependency | undefined;
}

export type LevelChangeCause = 'fault' | 'recovery' | 'override' | 'override_expired' | 'override_cleared';

export interface LevelChange {
  from: Level;
  to: Level;
  at: number;
  cause: LevelChangeCause;
  /** dependencies down when it changed */
  down: Dependency[];
}

export interface DegradationStatus {
  /** what every stage reads: max(derived, override) */
  level: Level;
  /** the level from faults, after hysteresis */
  derived: Level;
  /** the level the latest input alone gives */
  raw: Level;
  down: Dependency[];
  override?: { level: Level; until: number };
}

export class DegradationController {
  private readonly dwellMs: number;
  private readonly dependencyOf: (name: string) => Dependency | undefined;
  private down: Dependency[] = [];
  private raw: Level = 0;
  private derived: Level = 0;
  private current: Level = 0;
  /** per level: since when the raw level has been at or below it (undefined: it is above) */
  private readonly atOrBelowSince: Array<number | undefined>;
  private forced: { level: Level; until: number } | undefined;
  private readonly listeners: Array<(change: LevelChange) => void> = [];

  constructor(private readonly options: DegradationOptions) {
    this.dwellMs = options.dwellMs ?? DEFAULT_RECOVERY_DWELL_MS;
    if (!(this.dwellMs >= 0) || !Number.isFinite(this.dwellMs)) throw new VigilError('CONFIG_INVALID', `degradation dwellMs must be >= 0 (got ${this.dwellMs})`);
    this.dependencyOf = options.breakerDependency ?? dependencyOfBreaker;
    const now = options.clock.now();
    this.atOrBelowSince = LEVELS.map(() => now);
  }

  get level(): Level {
    return this.current;
  }

  /** A new round of health checks and breaker states. */
  observe(input: DegradationInput): LevelChange | undefined {
    const down = new Set<Dependency>();
    for (const [dep, up] of Object.entries(input.health ?? {})) {
      if (!(DEPENDENCIES as readonly string[]).includes(dep)) {
        throw new VigilError('BAD_REQUEST', `unknown dependency "${dep}" (known: ${DEPENDENCIES.join(', ')})`);
      }
      if (up === false) down.add(dep as Dependency);
    }
    for (const [name, state] of Object.entries(input.breakers ?? {})) {
      const dep = this.dependencyOf(name);
      if (dep !== undefined && breakerSaysDown(state)) down.add(dep);
    }
    this.down = DEPENDENCIES.filter((d) => down.has(d));
    this.raw = levelFor(down);
    return this.tick();
  }

  /** Re-judges the latest input at the clock's now (dwell ends, override expiry). */
  tick(): LevelChange | undefined {
    const now = this.options.clock.now();
    for (const l of LEVELS) {
      if (this.raw > l) this.atOrBelowSince[l] = undefined;
      else this.atOrBelowSince[l] ??= now;
    }
    let cause: LevelChangeCause | undefined;
    if (this.raw > this.derived) {
      this.derived = this.raw;
      cause = 'fault';
    } else {
      for (const l of LEVELS) {
        if (l >= this.derived) break;
        const since = this.atOrBelowSince[l];
        if (since !== undefined && now - since >= this.dwellMs) {
          this.derived = l;
          cause = 'recovery';
          break;
        }
      }
    }
    if (this.forced && now >= this.forced.until) {
      this.forced = undefined;
      cause ??= 'override_expired';
    }
    return this.settle(cause ?? 'recovery', now);
  }

  /** Operator: hold the level at least at `level` for `forMs` (`vigil ctl degrade --level N --for 10m`). */
  override(level: Level, forMs: number): LevelChange | undefined {
    if (!LEVELS.includes(level)) throw new VigilError('BAD_REQUEST', `level must be 0..4 (got ${String(level)})`);
    if (!(forMs > 0) || !Number.isFinite(forMs)) throw new VigilError('BAD_REQUEST', `override duration must be > 0 ms (got ${forMs})`);
    const now = this.options.clock.now();
    this.forced = { level, until: now + forMs };
    return this.settle('override', now);
  }

  /** Operator: drop the override now. */
  clearOverride(): LevelChange | undefined {
    if (!this.forced) return undefined;
    this.forced = undefined;
    return this.settle('override_cleared', this.options.clock.now());
  }

  /** When a tick() could change the level if nothing else changes (a dwell's end, the override's expiry). */
  nextChangeAt(): number | undefined {
    let next: number | undefined = this.forced?.until;
    for (const l of LEVELS) {
      if (l >= this.derived) break;
      const since = this.atOrBelowSince[l];
      if (since !== undefined) next = Math.min(next ?? Infinity, since + this.dwellMs);
    }
    return next;
  }

  status(): DegradationStatus {
    const s: DegradationStatus = { level: this.current, derived: this.derived, raw: this.raw, down: [...this.down] };
    if (this.forced) s.override = { ...this.forced };
    return s;
  }

  onChange(listener: (change: LevelChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private settle(cause: LevelChangeCause, at: number): LevelChange | undefined {
    const to = Math.max(this.derived, this.forced?.level ?? 0) as Level;
    if (to === this.current) return undefined;
    const change: LevelChange = { from: this.current, to, at, cause, down: [...this.down] };
    this.current = to;
    for (const l of [...this.listeners]) l(change);
    return change;
  }
}
