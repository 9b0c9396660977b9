// The breakers a node owns, by name: the states for /v1/status, operator commands for
// `vigil ctl breaker <name> open|close|disable`, one listener for every breaker's notices,
// and rows for /metrics. Per-service breakers may live here too (created lean).
import { VigilError } from '../../protocols/index.ts';
import type { Clock } from '../../actors/runtime/types.ts';
import { CircuitBreaker, LeanBreaker, createBreaker, type Breaker, type BreakerOptions } from './breaker.ts';
import { BREAKER_STATE_CODE, type BreakerCounters, type BreakerListener } from './events.ts';
import type { BreakerState } from './machine.ts';
import { BREAKERS, type BreakerDependency, type BreakerParams } from './params.ts';

export type BreakerCommand = 'open' | 'close' | 'disable';
export const BREAKER_COMMANDS: readonly BreakerCommand[] = ['open', 'close', 'disable'];

export interface BreakerMetricsRow extends BreakerCounters {
  name: string;
  state: BreakerState;
  /** BREAKER_STATE_CODE[state], for a gauge */
  stateCode: number;
}

export class BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();
  private readonly listeners: BreakerListener[] = [];
  private readonly unsubscribe = new Map<string, () => void>();

  constructor(private readonly clock: Clock) {}

  /** A breaker with a named configuration (DESIGN.md §1) or explicit parameters; names are unique. */
  create(name: string, config: BreakerDependency | BreakerParams, options: Omit<BreakerOptions, 'name'> = {}): Breaker {
    if (this.breakers.has(name)) throw new VigilError('CONFLICT', `breaker ${name} exists already`);
    let b: Breaker;
    if (typeof config === 'string') {
      if (!Object.hasOwn(BREAKERS, config)) throw new VigilError('CONFIG_INVALID', `breaker ${name}: unknown configuration "${config}" (known: ${Object.keys(BREAKERS).join(', ')})`);
      b = createBreaker(config, this.clock, { ...options, name });
    } else {
      b = options.lean ? new LeanBreaker(name, config, this.clock) : new CircuitBreaker(name, config, this.clock);
    }
    this.breakers.set(name, b);
    this.unsubscribe.set(name, b.onEvent((n) => {
      for (const l of this.listeners) l(n);
    }));
    return b;
  }

  get(name: string): Breaker | undefined {
    return this.breakers.get(name);
  }

  /** The breaker or NOT_FOUND (for operator commands naming one). */
  require(name: string): Breaker {
    const b = this.breakers.get(name);
    if (!b) throw new VigilError('NOT_FOUND', `no breaker named ${name} (known: ${[...this.breakers.keys()].sort().join(', ') || 'none'})`);
    return b;
  }

  names(): string[] {
    return [...this.breakers.keys()].sort();
  }

  /** {"<name>": state}, sorted by name: the `breakers` field of /v1/status. */
  states(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const name of this.names()) out[name] = this.breakers.get(name)!.state;
    return out;
  }

  /** Operator: open (forcedOpen), close (closed) or disable a breaker; returns its new state. */
  command(name: string, command: string): BreakerState {
    const b = this.require(name);
    switch (command) {
      case 'open':
        b.forceOpen();
        break;
      case 'close':
        b.reset();
        break;
      case 'disable':
        b.disable();
        break;
      default:
        throw new VigilError('BAD_REQUEST', `breaker command must be one of ${BREAKER_COMMANDS.join(', ')} (got "${command}")`);
    }
    return b.state;
  }

  /** Every notice of every breaker here; returns an unsubscribe function. */
  onEvent(listener: BreakerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  metrics(): BreakerMetricsRow[] {
    return this.names().map((name) => {
      const b = this.breakers.get(name)!;
      const state = b.state;
      return { name, state, stateCode: BREAKER_STATE_CODE[state], ...b.counters };
    });
  }

  remove(name: string): boolean {
    const b = this.breakers.get(name);
    if (!b) return false;
    this.unsubscribe.get(name)?.();
    this.unsubscribe.delete(name);
    b.stop();
    return this.breakers.delete(name);
  }

  stop(): void {
    for (const name of [...this.breakers.keys()]) this.remove(name);
  }
}
