// A runbook run as pure transitions: (run, event, context) → (next run, effects). Time comes
// in with the context; what must happen outside (send a request, set a timer, write the audit
// log, tell the live stream) goes out as effects, which the run actor (run-actor.ts) applies.
// A run never goes back: each step is entered once, and an event for a step that is not the
// current one (a late answer after a cancel, a stale timer) changes nothing.
import type { RunbookRequestView, RunbookRun, RunbookStepRun } from '../../protocols/runbooks.ts';
import { evaluate } from './condition.ts';
import type { IncidentView, RunContext, StepOutput } from './context.ts';
import { renderJson, renderText } from './template.ts';
import { requestOf, type JsonValue, type RequestTemplate, type Runbook, type Step } from './runbook.ts';

/** Audit actions of runbooks and their runs (`area.verb`, as storage/audit wants). */
export const RUNBOOK_AUDIT = Object.freeze({
  create: 'runbook.create',
  update: 'runbook.update',
  delete: 'runbook.delete',
  start: 'runbook_run.start',
  suggest: 'runbook_run.suggest',
  step: 'runbook_run.step',
  awaitApproval: 'runbook_run.await_approval',
  approve: 'runbook_run.approve',
  queue: 'runbook_run.queue',
  cancel: 'runbook_run.cancel',
  end: 'runbook_run.end',
});

/** Who the audit log names for what the automation does by itself. */
export const AUTOMATION_ACTOR = 'automation';

/** A request ready to send: the URL normalised, headers filled, the body as JSON text. */
export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body?: string;
}

export type RunEffect =
  | { type: 'send'; step: number; request: OutgoingRequest }
  | { type: 'wake'; step: number; at: number }
  | { type: 'notice'; step: number; message: string }
  | { type: 'audit'; action: string; actor: string; after: JsonValue }
  | { type: 'ended' };

export type RunEvent =
  /** the request got a 2xx answer */
  | { type: 'sent'; step: number; status: number; body?: JsonValue; attempts: number }
  /** the request gave up: retries spent, a refusal (4xx, a destination not allowed), a deadline */
  | { type: 'send-failed'; step: number; error: string; attempts: number; status?: number }
  /** the destination's breaker is open: wait in its queue */
  | { type: 'held'; step: number; attempts: number; reason: string }
  /** the breaker let calls through again: send once more */
  | { type: 'released'; step: number }
  | { type: 'woke'; step: number }
  | { type: 'approve'; by: string }
  /** `reason` replaces "cancelled by <by>" (an approval window that passed) */
  | { type: 'cancel'; by: string; reason?: string };

export interface RunTime {
  now: number;
  /** the incident as it is now */
  incident: IncidentView;
  /** may this run's tenant send to `url`? (the allow-list; the HTTP client checks addresses) */
  allowed: (url: string) => boolean;
  /** does the node's level let runbooks act by themselves (L0, L1)? Otherwise each request step waits for an approve. */
  automatic: boolean;
}

export interface Transition {
  run: RunbookRun;
  effects: RunEffect[];
  /** set when the event was refused (approve of a run that waits for nothing...): run unchanged */
  refused?: string;
}

export interface NewRun {
  id: string;
  runbook: Runbook;
  startedBy: string;
  level: number;
  dryRun: boolean;
  /** at L2 and worse: list it, do not run it */
  suggestOnly: boolean;
  /** why it is only suggested (shown as the run's reason) */
  suggestReason?: string;
}

const ENDED: ReadonlySet<RunbookRun['status']> = new Set(['succeeded', 'failed', 'cancelled']);

export function isEnded(run: RunbookRun): boolean {
  return ENDED.has(run.status);
}

