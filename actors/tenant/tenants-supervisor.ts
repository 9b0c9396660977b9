// The tenant supervisor: parent of every TenantActor on this node (one_for_one, so one
// tenant's failure never restarts another's). It spawns a TenantActor on first use.
import type { ActorContext, Behavior } from '../runtime/index.ts';
import type { SupervisionOptions } from '../runtime/index.ts';
import type { SeriesSnapshot, StatePacker } from '../service/index.ts';
import { SNAPSHOT_ASK_TIMEOUT_MS, tenantBehavior, type TenantDeps, type TenantMsg, type TenantSettings } from './tenant-actor.ts';

/** Detector state by tenant, then by service. */
export type TenantSnapshots = Map<string, Map<string, SeriesSnapshot[]>>;

export type TenantsMsg =
  | { type: 'to-tenant'; tenant: string; msg: TenantMsg }
  | { type: 'broadcast'; msg: TenantMsg }
  /** the detector state of these tenants (live, passivated or restored and not yet woken) */
  | { type: 'snapshot'; tenants: readonly string[]; pack: (tenant: string) => StatePacker; reply: (state: Map<string, Uint8Array[]>) => void };

export interface TenantsDeps extends Omit<TenantDeps, 'settings' | 'restored'> {
  /** settings of a known tenant; undefined for an unknown one (its messages are dropped) */
  tenantSettings: (tenant: string) => TenantSettings | undefined;
  supervision: SupervisionOptions;
  /** state restored from snapshots at start: a tenant takes its part when it is first spawned */
  restored?: TenantSnapshots;
  /** the detectors a tenant's actors use, given the node's (budget-gates.ts meters a budgeted tenant's); default the node's */
  detectorsOf?: (tenant: string, detectors: TenantDeps['detectors']) => TenantDeps['detectors'];
}

export function tenantsBehavior(deps: TenantsDeps): Behavior<TenantsMsg, null> {
  const restored: TenantSnapshots = new Map(deps.restored ?? []);

  /** Asks each live tenant (in mailbox order); the others answer from what was restored. */
  const snapshot = async (ctx: ActorContext<TenantsMsg>, msg: Extract<TenantsMsg, { type: 'snapshot' }>): Promise<void> => {
    const out = new Map<string, Uint8Array[]>();
    await Promise.all(msg.tenants.map(async (tenant) => {
      const ref = ctx.child<TenantMsg>(tenant);
      const pack = msg.pack(tenant);
      if (ref) out.set(tenant, await ref.ask<Uint8Array[]>((r) => ({ type: 'snapshot', pack, reply: r }), SNAPSHOT_ASK_TIMEOUT_MS));
      else if (restored.has(tenant)) out.set(tenant, [pack([...restored.get(tenant)!.values()].flat())]);
    }));
    msg.reply(out);
  };

  return {
    kind: 'tenant-supervisor',
    supervision: deps.supervision,
    init: () => null,
    // after a restart of this supervisor: each tenant's queued messages go to its new incarnation
    readopt(state, child, messages, ctx) {
      for (const m of messages) route(ctx, child, m as TenantMsg);
      return state;
    },
    receive(state, msg, ctx) {
      if (msg.type === 'broadcast') {
        for (const name of ctx.children()) ctx.child<TenantMsg>(name)?.tell(msg.msg);
        return state;
      }
      if (msg.type === 'snapshot') {
        // Every tenant is asked before this turn ends (so the state is as of the ask), and the
        // answers are gathered outside it: batches for other tenants are not held behind a slow
        // one. No answer: the checkpoint's own ask fails (see SNAPSHOT_ASK_TIMEOUT_MS).
        snapshot(ctx, msg).catch((err: unknown) => ctx.log.warn({ err }, 'a tenant did not give its state: this checkpoint of its shard fails'));
        return state;
      }
      route(ctx, msg.tenant, msg.msg);
      return state;
    },
  };

  function route(ctx: ActorContext<TenantsMsg>, tenant: string, msg: TenantMsg): void {
    let ref = ctx.child<TenantMsg>(tenant);
    if (!ref) {
      const settings = deps.tenantSettings(tenant);
      if (!settings) {
        ctx.log.warn({ tenant }, 'message for an unknown tenant dropped');
        if (msg.type === 'ingest') msg.receipt?.settle();
        return;
      }
      const saved = restored.get(tenant);
      restored.delete(tenant);
      const detectors = deps.detectorsOf?.(tenant, deps.detectors) ?? deps.detectors;
      ref = ctx.spawn(tenant, tenantBehavior({ ...deps, detectors, settings, currentSettings: () => deps.tenantSettings(tenant), restored: saved ?? new Map<string, SeriesSnapshot[]>() }));
    }
    ref.tell(msg);
  }
}

/** The tenant an actor path below the tenant supervisor at `supervisorPath` belongs to. */
export function tenantOfPath(path: string, supervisorPath: string): string | undefined {
  if (!path.startsWith(`${supervisorPath}/`)) return undefined;
  const rest = path.slice(supervisorPath.length + 1);
  const end = rest.indexOf('/');
  return end < 0 ? rest : rest.slice(0, end);
}
