// The correlator actor: one per tenant, a child of the TenantActor. It hosts the tenant's
// TenantCorrelation and is the one writer of its incidents and silences: anomalies, alerts
// from the Alertmanager intake, operator changes (ack, resolve, silences) all come here.
// It loads the tenant's topology (asynchronously; until it arrives, grouping is by time),
// ticks itself every `tickMs` while it holds anything that time changes, and applies the
// core's effects: alerts and incidents to the sink, notifications to the sink's notifier.
import type { ActorContext, Behavior } from '../runtime/index.ts';
import { fnv1a, VigilError, type AnomalyEvent, type Incident, type Topology } from '../../protocols/index.ts';
import type { EventSink } from '../sink.ts';
import type { Level } from '../../supervisors/degradation/levels.ts';
import { TenantCorrelation, type CorrelationEffect } from './correlation.ts';
import type { CorrelationSettings } from './settings.ts';
import type { AlertInput, AlertView } from './alerts.ts';
import type { Silence, SilenceDraft, SilenceView } from './silences.ts';
import { TopologyIndex } from './topology.ts';

/** What an operation on silences answers: the silence, or why not (a VigilError the API maps to 4xx). */
export type SilenceReply = { ok: true; silence: Silence } | { ok: false; error: VigilError };

export type CorrelatorMsg =
  | { type: 'anomalies'; events: AnomalyEvent[] }
  /** alerts from the Alertmanager intake; answered with how many the tenant's limit refused */
  | { type: 'alerts'; alerts: AlertInput[]; reply?: (result: { accepted: number; refused: number }) => void }
  | { type: 'set-status'; id: string; status: 'acknowledged' | 'resolved'; reply: (incident: Incident | undefined) => void }
  | { type: 'tick'; now: number }
  /** a topology to use, or (none given) "it changed: load it again" */
  | { type: 'topology'; topology?: Topology }
  | { type: 'silence-put'; draft: SilenceDraft; reply: (r: SilenceReply) => void }
  | { type: 'silence-expire'; id: string; reply: (r: SilenceReply) => void }
  | { type: 'silences'; reply: (list: SilenceView[]) => void }
  | { type: 'alert-list'; reply: (list: AlertView[]) => void }
  /** answered once everything told before it is handled (the node's checkpoint waits on it) */
  | { type: 'sync'; reply: (done: true) => void }
  | { type: 'self-tick'; generation: number };

/** A tenant's unresolved incidents, which a correlator takes over when it (re)starts. */
export interface OpenIncidents {
  unresolved(tenant: string): Incident[];
}

/** Where silences outlive the actor: read at start (synchronously, from memory), written on change. */
export interface SilenceStore {
  load(tenant: string): Silence[];
  save(tenant: string, silences: readonly Silence[]): Promise<void>;
}

export interface CorrelatorDeps {
  tenant: string;
  settings: CorrelationSettings;
  incidents: OpenIncidents;
  sink: EventSink;
  /** the node's degradation level, read at each decision (absent: L0) */
  level?: () => Level;
  /** the tenant's topology (the graph store, through the cache); absent: grouping by time only */
  topology?: (tenant: string) => Promise<Topology>;
  silences?: SilenceStore;
  /** how often it ticks itself while busy (default 1 s): the resolution of group_wait and alert ends */
  tickMs?: number;
}

export const DEFAULT_CORRELATOR_TICK_MS = 1_000;
/** A topology older than this is loaded again at a tick (the DESIGN's topology L1 TTL), besides on change. */
export const TOPOLOGY_REFRESH_MS = 5 * 60_000;

interface CorrelatorState {
  core: TenantCorrelation;
  /** this incarnation's timer chain (a restarted actor's old chain stops at its next firing) */
  generation: number;
  timer: boolean;
  topologyAt: number;
}

let generations = 0;

