// Runbook automation on a node: the face the node feeds (incidents, alerts, RCA results) and
// the API calls (runbooks, runs), over the actors that run them (`/root/automation/<tenant>/
// <run>`). It owns the runbook and run stores, the tenants' incident views, and the deliveries
// (retry policy, one breaker per tenant and destination, the queue behind open breakers).
import type { Logger } from 'pino';
import type { ActorRef, ActorSystem, Clock, Rng } from '../runtime/index.ts';
import { stableId, VigilError, type Alert, type Incident, type LiveEvent, type Page } from '../../protocols/index.ts';
import type { RunbookRun } from '../../protocols/runbooks.ts';
import { capabilities, FULL_SERVICE, LEVEL_NAMES, type BreakerState, type LevelSource } from '../../supervisors/index.ts';
import type { IncidentView } from './context.ts';
import { Deliveries } from './deliveries.ts';
import { allowedBy, type DestinationPolicy } from './destinations.ts';
import { sendHttp, type SendRequest } from './http-client.ts';
import { IncidentViews, type RootCauses } from './incidents.ts';
import { AUTOMATION_ACTOR, RUNBOOK_AUDIT, type RunEffect } from './run.ts';
import type { JsonValue, Runbook } from './runbook.ts';
import { checkRunbookJson, parseRunbookYaml, parseRunbooksYaml } from './schema.ts';
import type { AuditRecord } from '../../storage/audit/index.ts';
import type { RunbookStore, RunQuery, RunStore } from './stores.ts';
import { automationBehavior, type AutomationMsg, type TenantAutomationHost } from './tenant-automation.ts';
import { stringify } from 'yaml';

/** A record for the audit log. */
export type AuditNote = AuditRecord;

export interface AutomationOptions {
  system: ActorSystem;
  clock: Clock;
  runbooks: RunbookStore;
  runs: RunStore;
  destinations: DestinationPolicy;
  /** the node's audit log (absent: nothing recorded) */
  audit?: (note: AuditNote) => Promise<unknown>;
  /** the tenant's live stream */
  publish?: (tenant: string, event: LiveEvent) => void;
  /** the node's degradation level (default L0) */
  level?: LevelSource;
  /** the HTTP client (default node:http with the address guard) */
  send?: SendRequest;
  /** jitter for retries (absent: the nominal schedule) */
  rng?: Rng;
  log?: Logger;
  /** is this a tenant of the node? (default: every tenant) */
  knownTenant?: (tenant: string) => boolean;
  /** how long a suggestion or destructive step waits for an approve (default 24 h) */
  approvalWindowMs?: number;
  /** the score from which an incident is critical when none of its alerts was seen (default 0.99) */
  criticalScore?: number;
  /** runs not ended that one tenant may have on this node (default DEFAULT_MAX_UNFINISHED_RUNS) */
  maxUnfinishedRuns?: number;
  /** a tenant's own bound (its tenants-file `maxUnfinishedRuns`); undefined: the node's */
  tenantMaxUnfinishedRuns?: (tenant: string) => number | undefined;
}

export const DEFAULT_APPROVAL_WINDOW_MS = 24 * 3_600_000;
/** Why a bound: every unfinished run is an actor and a stored record until it ends, and one
 * waiting for an approve may wait 24 h; without a bound, one tenant starting runs by hand could
 * fill the node's memory and outbound connections that every tenant's runs share. */
export const DEFAULT_MAX_UNFINISHED_RUNS = 100;
/** The actor under the root: `/root/automation/<tenant>/<run>`. */
export const AUTOMATION = 'automation';
const ASK_MS = 10_000;

/** What a tenant (and the API) sees of its automation. */
export interface AutomationStatus {
  level: number;
  /** automatic at L0/L1; suggested at L2 and worse */
  runbooks: 'automatic' | 'suggested';
  /** its destinations' circuit breakers, by origin */
  breakers: Record<string, BreakerState>;
  /** runs waiting for a destination to recover */
  queued: number;
  /** its runbooks */
  count: number;
}

