// One actor per runbook run, a child of its tenant's automation actor: it holds the run, feeds
// it events (answers, timers, approvals) through the pure transitions of run.ts and applies the
// effects they return. Nothing else changes a run, so a run has one writer. A restarted actor
// takes the run up from the store where it stood (the request under way is sent again with the
// same Idempotency-Key; a wait is set again for its end; a queued step asks its breaker again).
import type { Behavior, TimerHandle } from '../runtime/index.ts';
import type { RunbookRun } from '../../protocols/runbooks.ts';
import type { IncidentView } from './context.ts';
import type { DeliveryOutcome } from './deliveries.ts';
import { AUTOMATION_ACTOR, advance, createRun, isEnded, resumeEffects, type NewRun, type OutgoingRequest, type RunEffect, type RunEvent, type RunTime, type Transition } from './run.ts';
import type { Runbook } from './runbook.ts';

export type RunMsg =
  | { type: 'event'; event: RunEvent }
  | { type: 'approve'; by: string; reply: (t: Transition) => void }
  | { type: 'cancel'; by: string; reply: (t: Transition) => void }
  /** the approval window of the wait `key` passed */
  | { type: 'expire'; key: string };

/** What a run actor needs from the automation around it. */
export interface RunHost {
  /** the stored run (a restart resumes it) */
  stored(tenant: string, id: string): RunbookRun | undefined;
  /** now, the incident as it is, the allow-list, the level */
  time(tenant: string, incidentId: string, fallback: IncidentView | undefined): RunTime;
  /** the run changed: store it, show it on the stream */
  record(run: RunbookRun): void;
  audit(run: RunbookRun, effect: Extract<RunEffect, { type: 'audit' }>): void;
  notice(run: RunbookRun, step: number, message: string): void;
  /** sends with retries and the destination's breaker; never rejects */
  deliver(tenant: string, request: OutgoingRequest, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** waits in the destination's queue; returns a function that leaves it */
  queue(tenant: string, url: string, release: () => void): () => void;
  /** the run ended: its actor may stop */
  ended(run: RunbookRun): void;
  /** how long a suggestion or a destructive step waits for an approve before the run is cancelled */
  approvalWindowMs: number;
}

export interface RunDeps {
  tenant: string;
  id: string;
  incidentId: string;
  /** the runbook as it was when the run started (an update does not change a run under way) */
  runbook: Runbook;
  /** how to create it when the store has no such run yet */
  create?: NewRun;
  host: RunHost;
}

interface RunState {
  run: RunbookRun;
  view?: IncidentView;
  timer?: TimerHandle;
  expiry?: { key: string; timer: TimerHandle };
  inFlight?: AbortController;
  /** the URL of the last request sent (its breaker's queue is where a held run waits) */
  sending?: string;
  unqueue?: () => void;
}

export function runBehavior(deps: RunDeps): Behavior<RunMsg, RunState> {
  const { host, runbook: rb, tenant } = deps;

  const time = (s: RunState): RunTime => {
    const t = host.time(tenant, s.run.incidentId, s.view);
    s.view = t.incident;
    return t;
  };

  /** Applies one transition: stores the run, then carries out its effects. */
  const apply = (s: RunState, t: Transition, ctx: Parameters<Behavior<RunMsg, RunState>['receive']>[2]): RunState => {
    if (t.run !== s.run) {
      s.run = t.run;
      host.record(t.run);
    }
    for (const e of t.effects) {
      switch (e.type) {
        case 'audit':
          host.audit(s.run, e);
          break;
        case 'notice':
          host.notice(s.run, e.step, e.message);
          break;
        case 'wake':
          if (s.timer !== undefined) ctx.clock.clearTimeout(s.timer);
          s.timer = ctx.clock.setTimeout(() => ctx.self.tell({ type: 'event', event: { type: 'woke', step: e.step } }), Math.max(0, e.at - ctx.clock.now()));
          break;
        case 'send': {
          s.inFlight?.abort();
          const abort = new AbortController();
          s.inFlight = abort;
          s.sending = e.request.url;
          const request: OutgoingRequest = { ...e.request, headers: [...e.request.headers, ['idempotency-key', `${s.run.id}.${e.step}`]] };
          void host.deliver(tenant, request, abort.signal).then((outcome) => {
            if (!abort.signal.aborted) ctx.self.tell({ type: 'event', event: eventOf(e.step, outcome) });
          });
          break;
        }
        case 'ended':
          quiet(s, ctx.clock);
          host.ended(s.run);
          break;
      }
    }
    if (s.run.status === 'queued' && !s.unqueue && s.sending !== undefined) {
      const step = s.run.step;
      s.unqueue = host.queue(tenant, s.sending, () => ctx.self.tell({ type: 'event', event: { type: 'released', step } }));
    }
    watchApproval(s, ctx);
    return s;
  };

  /** A run waiting for an approve is cancelled when the window passes (a day-old destructive step is not approved by accident). */
  const watchApproval = (s: RunState, ctx: Parameters<Behavior<RunMsg, RunState>['receive']>[2]): void => {
    const waits = s.run.status === 'suggested' || s.run.status === 'awaiting_approval';
    const key = `${s.run.status}:${s.run.step}`;
    if (s.expiry && (!waits || s.expiry.key !== key)) {
      ctx.clock.clearTimeout(s.expiry.timer);
      delete s.expiry;
    }
    if (waits && !s.expiry) {
      s.expiry = { key, timer: ctx.clock.setTimeout(() => ctx.self.tell({ type: 'expire', key }), host.approvalWindowMs) };
    }
  };

  return {
    kind: 'runbook-run',
    init(ctx) {
      const stored = host.stored(tenant, deps.id);
      if (!stored) {
        if (!deps.create) throw new Error(`run ${deps.id} is neither stored nor to be created`);
        const at = host.time(tenant, deps.incidentId, undefined);
        const t = createRun(deps.create, at);
        const s: RunState = { run: t.run, view: at.incident };
        host.record(t.run);
        return apply(s, { run: t.run, effects: t.effects }, ctx);
      }
      const s: RunState = { run: stored };
      if (isEnded(stored)) {
        host.ended(stored);
        return s;
      }
      const t = time(s);
      if (stored.status === 'queued') {
        // ask the breaker again: released now if it lets calls through, queued again if not
        return apply(s, advance(stored, rb, { type: 'released', step: stored.step }, t), ctx);
      }
      return apply(s, { run: stored, effects: resumeEffects(stored, rb, t.incident) }, ctx);
    },
    receive(s, msg, ctx) {
      switch (msg.type) {
        case 'event':
          if (msg.event.type === 'released') {
            s.unqueue?.();
            delete s.unqueue;
          }
          return apply(s, advance(s.run, rb, msg.event, time(s)), ctx);
        case 'expire': {
          if (s.expiry?.key !== msg.key) return s; // the run moved on meanwhile
          delete s.expiry;
          const reason = `cancelled: no approve within ${hoursText(host.approvalWindowMs)}`;
          return apply(s, advance(s.run, rb, { type: 'cancel', by: AUTOMATION_ACTOR, reason }, time(s)), ctx);
        }
        case 'approve':
        case 'cancel': {
          const event: RunEvent = msg.type === 'approve' ? { type: 'approve', by: msg.by } : { type: 'cancel', by: msg.by };
          const t = advance(s.run, rb, event, time(s));
          const next = t.refused ? s : apply(s, t, ctx);
          msg.reply(t);
          return next;
        }
      }
    },
    onStop(s, ctx) {
      quiet(s, ctx.clock);
    },
  };
}

/** Stops whatever the run was waiting on. */
function quiet(s: RunState, clock: { clearTimeout(h: TimerHandle): void }): void {
  if (s.timer !== undefined) clock.clearTimeout(s.timer);
  if (s.expiry) clock.clearTimeout(s.expiry.timer);
  delete s.timer;
  delete s.expiry;
  s.inFlight?.abort();
  delete s.inFlight;
  s.unqueue?.();
  delete s.unqueue;
}

function hoursText(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms} ms`;
}

function eventOf(step: number, o: DeliveryOutcome): RunEvent {
  switch (o.type) {
    case 'sent':
      return o.body === undefined ? { type: 'sent', step, status: o.status, attempts: o.attempts } : { type: 'sent', step, status: o.status, body: o.body, attempts: o.attempts };
    case 'failed':
      return o.status === undefined ? { type: 'send-failed', step, error: o.error, attempts: o.attempts } : { type: 'send-failed', step, error: o.error, status: o.status, attempts: o.attempts };
    case 'held':
      return { type: 'held', step, attempts: o.attempts, reason: o.reason };
  }
}