/** A new run: started at once (its first effects), or a suggestion that waits for an approve. */
export function createRun(n: NewRun, t: RunTime): Transition {
  const rb = n.runbook;
  const run: RunbookRun = {
    id: n.id, tenant: rb.tenant, runbookId: rb.id, runbookVersion: rb.version, incidentId: t.incident.id,
    status: 'running', dryRun: n.dryRun, startedBy: n.startedBy, level: n.level, step: 0,
    steps: rb.steps.map((s) => ({ id: s.id, kind: s.kind, status: 'pending', destructive: s.destructive })),
    createdAt: t.now, updatedAt: t.now,
  };
  const effects: RunEffect[] = [];
  if (n.suggestOnly) {
    run.status = 'suggested';
    run.reason = n.suggestReason ?? 'suggested only: approve to run it';
    const ctx = contextOf(run, rb, t.incident);
    rb.steps.forEach((s, i) => {
      const req = requestOf(s);
      if (req) run.steps[i]!.request = view(render(req, ctx));
    });
    effects.push(audit(RUNBOOK_AUDIT.suggest, n.startedBy === 'trigger' ? AUTOMATION_ACTOR : n.startedBy, run));
    return { run, effects };
  }
  effects.push(audit(RUNBOOK_AUDIT.start, n.startedBy === 'trigger' ? AUTOMATION_ACTOR : n.startedBy, run));
  proceed(run, rb, t, effects);
  return { run, effects };
}

/**
 * What a run waiting on something outside needs again after its actor (re)starts: the request
 * of a step under way (sent again, with the same Idempotency-Key), or its wait's end. A queued
 * step needs a `released` event instead (its breaker decides).
 */
export function resumeEffects(run: RunbookRun, rb: Runbook, incident: IncidentView): RunEffect[] {
  if (isEnded(run)) return [];
  const rec = run.steps[run.step];
  const step = rb.steps[run.step];
  if (!rec || !step) return [];
  if (rec.status === 'waiting' && rec.waitUntil !== undefined) return [{ type: 'wake', step: run.step, at: rec.waitUntil }];
  const req = requestOf(step);
  if (rec.status === 'running' && req) {
    return [{ type: 'send', step: run.step, request: render(req, contextOf(run, rb, incident)) }];
  }
  return [];
}

/** One event applied to a run. */
export function advance(prev: RunbookRun, rb: Runbook, ev: RunEvent, t: RunTime): Transition {
  if (ev.type === 'approve' || ev.type === 'cancel') {
    const why = ev.type === 'approve' ? approveRefusal(prev) : isEnded(prev) ? `run ${prev.id} is ${prev.status} already` : undefined;
    if (why) return { run: prev, effects: [], refused: why };
  } else if (isEnded(prev) || ev.step !== prev.step) {
    return { run: prev, effects: [] }; // late or stale: nothing to do
  }
  const run = structuredClone(prev);
  run.updatedAt = t.now;
  const effects: RunEffect[] = [];
  const cur = run.steps[run.step];
  switch (ev.type) {
    case 'approve':
      if (run.status === 'suggested') {
        run.status = 'running';
        run.approvedBy = ev.by;
        effects.push(audit(RUNBOOK_AUDIT.approve, ev.by, run));
      } else {
        cur!.approvedBy = ev.by;
        cur!.status = 'pending';
        run.status = 'running';
        effects.push(audit(RUNBOOK_AUDIT.approve, ev.by, run, run.step));
      }
      proceed(run, rb, t, effects);
      break;
    case 'cancel':
      if (cur && cur.status !== 'pending') cur.status = 'cancelled';
      if (cur) cur.endedAt ??= t.now;
      skipRest(run, cur && cur.status === 'cancelled' ? run.step + 1 : run.step);
      finish(run, 'cancelled', ev.reason ?? `cancelled by ${ev.by}`, t.now, effects, ev.by);
      break;
    case 'sent':
      if (cur!.status !== 'running') return { run: prev, effects: [] };
      cur!.attempts = (cur!.attempts ?? 0) + ev.attempts;
      cur!.response = ev.body === undefined ? { status: ev.status } : { status: ev.status, body: ev.body };
      endStep(run, 'succeeded', t.now, effects);
      proceed(run, rb, t, effects);
      break;
    case 'send-failed':
      if (cur!.status !== 'running') return { run: prev, effects: [] };
      cur!.attempts = (cur!.attempts ?? 0) + ev.attempts;
      if (ev.status !== undefined) cur!.response = { status: ev.status };
      cur!.error = ev.error;
      failStep(run, rb, t, effects);
      break;
    case 'held':
      if (cur!.status !== 'running') return { run: prev, effects: [] };
      cur!.attempts = (cur!.attempts ?? 0) + ev.attempts;
      cur!.status = 'queued';
      cur!.message = ev.reason;
      run.status = 'queued';
      run.reason = ev.reason;
      effects.push(audit(RUNBOOK_AUDIT.queue, AUTOMATION_ACTOR, run, run.step));
      break;
    case 'released': {
      if (cur!.status !== 'queued') return { run: prev, effects: [] };
      cur!.status = 'pending';
      delete run.reason;
      run.status = 'running';
      proceed(run, rb, t, effects);
      break;
    }
    case 'woke':
      if (cur!.status !== 'waiting') return { run: prev, effects: [] };
      endStep(run, 'succeeded', t.now, effects);
      run.status = 'running';
      proceed(run, rb, t, effects);
      break;
  }
  return { run, effects };
}