/** A runbook as the API lists it (the YAML source is what GET of one gives). */
export interface RunbookSummary {
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  dryRun: boolean;
  version: number;
  updatedAt: number;
  steps: number;
  trigger: JsonValue;
}

/** What the API asks of the automation (api/runbooks.ts). */
export type AutomationDesk = Pick<RunbookAutomation,
  'listRunbooks' | 'getRunbook' | 'putRunbook' | 'replaceRunbooks' | 'deleteRunbook' | 'runs' | 'run' | 'approve' | 'cancel' | 'start' | 'status'>;

export class RunbookAutomation {
  readonly deliveries: Deliveries;
  private readonly views = new Map<string, IncidentViews>();
  private readonly root: ActorRef<AutomationMsg>;
  private readonly level: LevelSource;
  private manualSeq = 0;

  constructor(private readonly o: AutomationOptions) {
    this.level = o.level ?? FULL_SERVICE;
    this.deliveries = new Deliveries({
      clock: o.clock, send: o.send ?? sendHttp, ...(o.rng ? { rng: o.rng } : {}), ...(o.log ? { log: o.log } : {}),
    });
    this.root = o.system.spawn<AutomationMsg>(AUTOMATION, automationBehavior(this.host(), o.knownTenant ?? (() => true)));
    // unfinished runs (from the store) resume in their tenant's actor
    for (const tenant of new Set(o.runs.unfinished().map((r) => r.tenant))) this.tell(tenant, { type: 'resume' });
  }

  // ---- what the node feeds -----------------------------------------------------------

  incident(inc: Incident): void {
    this.viewsOf(inc.tenant).incident(inc);
    this.check(inc.tenant, inc.id);
  }

  alert(a: Alert): void {
    this.viewsOf(a.tenant).alert(a);
  }

  /** An RCA ranking (protocols' IncidentRca fits): a trigger on the root cause may now match. */
  rca(r: RootCauses): void {
    if (this.viewsOf(r.tenant).rootCause(r)) this.check(r.tenant, r.incidentId);
  }

  // ---- runbooks (admin) --------------------------------------------------------------

  /** A tenant's runbooks; NOT_FOUND for a tenant the node does not serve. */
  listRunbooks(tenant: string): RunbookSummary[] {
    this.known(tenant);
    return this.o.runbooks.list(tenant).map(summary);
  }

  getRunbook(tenant: string, id: string): Runbook | undefined {
    return this.o.runbooks.get(tenant, id);
  }

  /** Creates or replaces one runbook from YAML text or a JSON value; CONFLICT-free (PUT). */
  async putRunbook(tenant: string, id: string, input: { yaml: string } | { json: unknown }, caller: string): Promise<{ runbook: Runbook; created: boolean }> {
    this.known(tenant);
    const before = this.o.runbooks.get(tenant, id);
    const origin = {
      tenant, id, source: `runbook ${id}`, now: this.o.clock.now(), version: (before?.version ?? 0) + 1, allowed: this.allowedFor(tenant),
    };
    const rb = 'yaml' in input ? parseRunbookYaml(input.yaml, origin) : checkRunbookJson(input.json, origin, stringify(input.json));
    await this.o.runbooks.put(rb);
    await this.note(tenant, caller, before ? RUNBOOK_AUDIT.update : RUNBOOK_AUDIT.create, id, before ? briefOf(before) : null, briefOf(rb));
    return { runbook: rb, created: before === undefined };
  }

  /** Replaces a tenant's whole set from one YAML text of several documents: all or nothing. */
  async replaceRunbooks(tenant: string, yaml: string, caller: string): Promise<Runbook[]> {
    this.known(tenant);
    const now = this.o.clock.now();
    const parsed = parseRunbooksYaml(yaml, { tenant, source: 'runbooks', now, allowed: this.allowedFor(tenant) });
    const old = new Map(this.o.runbooks.list(tenant).map((r) => [r.id, r]));
    const next = parsed.map((r) => ({ ...r, version: (old.get(r.id)?.version ?? 0) + 1 }));
    await this.o.runbooks.replace(tenant, next);
    for (const r of next) {
      const was = old.get(r.id);
      await this.note(tenant, caller, was ? RUNBOOK_AUDIT.update : RUNBOOK_AUDIT.create, r.id, was ? briefOf(was) : null, briefOf(r));
    }
    for (const [id, was] of old) if (!next.some((r) => r.id === id)) await this.note(tenant, caller, RUNBOOK_AUDIT.delete, id, briefOf(was), null);
    return next;
  }

