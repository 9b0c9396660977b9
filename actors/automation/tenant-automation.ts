// A tenant's automation actor, `/root/automation/<tenant>`: it starts runs (one child actor
// each, named by the run id) when an incident comes to match a runbook, or when someone starts
// one by hand, and hands approvals and cancels to the run's actor. Its parent, the automation
// supervisor, spawns one per tenant on first use (one_for_one: a tenant's failure is its own).
import type { ActorContext, Behavior } from '../runtime/index.ts';
import { QuotaError, VigilError } from '../../protocols/index.ts';
import type { RunbookRun } from '../../protocols/runbooks.ts';
import type { IncidentView } from './context.ts';
import { isEnded, type NewRun, type Transition } from './run.ts';
import { runBehavior, type RunHost, type RunMsg } from './run-actor.ts';
import type { Runbook } from './runbook.ts';
import { dueRunbooks, triggeredRunId } from './trigger.ts';

export type TenantAutomationMsg =
  /** nothing but to be there: a spawned tenant actor resumes its unfinished runs */
  | { type: 'resume' }
  /** the incident's view changed: start what it now matches */
  | { type: 'check'; incidentId: string }
  | { type: 'start'; runbookId: string; incidentId: string; dryRun?: boolean; by: string; reply: (r: RunbookRun | VigilError) => void }
  | { type: 'approve' | 'cancel'; id: string; by: string; reply: (r: RunbookRun | VigilError) => void }
  | { type: 'ended'; id: string };

export type AutomationMsg = { type: 'to-tenant'; tenant: string; msg: TenantAutomationMsg };

/** What the tenant's actor reads beside what its runs need. */
export interface TenantAutomationHost extends RunHost {
  runbooks(tenant: string): Runbook[];
  runbook(tenant: string, id: string): Runbook | undefined;
  view(tenant: string, incidentId: string): IncidentView | undefined;
  /** the runs not ended, to resume when this actor (re)starts */
  unfinished(tenant: string): RunbookRun[];
  /** may runbooks act by themselves now (L0, L1)? If not, why not */
  mode(): { automatic: true } | { automatic: false; reason: string };
  level(): number;
  /** a run that cannot resume (its runbook changed or went while it was stopped): end it as failed */
  orphaned(run: RunbookRun, reason: string): void;
  /** a fresh id for a run started by hand */
  manualRunId(tenant: string, runbookId: string, incidentId: string): string;
  /** runs not ended the tenant may have at once (each is a child of its actor), read at each start */
  maxUnfinishedRuns(tenant: string): number;
}

/** Retry-After of a start refused at the bound: a cancel or an approve frees a place at once,
 * a run's own steps within seconds to minutes. */
export const UNFINISHED_RETRY_AFTER_S = 30;
/** Incidents whose triggered runs wait for a place, at most (the oldest is dropped, with a warning). */
const MAX_DEFERRED = 1_000;

/** The actor's state: incidents whose due runbooks did not start at the bound, oldest first;
 * they are looked at again as runs end. Not kept across a restart (the incident's next change
 * looks again). */
interface TenantAutomationState {
  deferred: Set<string>;
}

