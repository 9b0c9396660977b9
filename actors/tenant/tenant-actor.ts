// TenantActor: one per tenant. It splits incoming batches by service, spawning a
// ServiceActor on a service's first sample, and hosts the tenant's correlator.
// Children: `#correlator`, `#rca` (with TenantDeps.rca) and one per service, named by the service's URI-encoded name
// (so `/` cannot split a path and no service can be called `#correlator`).
import type { ActorContext, ActorRef, Behavior } from '../runtime/index.ts';
import type { Incident, SeriesInput, Tier } from '../../protocols/index.ts';
import type { EventSink } from '../sink.ts';
import { correlatorBehavior, type CorrelatorDeps, type CorrelatorMsg, type CorrelationSettings, type OpenIncidents } from '../correlation/index.ts';
import { serviceBehavior, type DetectorFactory, type MetricDetection, type SeriesSnapshot, type ServiceMsg, type StatePacker } from '../service/index.ts';
import type { Sensitivity } from '../detection/index.ts';
import type { IngestReceipt } from '../ingest-receipt.ts';
import type { LevelSource } from '../../supervisors/index.ts';
import type { AlertNotifier } from '../notify/index.ts';
import type { StaticLimit } from '../service/index.ts';
import { rcaBehavior, type RcaMsg, type RcaSettings, type RcaSource } from '../rca/index.ts';

export const CORRELATOR = '#correlator';
/** The tenant's RCA actor (actors/rca), beside the correlator, when TenantDeps.rca is given. */
export const RCA = '#rca';

/** services asked for their state per turn of the event loop during a checkpoint */
export const SNAPSHOT_SERVICES_PER_TURN = 8;
/**
 * How long a checkpoint's ask for state waits at each level (tenants, tenant, service): as long
 * as the checkpoint itself (node/compose.ts). A part that does not answer in time fails that
 * checkpoint (the next one retries); it does not crash the actor that asked, whose restart
 * would stop the services below it with their queued batches.
 */
export const SNAPSHOT_ASK_TIMEOUT_MS = 30_000;
export const serviceActorName = (service: string): string => encodeURIComponent(service);

/**
 * `position`: the batch's place in its shard's ingest log (0: none); `replay`: read again
 * after a restart; `epoch` (cluster mode): the lease token its shard was held under when the
 * batch was read, so its effects are dropped once that ownership has ended. `snapshot`
 * answers with the detector state of every series of the tenant (live services and
 * passivated ones), packed by `pack` service by service, once the correlator has handled
 * everything sent to it before, so the effects of the batches the state covers are all on
 * their way.
 */
export type TenantMsg =
  | { type: 'ingest'; series: SeriesInput[]; receipt?: IngestReceipt; position?: number; replay?: boolean; epoch?: number }
  | { type: 'snapshot'; pack: StatePacker; reply: (packed: Uint8Array[]) => void }
  | { type: 'set-status'; id: string; status: 'acknowledged' | 'resolved'; reply: (incident: Incident | undefined) => void }
  | { type: 'tick'; now: number }
  /** for the tenant's correlator: alerts from the Alertmanager intake, silences, the live alert list, a topology change */
  | { type: 'correlator'; msg: CorrelatorMsg };

export interface TenantSettings {
  id: string;
  tier: Tier;
  /** per-metric tier overrides (a Map: a metric may be called `constructor`) */
  metricTiers: ReadonlyMap<string, Tier>;
  /** per-metric decision settings (direction, bound, threshold) */
  metricSensitivity?: ReadonlyMap<string, Sensitivity>;
  /** how long a new series learns before it may report (data time) */
  warmupMs?: number;
  /** per-metric static limits, judged by rule-based detection at L2-L4 (actors/service/rules.ts) */
  metricLimits?: ReadonlyMap<string, StaticLimit>;
}