  async deleteRunbook(tenant: string, id: string, caller: string): Promise<boolean> {
    const before = this.o.runbooks.get(tenant, id);
    if (!before) return false;
    await this.o.runbooks.delete(tenant, id);
    await this.note(tenant, caller, RUNBOOK_AUDIT.delete, id, briefOf(before), null);
    return true;
  }

  // ---- runs (the tenant) -------------------------------------------------------------

  runs(tenant: string, q: RunQuery): Page<RunbookRun> {
    return this.o.runs.list(tenant, q);
  }

  run(tenant: string, id: string): RunbookRun | undefined {
    return this.o.runs.get(tenant, id);
  }

  approve(tenant: string, id: string, caller: string): Promise<RunbookRun> {
    return this.ask(tenant, (reply) => ({ type: 'approve', id, by: caller, reply }));
  }

  cancel(tenant: string, id: string, caller: string): Promise<RunbookRun> {
    return this.ask(tenant, (reply) => ({ type: 'cancel', id, by: caller, reply }));
  }

  /** Starts a runbook for an incident by hand (a dry run, or at any level: a person decided). */
  start(tenant: string, req: { runbook: string; incident: string; dryRun?: boolean }, caller: string): Promise<RunbookRun> {
    return this.ask(tenant, (reply) => ({
      type: 'start', runbookId: req.runbook, incidentId: req.incident, by: caller, reply, ...(req.dryRun === undefined ? {} : { dryRun: req.dryRun }),
    }));
  }

  status(tenant: string): AutomationStatus {
    const level = this.level();
    return {
      level, runbooks: capabilities(level).runbooks === 'automatic' ? 'automatic' : 'suggested',
      breakers: this.deliveries.states(tenant), queued: this.deliveries.queued(tenant), count: this.o.runbooks.list(tenant).length,
    };
  }

  /** Stops the deliveries' breakers and writes what the run store holds. */
  async stop(): Promise<void> {
    this.deliveries.stop();
    await this.o.runs.flush();
  }

  // ---- inside ------------------------------------------------------------------------

  private known(tenant: string): void {
    if (this.o.knownTenant && !this.o.knownTenant(tenant)) throw new VigilError('NOT_FOUND', `unknown tenant ${tenant}`);
  }

  private viewsOf(tenant: string): IncidentViews {
    let v = this.views.get(tenant);
    if (!v) this.views.set(tenant, (v = new IncidentViews(tenant, this.o.criticalScore ?? 0.99)));
    return v;
  }

  private check(tenant: string, incidentId: string): void {
    if (this.o.runbooks.list(tenant).length === 0) return; // nothing could start: no actor needed
    this.tell(tenant, { type: 'check', incidentId });
  }

  private tell(tenant: string, msg: AutomationMsg['msg']): void {
    this.root.tell({ type: 'to-tenant', tenant, msg });
  }

  private async ask(tenant: string, make: (reply: (r: RunbookRun | VigilError) => void) => AutomationMsg['msg']): Promise<RunbookRun> {
    const r = await this.root.ask<RunbookRun | VigilError>((reply) => ({ type: 'to-tenant', tenant, msg: make(reply) }), ASK_MS);
    if (r instanceof VigilError) throw r;
    return r;
  }

  private allowedFor(tenant: string): (url: string) => boolean {
    return (url) => allowedBy(this.o.destinations.allowed(tenant), url) !== undefined;
  }

  private mode(): { automatic: true } | { automatic: false; reason: string } {
    const l = this.level();
    if (capabilities(l).runbooks === 'automatic') return { automatic: true };
    return { automatic: false, reason: `degradation level L${l} (${LEVEL_NAMES[l]}): runbooks are suggested, not run; approve to run it` };
  }

