// The tenant supervisor: parent of every TenantActor on this node (one_for_one, so one
// tenant's failure never restarts another's). It spawns a TenantActor on first use.
import type { Behavior } from '../runtime/index.ts';
import type { SupervisionOptions } from '../runtime/index.ts';
import { tenantBehavior, type TenantDeps, type TenantMsg, type TenantSettings } from './tenant-actor.ts';

export type TenantsMsg =
  | { type: 'to-tenant'; tenant: string; msg: TenantMsg }
  | { type: 'broadcast'; msg: TenantMsg };

export interface TenantsDeps extends Omit<TenantDeps, 'settings'> {
  /** settings of a known tenant; undefined for an unknown one (its messages are dropped) */
  tenantSettings: (tenant: string) => TenantSettings | undefined;
  supervision: SupervisionOptions;
}

export function tenantsBehavior(deps: TenantsDeps): Behavior<TenantsMsg, null> {
  return {
    kind: 'tenant-supervisor',
    supervision: deps.supervision,
    init: () => null,
    receive(state, msg, ctx) {
      if (msg.type === 'broadcast') {
        for (const name of ctx.children()) ctx.child<TenantMsg>(name)?.tell(msg.msg);
        return state;
      }
      let ref = ctx.child<TenantMsg>(msg.tenant);
      if (!ref) {
        const settings = deps.tenantSettings(msg.tenant);
        if (!settings) {
          ctx.log.warn({ tenant: msg.tenant }, 'message for an unknown tenant dropped');
          return state;
        }
        ref = ctx.spawn(msg.tenant, tenantBehavior({ ...deps, settings }));
      }
      ref.tell(msg.msg);
      return state;
    },
  };
}
