// The node's side of tenant configuration (api/tenancy): the registry's answers reach the
// series limits, the tenant actors' detection settings and the store's retention, and keep
// reaching them when the tenants file or the admin API changes a tenant.
// Detection settings (tier, sensitivity, limits per metric) reach a running tenant's series
// at their next batch (actors/service/service-state.ts, reconfigure); series limits,
// retention, keys and quotas apply to the next request.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../actors/runtime/index.ts';
import type { BudgetLimits, TenantSettings } from '../actors/tenant/index.ts';
import { defaultDetectionTier, largeWithoutNodes, openTenancy, pinnedOn, type GatewayTenancy, type QuotaGate, type SharedTenants, type Tenancy, type TenantSpec } from '../api/index.ts';
import type { SeriesLimits, TenantLimits, VigilConfig } from '../cluster/index.ts';
import type { AuditLog } from '../storage/audit/index.ts';
import { DEFAULT_RAW_RETENTION_DAYS } from '../storage/tsdb/index.ts';

export interface NodeTenancy {
  tenancy: Tenancy;
  quotas: QuotaGate;
  /** every tenant's id, node config and tenants file alike */
  ids(): string[];
  limitsOf(tenant: string): TenantLimits;
  /** detection settings of a known tenant (undefined: unknown, its messages are dropped) */
  settingsOf(tenant: string): TenantSettings | undefined;
  /** a medium tenant's budget: its tenants-file `budget` over `base`, field by field; undefined for any other tenant */
  budgetOf(tenant: string, base: Readonly<BudgetLimits>): BudgetLimits | undefined;
  /** the tenants `node` hosts exclusively: `configured` (cluster.pinnedTenants) and the large tenants naming it in `nodes` */
  pinnedOn(node: string, configured: readonly string[]): string[];
  /** the large tenants that name no nodes: placed on the nodes kept for them (cluster.dedicated) */
  largeWithoutNodes(): string[];
  gateway(limits: SeriesLimits, usageAcross?: GatewayTenancy['usageAcross']): GatewayTenancy;
  close(): Promise<void>;
}

export interface NodeTenancyDeps {
  clock: Clock;
  log: Logger;
  audit: Pick<AuditLog, 'append'>;
  store: { setRawRetention(tenant: string, days: number): Promise<void> };
  metrics: { node: Registry; tenant: Registry };
  env: NodeJS.ProcessEnv;
  /** cluster mode: the tenants text every node follows (cluster/shared-tenants.ts) */
  shared?: SharedTenants;
}

export async function openNodeTenancy(config: VigilConfig, deps: NodeTenancyDeps): Promise<NodeTenancy> {
  const { tenancy, quotas } = await openTenancy(config, {
    clock: deps.clock, log: deps.log, audit: deps.audit, metrics: deps.metrics,
    ...(deps.env.VIGIL_REDIS_URL ? { redisUrl: deps.env.VIGIL_REDIS_URL } : {}),
    ...(deps.shared ? { shared: deps.shared } : {}),
  });
  const registry = tenancy.registry;
  const settings = new Map<string, TenantSettings>();
  // asked for every batch: one object per spec and base (a change makes a new spec)
  const budgets = new WeakMap<TenantSpec, { base: Readonly<BudgetLimits>; limits: BudgetLimits }>();
  const retain = (spec: TenantSpec): void => {
    deps.store.setRawRetention(spec.id, spec.rawRetentionDays ?? DEFAULT_RAW_RETENTION_DAYS)
      .catch((err: unknown) => deps.log.warn({ err, tenant: spec.id }, 'tenant retention not applied'));
  };
  for (const v of registry.list()) if (v.spec.rawRetentionDays !== undefined) retain(v.spec);
  registry.onChange((change) => {
    settings.clear();
    for (const spec of [...change.added, ...change.changed.map((c) => c.after)]) retain(spec);
  });

  return {
    tenancy,
    quotas,
    ids: () => registry.list().map((v) => v.spec.id),
    limitsOf: (tenant) => {
      const spec = registry.get(tenant);
      return {
        maxSeries: spec?.maxSeries ?? config.limits.maxSeriesPerTenant,
        maxServices: spec?.maxServices ?? config.limits.maxServicesPerTenant,
      };
    },
    settingsOf: (tenant) => {
      let s = settings.get(tenant);
      const spec = registry.get(tenant);
      if (s || !spec) return s;
      s = {
        id: spec.id, tier: defaultDetectionTier(spec, config.detection.tier),
        metricTiers: new Map(Object.entries(spec.metricTiers ?? {})),
        warmupMs: config.detection.warmupMs,
        ...(spec.metricSensitivity ? { metricSensitivity: new Map(Object.entries(spec.metricSensitivity)) } : {}),
        ...(spec.metricLimits ? { metricLimits: new Map(Object.entries(spec.metricLimits)) } : {}),
      };
      settings.set(tenant, s);
      return s;
    },
    budgetOf: (tenant, base) => {
      const spec = registry.get(tenant);
      if (spec?.tier !== 'medium') return undefined;
      const known = budgets.get(spec);
      if (known?.base === base) return known.limits;
      const limits = { ...base, ...spec.budget };
      budgets.set(spec, { base, limits });
      return limits;
    },
    pinnedOn: (node, configured) => pinnedOn(node, registry.list().map((v) => v.spec), configured),
    largeWithoutNodes: () => largeWithoutNodes(registry.list().map((v) => v.spec)),
    gateway: (limits, usageAcross) => ({ tenancy, quotas, held: (tenant) => limits.held(tenant), limits: config.limits, node: config.node.id, ...(usageAcross ? { usageAcross } : {}) }),
    close: async () => {
      tenancy.close();
      await quotas.close();
    },
  };
}
