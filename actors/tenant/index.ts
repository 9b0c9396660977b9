// actors/tenant/: the tenant supervisor and the TenantActor.
export { tenantBehavior, CORRELATOR, RCA, serviceActorName, SNAPSHOT_ASK_TIMEOUT_MS, SNAPSHOT_SERVICES_PER_TURN } from './tenant-actor.ts';
export type { TenantMsg, TenantDeps, TenantSettings } from './tenant-actor.ts';
export { tenantsBehavior, tenantOfPath } from './tenants-supervisor.ts';
export type { TenantsMsg, TenantsDeps, TenantSnapshots } from './tenants-supervisor.ts';
export { DroppedBatch, IngestReceipt, settleDropped } from '../ingest-receipt.ts';
export { TenantBudget, MEDIUM_BUDGET } from './budget.ts';
export type { BudgetLimits } from './budget.ts';
export { BudgetGates } from './budget-gates.ts';
export type { BudgetGatesDeps, GateView } from './budget-gates.ts';
