// actors/automation/: runbooks. The pure core (schema, triggers, templates, conditions, the
// allow-list, a run's transitions) and the actors that host runs. See README.md.
export * from './runbook.ts';
export type { IncidentView, RunContext, StepOutput } from './context.ts';
export { checkPath, resolvePath } from './context.ts';
export { checkTemplate, renderJson, renderText } from './template.ts';
export { evaluate } from './condition.ts';
export { dueRunbooks, triggerMatches, triggeredRunId } from './trigger.ts';
export { IncidentViews, MAX_LABEL_PAIRS } from './incidents.ts';
export type { RootCauses } from './incidents.ts';
export { NO_DESTINATIONS, addressAllowed, allowedBy, destinationsOf, isInternalAddress } from './destinations.ts';
export type { DestinationPolicy } from './destinations.ts';
export { RUNBOOK_ID, RUNBOOK_LIMITS, RunbookInvalid, parseRunbookYaml, parseRunbooksYaml, checkRunbookJson, placeText } from './schema.ts';
export type { RunbookOrigin } from './schema.ts';
export { AUTOMATION_ACTOR, RUNBOOK_AUDIT, advance, contextOf, createRun, isEnded, resumeEffects, view } from './run.ts';
export type { NewRun, OutgoingRequest, RunEffect, RunEvent, RunTime, Transition } from './run.ts';
