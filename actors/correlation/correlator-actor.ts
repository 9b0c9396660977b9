// The correlator actor: one per tenant, a child of the TenantActor. It owns the tenant's
// active incidents; operator changes (ack, resolve) go through it so there is one writer.
import type { Behavior } from '../runtime/index.ts';
import type { AnomalyEvent, Incident } from '../../protocols/index.ts';
import type { EventSink } from '../sink.ts';
import { TenantCorrelation, type CorrelationEffect, type CorrelationSettings } from './correlation.ts';

export type CorrelatorMsg =
  | { type: 'anomalies'; events: AnomalyEvent[] }
  | { type: 'set-status'; id: string; status: 'acknowledged' | 'resolved'; reply: (incident: Incident | undefined) => void }
  | { type: 'tick'; now: number }
  /** answered once everything told before it is handled (the node's checkpoint waits on it) */
  | { type: 'sync'; reply: (done: true) => void };

/** A tenant's unresolved incidents, which a correlator takes over when it (re)starts. */
export interface OpenIncidents {
  unresolved(tenant: string): Incident[];
}

export interface CorrelatorDeps {
  tenant: string;
  settings: CorrelationSettings;
  incidents: OpenIncidents;
  sink: EventSink;
}

export function correlatorBehavior(deps: CorrelatorDeps): Behavior<CorrelatorMsg, TenantCorrelation> {
  const apply = (effects: CorrelationEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'alert') deps.sink.alert(e.alert);
      else deps.sink.incident(e.incident);
    }
  };
  return {
    kind: 'correlator',
    init: () => new TenantCorrelation(deps.tenant, deps.settings, deps.incidents.unresolved(deps.tenant)),
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'anomalies':
          for (const ev of msg.events) apply(state.onAnomaly(ev));
          break;
        case 'set-status': {
          const inc = state.setStatus(msg.id, msg.status, ctx.clock.now());
          if (inc) deps.sink.incident(inc);
          msg.reply(inc);
          break;
        }
        case 'tick':
          apply(state.tick(msg.now));
          break;
        case 'sync':
          msg.reply(true);
          break;
      }
      return state;
    },
  };
}