export interface TenantDeps {
  /** the settings the tenant was spawned with (its id; detection follows `currentSettings`) */
  settings: TenantSettings;
  /** the tenant's settings now (a reload or an admin change); absent or undefined: `settings` */
  currentSettings?: () => TenantSettings | undefined;
  correlation: CorrelationSettings;
  detectors: DetectorFactory;
  /** the tenant's unresolved incidents, for a correlator that (re)starts */
  incidents: OpenIncidents;
  sink: EventSink;
  serviceIdleMs: number;
  /** detector state restored from a snapshot at start, by service (taken over by the stash) */
  restored?: ReadonlyMap<string, SeriesSnapshot[]>;
  /**
   * The node's degradation level (L0-L4), the one way every stage of this tenant reads it:
   * call it when deciding, do not keep the value (supervisors/degradation LevelSource; the
   * node passes NodeHealth's level). Absent: L0. Services, the correlator, RCA and runbooks
   * all read this same function.
   */
  level?: LevelSource;
  /** root-cause ranking: where it reads topology and series (absent: no RCA actor) */
  rca?: { source: RcaSource; settings?: Partial<RcaSettings> };
  /** where a service sends its anomalies at L3/L4 (pass-through to the on-call, no correlation);
   * absent: they go to the correlator at every level */
  notify?: AlertNotifier;
  /** the correlator's topology (for grouping), silence store and tick (absent: time grouping, silences in memory) */
  correlator?: Pick<CorrelatorDeps, 'topology' | 'silences' | 'tickMs'>;
}