export function correlatorBehavior(deps: CorrelatorDeps): Behavior<CorrelatorMsg, CorrelatorState> {
  const tickMs = deps.tickMs ?? DEFAULT_CORRELATOR_TICK_MS;
  const apply = (effects: CorrelationEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'alert') deps.sink.alert(e.alert);
      else if (e.type === 'incident') deps.sink.incident(e.incident);
      else deps.sink.notify?.(e.notification);
    }
  };
  const loadTopology = (state: CorrelatorState, ctx: ActorContext<CorrelatorMsg>): void => {
    if (!deps.topology) return;
    state.topologyAt = ctx.clock.now();
    deps.topology(deps.tenant).then(
      (topology) => ctx.self.tell({ type: 'topology', topology }),
      // the graph store is down: keep grouping with the topology already held (DESIGN: cached topology)
      (err: unknown) => ctx.log.warn({ err }, 'topology could not be loaded; correlation keeps the one it has'),
    );
  };
  const schedule = (state: CorrelatorState, ctx: ActorContext<CorrelatorMsg>): void => {
    if (state.timer || !state.core.busy()) return;
    state.timer = true;
    const generation = state.generation;
    ctx.clock.setTimeout(() => ctx.self.tell({ type: 'self-tick', generation }), tickMs);
  };
  const saveSilences = async (state: CorrelatorState): Promise<void> => {
    await deps.silences?.save(deps.tenant, state.core.savedSilences());
  };
  const silenceOp = async (state: CorrelatorState, run: () => { silence: Silence; effects: CorrelationEffect[] }, reply: (r: SilenceReply) => void): Promise<void> => {
    let done: { silence: Silence; effects: CorrelationEffect[] };
    try {
      done = run();
    } catch (err) {
      if (!VigilError.is(err)) throw err;
      reply({ ok: false, error: err });
      return;
    }
    apply(done.effects);
    try {
      await saveSilences(state); // answered once it would survive a restart
    } catch (err) {
      reply({ ok: false, error: new VigilError('UNAVAILABLE', `the silence is in effect but could not be saved: ${(err as Error).message}`) });
      return;
    }
    reply({ ok: true, silence: done.silence });
  };

  const loadSilences = (ctx: ActorContext<CorrelatorMsg>): Silence[] => {
    try {
      return deps.silences?.load(deps.tenant) ?? [];
    } catch (err) {
      // an unreadable file must not keep the tenant's correlation down: start without, loudly
      ctx.log.error({ err }, 'saved silences could not be read; starting without them');
      return [];
    }
  };

  return {
    kind: 'correlator',
    init(ctx) {
      const core = new TenantCorrelation(deps.tenant, deps.settings, deps.incidents.unresolved(deps.tenant), {
        ...(deps.level ? { level: deps.level } : {}),
        silences: loadSilences(ctx),
        now: ctx.clock.now(),
      });
      const state: CorrelatorState = { core, generation: ++generations, timer: false, topologyAt: 0 };
      loadTopology(state, ctx);
      schedule(state, ctx);
      return state;
    },
    async receive(state, msg, ctx) {
      const now = ctx.clock.now();
      const core = state.core;
      switch (msg.type) {
        case 'anomalies':
          apply(core.onAnomalies(msg.events, now).effects);
          break;
        case 'alerts': {
          const r = core.onAlerts(msg.alerts, now);
          apply(r.effects);
          msg.reply?.({ accepted: msg.alerts.length - r.refused, refused: r.refused });
          break;
        }
        case 'set-status': {
          const inc = core.setStatus(msg.id, msg.status, now);
          if (inc) deps.sink.incident(inc);
          apply(core.flush(now));
          msg.reply(inc);
          break;
        }
        case 'tick':
          apply(core.tick(msg.now));
          if (now - state.topologyAt >= TOPOLOGY_REFRESH_MS) loadTopology(state, ctx);
          break;
        case 'self-tick':
          if (msg.generation !== state.generation) return state; // a former incarnation's timer
          state.timer = false;
          apply(core.tick(now));
          break;
        case 'topology':
          if (msg.topology) core.setTopology(new TopologyIndex(msg.topology));
          else loadTopology(state, ctx);
          break;
        case 'silence-put':
          await silenceOp(state, () => core.putSilence(msg.draft, now, () => silenceId(deps.tenant, now, ctx.rng.next())), msg.reply);
          break;
        case 'silence-expire':
          await silenceOp(state, () => core.expireSilence(msg.id, now), msg.reply);
          break;
        case 'silences':
          msg.reply(core.silenceList(now));
          break;
        case 'alert-list':
          msg.reply(core.alertViews(now));
          break;
        case 'sync':
          msg.reply(true);
          break;
      }
      schedule(state, ctx);
      return state;
    },
  };
}

/** A silence id in Alertmanager's form (a UUID's shape), from the tenant, the time and the seeded random stream. */
function silenceId(tenant: string, now: number, r: number): string {
  const text = `${tenant}:${now}:${r}`;
  const hex = fnv1a(text).toString(16).padStart(8, '0') + fnv1a(text, 0x9e3779b9).toString(16).padStart(8, '0')
    + fnv1a(text, 0x85ebca6b).toString(16).padStart(8, '0') + fnv1a(text, 0xc2b2ae35).toString(16).padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
