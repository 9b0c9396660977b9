// ServiceActor: one per (tenant, service), spawned on the service's first sample and
// passivated when idle. It owns the detector state of every series of its service.
// A throw from a detector crashes it; its parent restarts it with fresh state.
import type { Behavior } from '../runtime/index.ts';
import type { AnomalyEvent, SeriesInput } from '../../protocols/index.ts';
import type { EventSink, SeriesVerdicts } from '../sink.ts';
import type { IngestReceipt } from '../ingest-receipt.ts';
import { CAPABILITIES, type Level, type LevelSource } from '../../supervisors/index.ts';
import { ServiceDetection, type DetectorFactory, type MetricDetection, type SeriesSnapshot, type StatePacker } from './service-state.ts';

/**
 * `receipt` gives the samples back to the node's ingest backlog once taken in, and learns
 * when they are stored. `position` is the batch's place in its shard's ingest log (0: none);
 * `replay` marks a batch read again after a restart; `epoch` the ownership it was read under (cluster mode).
 */
export type ServiceMsg =
  | { type: 'samples'; series: SeriesInput[]; receipt?: IngestReceipt; position?: number; replay?: boolean; epoch?: number }
  | { type: 'snapshot'; pack: StatePacker; reply: (packed: Uint8Array) => void };

export interface ServiceDeps {
  tenant: string;
  service: string;
  detectionOf: (metric: string) => MetricDetection;
  detectors: DetectorFactory;
  sink: EventSink;
  /** where anomalies go (the tenant's correlator) */
  onAnomalies: (events: AnomalyEvent[]) => void;
  idleAfterMs: number;
  /** detector state kept by the parent across passivation: taken at init, left at stop */
  stash: Map<string, SeriesSnapshot[]>;
  /** the node's degradation level, read once per batch (absent: L0); see TenantDeps.level */
  level?: LevelSource;
  /** where anomalies go instead of onAnomalies when the level's alerting is pass-through
   * (L3, L4: straight to the on-call, no correlation); absent: onAnomalies at every level */
  passThrough?: (events: AnomalyEvent[], level: Level) => void;
}

export function serviceBehavior(deps: ServiceDeps): Behavior<ServiceMsg, ServiceDetection> {
  /** The batch to the sink, its receipt tracking the write; out of the backlog either way, once. */
  const store = (msg: Extract<ServiceMsg, { type: 'samples' }>, verdicts?: SeriesVerdicts[]): void => {
    try {
      msg.receipt?.track(deps.sink.samples(deps.tenant, deps.service, msg.series, msg.replay ?? false, msg.epoch, verdicts));
    } finally {
      // taken in (or never will be, if the sink threw)
      msg.receipt?.settle();
    }
  };
  return {
    kind: 'service',
    idleAfterMs: deps.idleAfterMs,
    init() {
      const saved = deps.stash.get(deps.service);
      deps.stash.delete(deps.service);
      return new ServiceDetection(deps.tenant, deps.service, deps.detectionOf, deps.detectors, saved);
    },
    receive(state, msg) {
      if (msg.type === 'snapshot') {
        msg.reply(state.pack(msg.pack));
        return state;
      }
      if (msg.epoch !== undefined && deps.sink.current && !deps.sink.current(deps.tenant, msg.epoch)) {
        // read under an ownership that has ended (it reached this actor late, after the shard
        // was taken again): its replay processes it; the sink refuses its samples, which fails its receipt
        store(msg);
        return state;
      }
      const found: AnomalyEvent[] = [];
      // the detector's verdict on every sample is stored in the sample's row, when the sink keeps it
      const verdicts: SeriesVerdicts[] | undefined = deps.sink.keepsVerdicts ? msg.series.map(() => []) : undefined;
      const level = deps.level?.() ?? 0;
      try {
        msg.series.forEach((s, i) => state.detect(s, found, msg.position ?? 0, level, verdicts?.[i]));
      } finally {
        // stored even when a detector threw (accepted data is never lost for a detector's
        // crash): its series and the ones after it go unscored
        store(msg, verdicts);
      }
      if (found.length > 0) {
        for (const ev of found) deps.sink.anomaly(ev);
        if (deps.passThrough && CAPABILITIES[level].alerting !== 'incidents') deps.passThrough(found, level);
        else deps.onAnomalies(found);
      }
      return state;
    },
    onStop(state) {
      deps.stash.set(deps.service, state.snapshot());
    },
  };
}