/** Started or approved by a person: the level does not hold its steps back. */
function manual(run: RunbookRun): boolean {
  return run.startedBy !== 'trigger' || run.approvedBy !== undefined;
}

function approveRefusal(run: RunbookRun): string | undefined {
  if (run.status === 'suggested' || run.status === 'awaiting_approval') return undefined;
  return isEnded(run) ? `run ${run.id} is ${run.status}: nothing to approve` : `run ${run.id} is ${run.status}, not awaiting approval`;
}

/** Carries the run forward from its current step until it must wait for something or ends. */
function proceed(run: RunbookRun, rb: Runbook, t: RunTime, effects: RunEffect[]): void {
  while (run.step < rb.steps.length) {
    const i = run.step;
    const step = rb.steps[i]!;
    const rec = run.steps[i]!;
    rec.startedAt ??= t.now;
    const ctx = contextOf(run, rb, t.incident);
    if (run.dryRun) {
      if (!dryStep(run, step, rec, ctx, t, effects)) return;
      continue;
    }
    if (step.destructive && rec.approvedBy === undefined) {
      const req = requestOf(step);
      if (req) rec.request = view(render(req, ctx));
      rec.status = 'awaiting_approval';
      run.status = 'awaiting_approval';
      run.reason = `step ${step.id} is destructive: approve it to go on`;
      effects.push(audit(RUNBOOK_AUDIT.awaitApproval, AUTOMATION_ACTOR, run, i));
      return;
    }
    if (!t.automatic && requestOf(step) && !manual(run) && rec.approvedBy === undefined) {
      rec.request = view(render(requestOf(step)!, ctx));
      rec.status = 'awaiting_approval';
      run.status = 'awaiting_approval';
      run.reason = `the node's degradation level stops runbooks from acting by themselves: approve step ${step.id} to run it`;
      effects.push(audit(RUNBOOK_AUDIT.awaitApproval, AUTOMATION_ACTOR, run, i));
      return;
    }
    run.status = 'running';
    delete run.reason;
    switch (step.kind) {
      case 'wait':
        rec.status = 'waiting';
        rec.waitUntil = t.now + step.ms;
        run.status = 'waiting';
        effects.push({ type: 'wake', step: i, at: rec.waitUntil });
        return;
      case 'condition': {
        const ok = evaluate(step.when, ctx) === true;
        rec.result = ok;
        if (ok) {
          endStep(run, 'succeeded', t.now, effects);
          continue;
        }
        if (step.otherwise === 'fail') {
          rec.error = 'the condition is false';
          failStep(run, rb, t, effects, true);
          return;
        }
        endStep(run, 'succeeded', t.now, effects);
        skipRest(run, run.step);
        finish(run, 'succeeded', `stopped at step ${step.id}: its condition is false`, t.now, effects);
        return;
      }
      case 'notify':
        rec.message = renderText(step.message, ctx);
        if (!step.request) {
          effects.push({ type: 'notice', step: i, message: rec.message });
          endStep(run, 'succeeded', t.now, effects);
          continue;
        }
        break;
      default:
        break;
    }
    // an HTTP step
    const out = render(requestOf(step)!, ctx);
    rec.request = view(out);
    if (!validUrl(out.url)) {
      rec.error = `the URL is not valid once filled in (${rec.request.url})`;
      failStep(run, rb, t, effects);
      return;
    }
    if (!t.allowed(out.url)) {
      rec.error = `refused: ${origin(out.url)} is not among this tenant's allowed webhook destinations`;
      failStep(run, rb, t, effects);
      return;
    }
    rec.status = 'running';
    effects.push({ type: 'send', step: i, request: out });
    return;
  }
  finish(run, 'succeeded', undefined, t.now, effects);
}

