// The RCA actor: one per tenant, a child of the TenantActor beside the correlator. It hears
// the tenant's anomaly events and incident changes, and when an incident is due (debounced:
// tenant-rca.ts) reads the topology and the raw series through its source, ranks at the
// node's level (L0 causal, L1 correlation, L2 rules, L3/L4 none) and hands the result to the
// sink (stored, and sent on the live stream as an `rca` event).
import type { AnomalyEvent, Incident, IncidentRca, Topology } from '../../protocols/index.ts';
import type { ActorContext, Behavior, TimerHandle } from '../runtime/index.ts';
import { capabilities, FULL_SERVICE, type LevelSource } from '../../supervisors/index.ts';
import type { EventSink } from '../sink.ts';
import { TenantRca, type ReadSeries, type RcaSettings, type SeriesRead } from './tenant-rca.ts';
import type { RcaLevel } from './types.ts';

export type RcaMsg =
  | { type: 'anomalies'; events: AnomalyEvent[] }
  | { type: 'incident'; incident: Incident }
  /** the actor's own timer: rank what is due */
  | { type: 'due' }
  /** answered once everything told before it is handled (a ranking still in its debounce is not) */
  | { type: 'sync'; reply: (done: true) => void };

/** Where the actor reads what a ranking needs (the node: the graph store and the series store). */
export interface RcaSource {
  topology(tenant: string): Promise<Topology>;
  /** raw samples of (service, metric) in [from, to], in time order; absent: rank from events alone */
  series?(tenant: string, read: SeriesRead): Promise<ReadonlyArray<[number, number]>>;
}

export interface RcaDeps {
  tenant: string;
  source: RcaSource;
  /** results go to sink.rca (a sink without it: results are computed and dropped) */
  sink: EventSink;
  /** the node's level, read at each ranking (absent: L0) */
  level?: LevelSource;
  settings?: Partial<RcaSettings>;
}

const LEVEL_OF: Readonly<Record<string, RcaLevel | undefined>> = { causal: 'L0', correlation: 'L1', rule: 'L2' };

interface RcaState {
  core: TenantRca;
  timer?: TimerHandle;
  wakeAt?: number;
}

export function rcaBehavior(deps: RcaDeps): Behavior<RcaMsg, RcaState> {
  const level = deps.level ?? FULL_SERVICE;

  const arm = (state: RcaState, ctx: ActorContext<RcaMsg>): RcaState => {
    const next = state.core.nextDue();
    if (next === undefined || (state.wakeAt !== undefined && state.wakeAt <= next)) return state;
    if (state.timer !== undefined) ctx.clock.clearTimeout(state.timer);
    state.wakeAt = next;
    state.timer = ctx.clock.setTimeout(() => ctx.self.tell({ type: 'due' }), Math.max(0, next - ctx.clock.now()));
    return state;
  };

  const rank = async (state: RcaState, inc: Incident, at: RcaLevel, ctx: ActorContext<RcaMsg>): Promise<IncidentRca> => {
    const topology = await deps.source.topology(deps.tenant).catch((err: unknown) => {
      ctx.log.warn({ err, incident: inc.id }, 'rca: topology unavailable; ranking the alerting services alone');
      return { services: [] } as Topology;
    });
    const reads = deps.source.series ? state.core.plan(inc, topology) : [];
    const read: ReadSeries[] = await Promise.all(reads.map(async (r) => ({
      read: r,
      samples: await deps.source.series!(deps.tenant, r).catch(() => [] as Array<[number, number]>), // events stand in for what cannot be read
    })));
    return state.core.explain(inc, topology, at, read, ctx.clock.now());
  };

  const rankDue = async (state: RcaState, ctx: ActorContext<RcaMsg>): Promise<RcaState> => {
    state.wakeAt = undefined;
    state.timer = undefined;
    const now = ctx.clock.now();
    const due = state.core.takeDue(now);
    const at = LEVEL_OF[capabilities(level()).rca];
    for (const inc of due) {
      if (at === undefined) {
        state.core.defer(inc.id, now); // L3/L4: no RCA; ranked once the level allows
        continue;
      }
      try {
        deps.sink.rca?.(await rank(state, inc, at, ctx));
      } catch (err) {
        ctx.log.warn({ err, incident: inc.id }, 'rca: ranking failed');
      }
    }
    return arm(state, ctx);
  };

  return {
    kind: 'rca',
    init: () => ({ core: new TenantRca(deps.tenant, deps.settings) }),
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'anomalies':
          state.core.onAnomalies(msg.events);
          return state;
        case 'incident':
          state.core.onIncident(msg.incident, ctx.clock.now());
          return arm(state, ctx);
        case 'due':
          return rankDue(state, ctx);
        case 'sync':
          msg.reply(true);
          return state;
      }
    },
    onStop(state, ctx) {
      if (state.timer !== undefined) ctx.clock.clearTimeout(state.timer);
    },
  };
}
