// The gateway's way to a tenant's correlator (api/engine.ts CorrelationDesk): alerts from the
// Alertmanager-compatible intake, the live alert list and silences, each a message to the
// tenant's correlator actor (its one writer). Silence changes go to the audit log.
import type { CorrelationDesk } from '../api/index.ts';
import type { ActorRef, Clock } from '../actors/runtime/index.ts';
import type { TenantsMsg } from '../actors/tenant/index.ts';
import {
  alertmanagerInput, silenceState, type CorrelatorMsg, type ExternalAlert, type Silence, type SilenceDraft, type SilenceReply, type SilenceView,
} from '../actors/correlation/index.ts';
import type { AlertView } from '../protocols/index.ts';
import type { AuditLog, JsonValue } from '../storage/audit/index.ts';

/** How long the gateway waits for a correlator's answer. */
export const CORRELATOR_ASK_MS = 5_000;

export const SILENCE_ACTIONS = Object.freeze({ create: 'silence.create', update: 'silence.update', expire: 'silence.expire' });

export interface NodeCorrelationParts {
  tenants: ActorRef<TenantsMsg>;
  clock: Clock;
  audit: AuditLog;
  /** labels naming an Alertmanager alert's service, first present wins (the remote-write mapping's) */
  serviceLabels: () => readonly string[];
}

export class NodeCorrelation implements CorrelationDesk {
  constructor(private readonly p: NodeCorrelationParts) {}

  receiveAlerts(tenant: string, alerts: ExternalAlert[]): Promise<{ accepted: number; refused: number }> {
    const now = this.p.clock.now();
    const labels = this.p.serviceLabels();
    const inputs = alerts.map((a) => alertmanagerInput(a, labels, now));
    return this.ask(tenant, (reply) => ({ type: 'alerts', alerts: inputs, reply }));
  }

  liveAlerts(tenant: string): Promise<AlertView[]> {
    return this.ask(tenant, (reply) => ({ type: 'alert-list', reply }));
  }

  silences(tenant: string): Promise<SilenceView[]> {
    return this.ask(tenant, (reply) => ({ type: 'silences', reply }));
  }

  async silence(tenant: string, id: string): Promise<SilenceView | undefined> {
    return (await this.silences(tenant)).find((s) => s.id === id);
  }

  async putSilence(tenant: string, draft: SilenceDraft, caller: string): Promise<SilenceView> {
    const before = draft.id !== undefined ? await this.silence(tenant, draft.id) : undefined;
    const silence = this.settled(await this.ask<SilenceReply>(tenant, (reply) => ({ type: 'silence-put', draft, reply })));
    await this.p.audit.append({
      tenant, actor: caller, action: before ? SILENCE_ACTIONS.update : SILENCE_ACTIONS.create, target: silence.id,
      ...(before ? { before: plain(before) } : {}), after: plain(silence),
    });
    return this.view(silence);
  }

  async expireSilence(tenant: string, id: string, caller: string): Promise<SilenceView> {
    const before = await this.silence(tenant, id);
    const silence = this.settled(await this.ask<SilenceReply>(tenant, (reply) => ({ type: 'silence-expire', id, reply })));
    if (before?.state !== 'expired') {
      await this.p.audit.append({ tenant, actor: caller, action: SILENCE_ACTIONS.expire, target: id, ...(before ? { before: plain(before) } : {}), after: plain(silence) });
    }
    return this.view(silence);
  }

  private view(s: Silence): SilenceView {
    return { ...s, state: silenceState(s, this.p.clock.now()) };
  }

  private settled(r: SilenceReply): Silence {
    if (!r.ok) throw r.error;
    return r.silence;
  }

  private ask<R>(tenant: string, make: (reply: (r: R) => void) => CorrelatorMsg): Promise<R> {
    return this.p.tenants.ask<R>((reply) => ({ type: 'to-tenant', tenant, msg: { type: 'correlator', msg: make(reply) } }), CORRELATOR_ASK_MS);
  }
}

function plain(s: Silence | SilenceView): JsonValue {
  return {
    matchers: s.matchers.map((m) => ({ ...m })), startsAt: s.startsAt, endsAt: s.endsAt, createdBy: s.createdBy, comment: s.comment,
  };
}
