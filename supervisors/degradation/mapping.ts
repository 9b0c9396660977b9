// From what is down to a level: the rules of DESIGN.md §1 as one pure function.
import type { BreakerState } from '../breakers/machine.ts';
import type { Level } from './levels.ts';

/** The dependencies the level depends on (the fault-injection names). */
export type Dependency = 'model' | 'graph' | 'tsdb' | 'cache' | 'bus' | 'webhook';
export const DEPENDENCIES: readonly Dependency[] = ['model', 'graph', 'tsdb', 'cache', 'bus', 'webhook'];

/**
 * The level for a set of failed dependencies:
 * - the time-series store and the ingest log/bus both down: L4 (nothing durable is left)
 * - either of them down: L3 (storage degraded, alerts pass straight through)
 * - the model runtime and the graph store down: L2 (rules, time-based correlation)
 * - the model runtime down: L1 (statistical detection)
 * - the graph store alone: L0 (the graph_db breaker's fallback is the cached topology)
 * - the cache alone: L0 (L1 in process and the origin carry on)
 * - webhooks alone: L0 (deliveries queue for retry)
 */
export function levelFor(down: ReadonlySet<Dependency>): Level {
  if (down.has('tsdb') && down.has('bus')) return 4;
  if (down.has('tsdb') || down.has('bus')) return 3;
  if (down.has('model') && down.has('graph')) return 2;
  if (down.has('model')) return 1;
  return 0;
}

/** Which dependency a breaker guards, by its name's first segment ("ml_inference/acme" -> model). */
export const BREAKER_DEPENDENCY: Readonly<Record<string, Dependency>> = Object.freeze({
  ml_inference: 'model', model: 'model',
  graph_db: 'graph', graph: 'graph',
  external_integrations: 'webhook', webhook: 'webhook',
  tsdb: 'tsdb', cache: 'cache', bus: 'bus',
});

export function dependencyOfBreaker(name: string): Dependency | undefined {
  const head = name.split(/[/:]/, 1)[0] ?? name;
  return Object.hasOwn(BREAKER_DEPENDENCY, head) ? BREAKER_DEPENDENCY[head] : undefined;
}

/** A breaker that refuses calls, or only probes, says its dependency is down; disabled says nothing. */
export function breakerSaysDown(state: BreakerState): boolean {
  return state === 'open' || state === 'forcedOpen' || state === 'halfOpen';
}
