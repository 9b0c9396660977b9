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
export { addressAllowed, allowedBy, isInternalAddress } from './destinations.ts';
export type { DestinationPolicy } from './destinations.ts';
export { RUNBOOK_ID, RUNBOOK_LIMITS, RunbookInvalid, parseRunbookYaml, parseRunbooksYaml, checkRunbookJson, placeText } from './schema.ts';
export type { RunbookOrigin } from './schema.ts';
export { AUTOMATION_ACTOR, RUNBOOK_AUDIT, advance, contextOf, createRun, isEnded, resumeEffects, view } from './run.ts';
export type { NewRun, OutgoingRequest, RunEffect, RunEvent, RunTime, Transition } from './run.ts';
// the hosts: the HTTP client, the deliveries (retry, breakers, queue), the stores, the actors
export { DestinationRefused, MAX_ANSWER_BYTES, USER_AGENT, httpSender, sendHttp } from './http-client.ts';
export type { Resolve } from './http-client.ts';
export type { SendRequest, WebhookAnswer } from './http-client.ts';
export { DESTINATION_BREAKER, Deliveries } from './deliveries.ts';
export type { DeliveriesOptions, DeliveryOutcome } from './deliveries.ts';
export { DEFAULT_KEPT_RUNS, FileRunbooks, MemoryRunbooks, RunStore, restoredRunbooks, savedRunbooks } from './stores.ts';
export type { RunQuery, RunbookStore, SavedRunbook } from './stores.ts';
export { runBehavior } from './run-actor.ts';
export type { RunDeps, RunHost, RunMsg } from './run-actor.ts';
export { automationBehavior, tenantAutomationBehavior, UNFINISHED_RETRY_AFTER_S } from './tenant-automation.ts';
export type { AutomationMsg, TenantAutomationHost, TenantAutomationMsg } from './tenant-automation.ts';
export { AUTOMATION, DEFAULT_APPROVAL_WINDOW_MS, DEFAULT_MAX_UNFINISHED_RUNS, RunbookAutomation } from './automation.ts';
export type { AuditNote, AutomationDesk, AutomationOptions, AutomationStatus, RunbookSummary } from './automation.ts';
