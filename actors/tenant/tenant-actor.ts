// TenantActor: one per tenant. It splits incoming batches by service, spawning a
// ServiceActor on a service's first sample, and hosts the tenant's correlator.
// Children: `#correlator` and one per service, named by the service's URI-encoded name
// (so `/` cannot split a path and no service can be called `#correlator`).
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.ts';
import type { Incident, SeriesInput, Tier } from '../../protocols/index.ts';
import type { EventStore, SeriesStore } from '../../storage/index.ts';
import type { EventSink } from '../sink.ts';
import { correlatorBehavior, type CorrelatorMsg, type CorrelationSettings } from '../correlation/index.ts';
import { serviceBehavior, type DetectorFactory, type MetricDetection, type SeriesSnapshot, type ServiceMsg } from '../service/index.ts';
import type { Sensitivity } from '../detection/index.ts';
import type { IngestReceipt } from '../ingest-receipt.ts';

export const CORRELATOR = '#correlator';

export const serviceActorName = (service: string): string => encodeURIComponent(service);

export type TenantMsg =
  | { type: 'ingest'; series: SeriesInput[]; receipt?: IngestReceipt }
  | { type: 'set-status'; id: string; status: 'acknowledged' | 'resolved'; reply: (incident: Incident | undefined) => void }
  | { type: 'tick'; now: number };

export interface TenantSettings {
  id: string;
  tier: Tier;
  /** per-metric tier overrides (a Map: a metric may be called `constructor`) */
  metricTiers: ReadonlyMap<string, Tier>;
  /** per-metric decision settings (direction, bound, threshold) */
  metricSensitivity?: ReadonlyMap<string, Sensitivity>;
  /** how long a new series learns before it may report (data time) */
  warmupMs?: number;
}

export interface TenantDeps {
  settings: TenantSettings;
  correlation: CorrelationSettings;
  detectors: DetectorFactory;
  series: SeriesStore;
  events: EventStore;
  sink: EventSink;
  serviceIdleMs: number;
}

export function tenantBehavior(deps: TenantDeps): Behavior<TenantMsg, null> {
  const { settings } = deps;
  const detectionOf = (metric: string): MetricDetection => {
    const sensitivity = settings.metricSensitivity?.get(metric);
    const tier = settings.metricTiers.get(metric) ?? settings.tier;
    const warmupMs = settings.warmupMs ?? 0;
    return sensitivity ? { tier, sensitivity, warmupMs } : { tier, warmupMs };
  };
  // Lives as long as this TenantActor's spawn, across its restarts: passivated services'
  // detector state waits here until the service speaks again.
  const stash = new Map<string, SeriesSnapshot[]>();

  const correlator = (ctx: ActorContext<TenantMsg>): ActorRef<CorrelatorMsg> =>
    ctx.child<CorrelatorMsg>(CORRELATOR)
    ?? ctx.spawn(CORRELATOR, correlatorBehavior({ tenant: settings.id, settings: deps.correlation, events: deps.events, sink: deps.sink }));

  const service = (ctx: ActorContext<TenantMsg>, name: string): ActorRef<ServiceMsg> => {
    const actorName = serviceActorName(name);
    const live = ctx.child<ServiceMsg>(actorName);
    if (live) return live;
    const corr = correlator(ctx);
    return ctx.spawn(actorName, serviceBehavior({
      tenant: settings.id,
      service: name,
      detectionOf,
      detectors: deps.detectors,
      store: deps.series,
      sink: deps.sink,
      onAnomalies: (events) => corr.tell({ type: 'anomalies', events }),
      idleAfterMs: deps.serviceIdleMs,
      stash,
    }));
  };

  return {
    kind: 'tenant',
    supervision: { strategy: 'one_for_one' },
    init(ctx) {
      correlator(ctx);
      return null;
    },
    // After this tenant restarts: what its services and correlator had queued goes to
    // their new incarnations, so no sample answered 202 is lost to a restart.
    readopt(state, child, messages, ctx) {
      if (child === CORRELATOR) {
        const corr = correlator(ctx);
        for (const m of messages) corr.tell(m as CorrelatorMsg);
      } else {
        const ref = service(ctx, decodeURIComponent(child));
        for (const m of messages) ref.tell(m as ServiceMsg);
      }
      return state;
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'ingest': {
          const byService = new Map<string, SeriesInput[]>();
          for (const s of msg.series) {
            const list = byService.get(s.service);
            if (list) list.push(s);
            else byService.set(s.service, [s]);
          }
          try {
            for (const [name, series] of byService) {
              let n = 0;
              for (const s of series) n += s.samples.length;
              const receipt = msg.receipt?.split(n);
              service(ctx, name).tell(receipt ? { type: 'samples', series, receipt } : { type: 'samples', series });
            }
          } finally {
            msg.receipt?.settle(); // what was not handed to a service (a crash midway) goes back now
          }
          break;
        }
        case 'set-status':
        case 'tick':
          correlator(ctx).tell(msg);
          break;
      }
      return state;
    },
  };
}
