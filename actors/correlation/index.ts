// actors/correlation/: alerts → incidents. Pure logic here; the actor that hosts it
// is correlator-actor.ts.
export { TenantCorrelation, DEFAULT_CRITICAL_SCORE, DEDUP_MEMORY } from './correlation.ts';
export type { CorrelationEffect, CorrelationSettings } from './correlation.ts';
export { correlatorBehavior } from './correlator-actor.ts';
export type { CorrelatorMsg, CorrelatorDeps, OpenIncidents } from './correlator-actor.ts';
