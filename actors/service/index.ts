// actors/service/: the ServiceActor and its pure detection state.
export { serviceBehavior } from './service-actor.ts';
export type { ServiceMsg, ServiceDeps } from './service-actor.ts';
export { ServiceDetection, aroundUpdates } from './service-state.ts';
export type { DetectorFactory, MetricDetection, SeriesSnapshot, SeriesState, StatePacker } from './service-state.ts';
export { RULES, RuleWindow } from './rules.ts';
export type { RuleHit, RuleName, StaticLimit } from './rules.ts';