  private async note(tenant: string, actor: string, action: string, target: string, before: JsonValue, after: JsonValue): Promise<void> {
    if (!this.o.audit) return;
    await this.o.audit({ tenant, actor, action, target, before, after });
  }

  private host(): TenantAutomationHost {
    const o = this.o;
    const auditLater = (note: AuditNote): void => {
      o.audit?.(note).catch((err: unknown) => o.log?.error({ err, tenant: note.tenant, action: note.action }, 'runbook audit entry could not be written'));
    };
    return {
      approvalWindowMs: o.approvalWindowMs ?? DEFAULT_APPROVAL_WINDOW_MS,
      maxUnfinishedRuns: (tenant) => o.tenantMaxUnfinishedRuns?.(tenant) ?? o.maxUnfinishedRuns ?? DEFAULT_MAX_UNFINISHED_RUNS,
      stored: (tenant, id) => o.runs.get(tenant, id),
      time: (tenant, incidentId, fallback) => ({
        now: o.clock.now(),
        incident: this.views.get(tenant)?.view(incidentId) ?? fallback ?? unknownIncident(tenant, incidentId),
        allowed: this.allowedFor(tenant),
        automatic: this.mode().automatic,
      }),
      record: (run) => {
        o.runs.put(run);
        o.publish?.(run.tenant, { type: 'runbook_run', data: run });
      },
      audit: (run, e: Extract<RunEffect, { type: 'audit' }>) => auditLater({ tenant: run.tenant, actor: e.actor, action: e.action, target: run.id, after: e.after }),
      notice: (run, step, message) => o.log?.info({ tenant: run.tenant, run: run.id, step: run.steps[step]?.id, message }, 'runbook notice'),
      deliver: (tenant, request, signal) => this.deliveries.deliver(tenant, request, signal),
      queue: (tenant, url, release) => this.deliveries.queue(tenant, url, release),
      ended: (run) => this.tell(run.tenant, { type: 'ended', id: run.id }),
      runbooks: (tenant) => o.runbooks.list(tenant),
      runbook: (tenant, id) => o.runbooks.get(tenant, id),
      view: (tenant, incidentId) => this.views.get(tenant)?.view(incidentId),
      unfinished: (tenant) => o.runs.unfinished().filter((r) => r.tenant === tenant),
      mode: () => this.mode(),
      level: () => this.level(),
      orphaned: (run, reason) => {
        const now = o.clock.now();
        const ended: RunbookRun = { ...run, status: 'failed', reason, endedAt: now, updatedAt: now };
        o.runs.put(ended);
        o.publish?.(run.tenant, { type: 'runbook_run', data: ended });
        auditLater({ tenant: run.tenant, actor: AUTOMATION_ACTOR, action: RUNBOOK_AUDIT.end, target: run.id, after: { run: run.id, status: 'failed', reason } });
      },
      manualRunId: (tenant, runbookId, incidentId) => stableId('run', `${tenant}\u0000${runbookId}\u0000${incidentId}\u0000${o.clock.now()}\u0000${++this.manualSeq}`),
    };
  }
}

/** What a run knows of an incident this node has not seen (after a restart, before its next change). */
function unknownIncident(tenant: string, id: string): IncidentView {
  return { id, tenant, title: '', status: 'open', services: [], severity: 'warning', labels: [], peakScore: 0, openedAt: 0, alertCount: 0 };
}

function summary(r: Runbook): RunbookSummary {
  const s: RunbookSummary = {
    id: r.id, name: r.name, enabled: r.enabled, dryRun: r.dryRun, version: r.version, updatedAt: r.updatedAt, steps: r.steps.length,
    trigger: JSON.parse(JSON.stringify({
      ...r.trigger, ...(r.trigger.labels ? { labels: Object.fromEntries(r.trigger.labels) } : {}),
    })) as JsonValue,
  };
  if (r.description !== undefined) s.description = r.description;
  return s;
}

/** What the audit log keeps of a runbook change. */
function briefOf(r: Runbook): JsonValue {
  return { version: r.version, name: r.name, enabled: r.enabled, dryRun: r.dryRun, steps: r.steps.map((s) => `${s.id}:${s.kind}${s.destructive ? '!' : ''}`) };
}