export function tenantBehavior(deps: TenantDeps): Behavior<TenantMsg, null> {
  const { settings } = deps;
  // Each metric's detection under the tenant's settings as they are now: a changed tier,
  // sensitivity or limit reaches running series at their next batch (service-state.ts). One
  // object per metric per settings object, so a series tells a change by identity alone.
  let current = settings;
  let byMetric = new Map<string, MetricDetection>();
  const detectionOf = (metric: string): MetricDetection => {
    const now = deps.currentSettings?.() ?? settings;
    if (now !== current) {
      current = now;
      byMetric = new Map();
    }
    let how = byMetric.get(metric);
    if (how) return how;
    const sensitivity = now.metricSensitivity?.get(metric);
    const tier = now.metricTiers.get(metric) ?? now.tier;
    const warmupMs = now.warmupMs ?? 0;
    const limit = now.metricLimits?.get(metric);
    how = { tier, warmupMs, ...(sensitivity ? { sensitivity } : {}), ...(limit ? { limit } : {}) };
    byMetric.set(metric, how);
    return how;
  };
  // Lives as long as this TenantActor's spawn, across its restarts: passivated services'
  // detector state waits here until the service speaks again.
  const stash = new Map<string, SeriesSnapshot[]>(deps.restored ?? []);

  const correlator = (ctx: ActorContext<TenantMsg>): ActorRef<CorrelatorMsg> =>
    ctx.child<CorrelatorMsg>(CORRELATOR)
    ?? ctx.spawn(CORRELATOR, correlatorBehavior({
      tenant: settings.id, settings: deps.correlation, incidents: deps.incidents, sink: rcaHears(ctx, deps.sink),
      ...deps.correlator, ...(deps.level ? { level: deps.level } : {}),
    }));

  const rca = (ctx: ActorContext<TenantMsg>): ActorRef<RcaMsg> | undefined => deps.rca && (ctx.child<RcaMsg>(RCA)
    ?? ctx.spawn(RCA, rcaBehavior({ tenant: settings.id, source: deps.rca.source, sink: deps.sink, ...(deps.rca.settings ? { settings: deps.rca.settings } : {}), ...(deps.level ? { level: deps.level } : {}) })));

  /**
   * The correlator's sink, its incident changes also told to the RCA actor (the correlator
   * knows nothing of RCA). Every other effect, present or added later, passes through as it is.
   */
  const rcaHears = (ctx: ActorContext<TenantMsg>, sink: EventSink): EventSink => {
    if (!deps.rca) return sink;
    const heard = Object.create(sink) as EventSink;
    heard.incident = (inc) => {
      sink.incident(inc);
      ctx.child<RcaMsg>(RCA)?.tell({ type: 'incident', incident: inc });
    };
    return heard;
  };

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
      sink: deps.sink,
      onAnomalies: (events) => {
        corr.tell({ type: 'anomalies', events });
        if (deps.rca) ctx.child<RcaMsg>(RCA)?.tell({ type: 'anomalies', events });
      },
      idleAfterMs: deps.serviceIdleMs,
      stash,
      ...(deps.level ? { level: deps.level } : {}),
      ...(deps.notify ? { passThrough: deps.notify.passThrough.bind(deps.notify) } : {}),
    }));
  };

  /** Every series' state: live services asked (in mailbox order), passivated ones from the stash. */
  const snapshotOf = async (ctx: ActorContext<TenantMsg>, pack: StatePacker, reply: (packed: Uint8Array[]) => void): Promise<void> => {
    const live = ctx.children().filter((c) => c !== CORRELATOR && c !== RCA);
    // A few services at a time, each packing its own state in its turn: asked all at once,
    // every service's turn ran in one phase of the event loop (nact runs each on setImmediate),
    // and a tenant of thousands of series held every request behind it for ~100 ms. No batch
    // reaches a service meanwhile: this actor forwards nothing until the snapshot is done.
    const parts: Uint8Array[] = [];
    for (let i = 0; i < live.length; i += SNAPSHOT_SERVICES_PER_TURN) {
      parts.push(...await Promise.all(live.slice(i, i + SNAPSHOT_SERVICES_PER_TURN)
        .map((c) => ctx.child<ServiceMsg>(c)!.ask<Uint8Array>((r) => ({ type: 'snapshot', pack, reply: r }), SNAPSHOT_ASK_TIMEOUT_MS))));
    }
    await correlator(ctx).ask<true>((r) => ({ type: 'sync', reply: r }));
    for (const [name, saved] of stash) if (!live.includes(serviceActorName(name))) parts.push(pack(saved));
    reply(parts);
  };

  return {
    kind: 'tenant',
    supervision: { strategy: 'one_for_one' },
    init(ctx) {
      correlator(ctx);
      rca(ctx);
      return null;
    },
    // After this tenant restarts: what its services and correlator had queued goes to
    // their new incarnations, so no sample answered 202 is lost to a restart.
    readopt(state, child, messages, ctx) {
      if (child === CORRELATOR) {
        const corr = correlator(ctx);
        for (const m of messages) corr.tell(m as CorrelatorMsg);
      } else if (child === RCA) {
        const ref = rca(ctx);
        for (const m of messages) ref?.tell(m as RcaMsg);
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
              service(ctx, name).tell({
                type: 'samples', series, ...(receipt ? { receipt } : {}), ...(msg.position ? { position: msg.position } : {}), ...(msg.replay ? { replay: true } : {}),
                ...(msg.epoch !== undefined ? { epoch: msg.epoch } : {}),
              });
            }
          } catch (err) {
            msg.receipt?.drop(); // a crash midway: not all of it was handed on, so not stored (a replay takes it)
            throw err;
          }
          msg.receipt?.settle();
          break;
        }
        case 'correlator':
          correlator(ctx).tell(msg.msg);
          break;
        case 'set-status':
        case 'tick':
          correlator(ctx).tell(msg);
          break;
        case 'snapshot':
          // no answer: the checkpoint's own ask fails (see SNAPSHOT_ASK_TIMEOUT_MS)
          return snapshotOf(ctx, msg.pack, msg.reply).then(() => state, (err: unknown) => {
            ctx.log.warn({ err }, 'a service did not give its state: this checkpoint of the tenant fails');
            return state;
          });
      }
      return state;
    },
  };
}