export function tenantAutomationBehavior(tenant: string, host: TenantAutomationHost): Behavior<TenantAutomationMsg, TenantAutomationState> {
  const spawn = (ctx: ActorContext<TenantAutomationMsg>, runbook: Runbook, id: string, incidentId: string, create?: NewRun): void => {
    ctx.spawn<RunMsg>(id, runBehavior({ tenant, id, incidentId, runbook, host, ...(create ? { create } : {}) }));
  };

  const newRun = (id: string, rb: Runbook, startedBy: string, dryRun: boolean): NewRun => {
    const mode = host.mode();
    const n: NewRun = { id, runbook: rb, startedBy, level: host.level(), dryRun, suggestOnly: false };
    // a run started by hand is a person's decision; one an incident started follows the level
    if (startedBy === 'trigger' && !mode.automatic && !dryRun) {
      n.suggestOnly = true;
      n.suggestReason = mode.reason;
    }
    return n;
  };

  const full = (ctx: ActorContext<TenantAutomationMsg>): boolean => ctx.children().length >= host.maxUnfinishedRuns(tenant);

  /** Starts the runbooks the incident now matches, while the tenant is under its bound; the
   * incident waits in `deferred` for what did not start. */
  const startDue = (ctx: ActorContext<TenantAutomationMsg>, state: TenantAutomationState, incidentId: string): void => {
    state.deferred.delete(incidentId);
    const view = host.view(tenant, incidentId);
    if (!view) return;
    const due = dueRunbooks(host.runbooks(tenant), view, (rbId) => {
      const id = triggeredRunId(tenant, rbId, view.id);
      return host.stored(tenant, id) !== undefined || ctx.child(id) !== undefined;
    });
    for (const [i, rb] of due.entries()) {
      if (full(ctx)) {
        defer(ctx, state, incidentId, due.length - i);
        return;
      }
      const id = triggeredRunId(tenant, rb.id, view.id);
      spawn(ctx, rb, id, view.id, newRun(id, rb, 'trigger', rb.dryRun));
    }
  };

  const defer = (ctx: ActorContext<TenantAutomationMsg>, state: TenantAutomationState, incidentId: string, waiting: number): void => {
    state.deferred.add(incidentId);
    ctx.log.warn({ tenant, incident: incidentId, runbooks: waiting, unfinished: ctx.children().length, max: host.maxUnfinishedRuns(tenant) }, 'runbook runs wait: the tenant has as many unfinished runs as it may; they start as runs end');
    if (state.deferred.size <= MAX_DEFERRED) return;
    const [oldest] = state.deferred;
    state.deferred.delete(oldest!);
    ctx.log.warn({ tenant, incident: oldest, max: MAX_DEFERRED }, 'runbook runs dropped: too many incidents wait for a place; the incident\'s next change looks again');
  };

  const toRun = (ctx: ActorContext<TenantAutomationMsg>, id: string, type: 'approve' | 'cancel', by: string, reply: (r: RunbookRun | VigilError) => void): void => {
    const stored = host.stored(tenant, id);
    if (!stored) {
      reply(new VigilError('NOT_FOUND', `runbook run ${id} not found`));
      return;
    }
    const ref = ctx.child<RunMsg>(id);
    if (!ref || isEnded(stored)) {
      reply(new VigilError('CONFLICT', `run ${id} is ${stored.status}: nothing to ${type}`));
      return;
    }
    ref.tell({ type, by, reply: (t: Transition) => reply(t.refused ? new VigilError('CONFLICT', t.refused) : t.run) });
  };

  return {
    kind: 'automation',
    supervision: { strategy: 'one_for_one' },
    init(ctx) {
      // runs accepted before a restart all resume, the bound or not: they were started
      for (const run of host.unfinished(tenant)) {
        const rb = host.runbook(tenant, run.runbookId);
        if (rb && rb.version === run.runbookVersion) spawn(ctx, rb, run.id, run.incidentId);
        else host.orphaned(run, rb ? `runbook ${run.runbookId} changed (version ${rb.version}) while the run was stopped` : `runbook ${run.runbookId} was deleted`);
      }
      return { deferred: new Set() };
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'check':
          startDue(ctx, state, msg.incidentId);
          break;
        case 'start': {
          const rb = host.runbook(tenant, msg.runbookId);
          if (!rb) {
            msg.reply(new VigilError('NOT_FOUND', `runbook ${msg.runbookId} not found`));
            break;
          }
          if (!host.view(tenant, msg.incidentId)) {
            msg.reply(new VigilError('NOT_FOUND', `incident ${msg.incidentId} is not one this node follows (an unresolved incident of this tenant)`));
            break;
          }
          if (full(ctx)) {
            const n = ctx.children().length;
            msg.reply(new QuotaError(`tenant ${tenant} has ${n} unfinished runbook runs, the most it may have on this node; cancel one (POST /v1/runbook-runs/{id}/cancel), approve what waits, or retry once one ends`, UNFINISHED_RETRY_AFTER_S));
            break;
          }
          const id = host.manualRunId(tenant, rb.id, msg.incidentId);
          spawn(ctx, rb, id, msg.incidentId, newRun(id, rb, msg.by, msg.dryRun ?? rb.dryRun));
          const run = host.stored(tenant, id);
          msg.reply(run ?? new VigilError('INTERNAL', `run ${id} did not start`));
          break;
        }
        case 'approve':
        case 'cancel':
          toRun(ctx, msg.id, msg.type, msg.by, msg.reply);
          break;
        case 'ended':
          if (ctx.child(msg.id)) ctx.stopChild(msg.id);
          // a place is free: the incidents that waited longest start what they still match
          for (const incidentId of [...state.deferred]) {
            if (full(ctx)) break;
            startDue(ctx, state, incidentId);
          }
          break;
        case 'resume':
          break;
      }
      return state;
    },
  };
}

/** The automation supervisor, `/root/automation`: one actor per tenant, spawned on first use. */
export function automationBehavior(host: TenantAutomationHost, known: (tenant: string) => boolean): Behavior<AutomationMsg, null> {
  return {
    kind: 'automation-supervisor',
    supervision: { strategy: 'one_for_one' },
    init: () => null,
    receive(state, msg, ctx) {
      let ref = ctx.child<TenantAutomationMsg>(msg.tenant);
      if (!ref) {
        if (!known(msg.tenant)) {
          const m = msg.msg;
          if (m.type === 'start' || m.type === 'approve' || m.type === 'cancel') m.reply(new VigilError('NOT_FOUND', `unknown tenant ${msg.tenant}`));
          return state;
        }
        ref = ctx.spawn(msg.tenant, tenantAutomationBehavior(msg.tenant, host));
      }
      ref.tell(msg.msg);
      return state;
    },
  };
}