/** A dry run's step: described, not done. False when the run stops here. */
function dryStep(run: RunbookRun, step: Step, rec: RunbookStepRun, ctx: RunContext, t: RunTime, effects: RunEffect[]): boolean {
  const req = requestOf(step);
  const approval = step.destructive ? ' (after an operator approves it: the step is destructive)' : '';
  if (req) {
    const out = render(req, ctx);
    rec.request = view(out);
    rec.message = !validUrl(out.url) ? 'would fail: the URL is not valid once filled in'
      : !t.allowed(out.url) ? `would be refused: ${origin(out.url)} is not an allowed destination`
      : `would send ${out.method} ${rec.request.url}${approval}`;
    if (step.kind === 'notify') rec.message += `: ${renderText(step.message, ctx)}`;
  } else if (step.kind === 'notify') {
    rec.message = `would notify: ${renderText(step.message, ctx)}`;
  } else if (step.kind === 'wait') {
    rec.message = `would wait ${step.ms} ms`;
  } else if (step.kind === 'condition') {
    const unknown = new Set(run.steps.filter((s, j) => j < run.step && s.request !== undefined).map((s) => s.id));
    const r = evaluate(step.when, ctx, unknown);
    if (r !== undefined) rec.result = r;
    if (r === false) {
      rec.message = step.otherwise === 'fail' ? 'the condition is false: the run would fail here' : 'the condition is false: the run would stop here';
      endStep(run, 'dry_run', t.now, effects);
      skipRest(run, run.step);
      finish(run, 'succeeded', `dry run: stopped at step ${step.id}`, t.now, effects);
      return false;
    }
    rec.message = r === true ? 'the condition holds' : 'depends on an answer a dry run does not get: going on as if it held';
  }
  endStep(run, 'dry_run', t.now, effects);
  return true;
}

function failStep(run: RunbookRun, rb: Runbook, t: RunTime, effects: RunEffect[], stopAnyway = false): void {
  const step = rb.steps[run.step]!;
  const rec = run.steps[run.step]!;
  endStep(run, 'failed', t.now, effects);
  if (step.continueOnError && !stopAnyway) {
    proceed(run, rb, t, effects);
    return;
  }
  skipRest(run, run.step);
  finish(run, 'failed', `step ${step.id} failed: ${rec.error ?? 'unknown error'}`, t.now, effects);
}

/** Ends the current step and moves to the next. */
function endStep(run: RunbookRun, status: RunbookStepRun['status'], now: number, effects: RunEffect[]): void {
  const rec = run.steps[run.step]!;
  rec.status = status;
  rec.endedAt = now;
  effects.push(audit(RUNBOOK_AUDIT.step, AUTOMATION_ACTOR, run, run.step));
  run.step++;
}

