// The degradation levels of DESIGN.md §1 and what every stage does at each: one table that
// detection, RCA, correlation, runbooks and alerting all read, so no stage keeps its own idea
// of what "L2" means.
import { VigilError } from '../../protocols/index.ts';

export type Level = 0 | 1 | 2 | 3 | 4;
export const LEVELS: readonly Level[] = [0, 1, 2, 3, 4];

/**
 * The one way a stage reads the node's level: a function it calls when it decides (once per
 * batch, per alert, per RCA run), never a copy it keeps, so a change applies at the next
 * decision without a message to every actor. The node passes NodeHealth's `() => health.level`;
 * tests and the sim pass a constant or a variable of their own. Read with `capabilities(level())`.
 */
export type LevelSource = () => Level;

/** L0 for hosts that watch no dependencies (tests, `vigil detect`, the sim's default). */
export const FULL_SERVICE: LevelSource = () => 0;

export const LEVEL_NAMES: Readonly<Record<Level, string>> = Object.freeze({
  0: 'full', 1: 'reduced_ml', 2: 'no_ml', 3: 'storage_degraded', 4: 'emergency',
});

export interface StageCapabilities {
  /** ml: every tier's models; statistical: Basic/Agile scores, models benched; rule: static thresholds and rules; static: fallback alerts only */
  detection: 'ml' | 'statistical' | 'rule' | 'static';
  /** causal: Bayesian over the topology; correlation: co-movement ranking; rule: configured rules */
  rca: 'causal' | 'correlation' | 'rule' | 'none';
  /** how alerts group into incidents */
  correlation: 'topology' | 'time' | 'none';
  runbooks: 'automatic' | 'suggested' | 'none';
  /** incidents: alerts go through correlation; pass_through: each alert straight to the notifier; static_fallback: canned alerts */
  alerting: 'incidents' | 'pass_through' | 'static_fallback';
  /** who is told: the tenant's routing rules, the on-call directly, or the SRE team too */
  notify: 'routing' | 'on_call' | 'sre_team';
  statusPage: boolean;
}

export const CAPABILITIES: Readonly<Record<Level, Readonly<StageCapabilities>>> = Object.freeze({
  0: { detection: 'ml', rca: 'causal', correlation: 'topology', runbooks: 'automatic', alerting: 'incidents', notify: 'routing', statusPage: false },
  1: { detection: 'statistical', rca: 'correlation', correlation: 'topology', runbooks: 'automatic', alerting: 'incidents', notify: 'routing', statusPage: false },
  2: { detection: 'rule', rca: 'rule', correlation: 'time', runbooks: 'suggested', alerting: 'incidents', notify: 'routing', statusPage: false },
  3: { detection: 'rule', rca: 'none', correlation: 'none', runbooks: 'none', alerting: 'pass_through', notify: 'on_call', statusPage: false },
  4: { detection: 'static', rca: 'none', correlation: 'none', runbooks: 'none', alerting: 'static_fallback', notify: 'sre_team', statusPage: true },
});

/** What every stage does at `level`. */
export function capabilities(level: Level): Readonly<StageCapabilities> {
  return CAPABILITIES[level];
}

/** A level from outside (CLI, HTTP): an integer 0..4 or "L0".."L4"; BAD_REQUEST otherwise. */
export function parseLevel(v: unknown): Level {
  const n = typeof v === 'string' ? Number(v.replace(/^L/i, '')) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 4) return n as Level;
  throw new VigilError('BAD_REQUEST', `level must be 0..4 or L0..L4 (got ${JSON.stringify(v)})`);
}