function skipRest(run: RunbookRun, from: number): void {
  for (let j = from; j < run.steps.length; j++) {
    if (run.steps[j]!.status === 'pending' || run.steps[j]!.status === 'awaiting_approval') run.steps[j]!.status = 'skipped';
  }
}

function finish(run: RunbookRun, status: 'succeeded' | 'failed' | 'cancelled', reason: string | undefined, now: number, effects: RunEffect[], by?: string): void {
  run.status = status;
  run.endedAt = now;
  run.updatedAt = now;
  if (reason === undefined) delete run.reason;
  else run.reason = reason;
  run.step = Math.min(run.step, run.steps.length);
  if (status === 'cancelled') effects.push(audit(RUNBOOK_AUDIT.cancel, by ?? AUTOMATION_ACTOR, run));
  effects.push(audit(RUNBOOK_AUDIT.end, AUTOMATION_ACTOR, run));
  effects.push({ type: 'ended' });
}

/** What the audit log keeps of a run event: the run's head, and the step when it is about one. */
function audit(action: string, actor: string, run: RunbookRun, step?: number): RunEffect {
  const head: Record<string, JsonValue> = {
    run: run.id, runbook: run.runbookId, version: run.runbookVersion, incident: run.incidentId, status: run.status, dryRun: run.dryRun,
  };
  if (run.reason !== undefined) head.reason = run.reason;
  if (step !== undefined) {
    const s = run.steps[step]!;
    const st: Record<string, JsonValue> = { index: step, id: s.id, kind: s.kind, status: s.status };
    if (s.attempts !== undefined) st.attempts = s.attempts;
    if (s.request) st.request = `${s.request.method} ${s.request.url}`;
    if (s.response) st.response = s.response.status;
    if (s.result !== undefined) st.result = s.result;
    if (s.error !== undefined) st.error = s.error;
    if (s.approvedBy !== undefined) st.approvedBy = s.approvedBy;
    head.step = st;
  }
  return { type: 'audit', action, actor, after: head };
}

/** The templates' view of a run: earlier steps' outcomes and answers. */
export function contextOf(run: RunbookRun, rb: Runbook, incident: IncidentView): RunContext {
  const steps = new Map<string, StepOutput>();
  for (const s of run.steps) {
    if (s.status === 'pending') continue;
    const out: StepOutput = { outcome: s.status };
    if (s.response) {
      out.status = s.response.status;
      if (s.response.body !== undefined) out.body = s.response.body as JsonValue;
    }
    if (s.result !== undefined) out.result = s.result;
    steps.set(s.id, out);
  }
  return { incident, run: { id: run.id, dryRun: run.dryRun }, runbook: { id: rb.id, name: rb.name, version: rb.version }, steps };
}

function render(req: RequestTemplate, ctx: RunContext): OutgoingRequest {
  const filled = renderText(req.url, ctx, true);
  let url = filled;
  try {
    url = new URL(filled).href; // normalised: what is checked is what is sent
  } catch {
    // stays as filled: validUrl() refuses it
  }
  const headers = req.headers.map(([k, v]): [string, string] => [k, renderText(v, ctx).replace(/[\r\n]/g, ' ')]);
  const out: OutgoingRequest = { method: req.method, url, headers };
  if (req.body !== undefined) {
    out.body = JSON.stringify(renderJson(req.body, ctx));
    if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['content-type', 'application/json']);
  }
  return out;
}

function validUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** A request as runs show it: header names only, query values hidden (they often carry tokens). */
export function view(r: OutgoingRequest): RunbookRequestView {
  let shown = r.url;
  try {
    const u = new URL(r.url);
    for (const k of [...new Set(u.searchParams.keys())]) u.searchParams.set(k, '…');
    shown = u.href;
  } catch {
    // an invalid URL is shown as it is (it is not sent)
  }
  const v: RunbookRequestView = { method: r.method, url: shown, headers: r.headers.map(([k]) => k) };
  if (r.body !== undefined) v.body = JSON.parse(r.body) as unknown;
  return v;
}
