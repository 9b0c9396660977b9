// ServiceActor: one per (tenant, service), spawned on the service's first sample and
// passivated when idle. It owns the detector state of every series of its service.
// A throw from a detector crashes it; its parent restarts it with fresh state.
import type { Behavior } from '../runtime/index.ts';
import type { AnomalyEvent, SeriesInput } from '../../protocols/index.ts';
import type { SeriesStore } from '../../storage/index.ts';
import type { EventSink } from '../sink.ts';
import type { IngestReceipt } from '../ingest-receipt.ts';
import { ServiceDetection, type DetectorFactory, type MetricDetection, type SeriesSnapshot } from './service-state.ts';

/** `receipt` gives the samples back to the node's ingest backlog once they are taken in. */
export type ServiceMsg = { type: 'samples'; series: SeriesInput[]; receipt?: IngestReceipt };

export interface ServiceDeps {
  tenant: string;
  service: string;
  detectionOf: (metric: string) => MetricDetection;
  detectors: DetectorFactory;
  store: SeriesStore;
  sink: EventSink;
  /** where anomalies go (the tenant's correlator) */
  onAnomalies: (events: AnomalyEvent[]) => void;
  idleAfterMs: number;
  /** detector state kept by the parent across passivation: taken at init, left at stop */
  stash: Map<string, SeriesSnapshot[]>;
}

export function serviceBehavior(deps: ServiceDeps): Behavior<ServiceMsg, ServiceDetection> {
  return {
    kind: 'service',
    idleAfterMs: deps.idleAfterMs,
    init() {
      const saved = deps.stash.get(deps.service);
      deps.stash.delete(deps.service);
      return new ServiceDetection(deps.tenant, deps.service, deps.detectionOf, deps.detectors, saved);
    },
    receive(state, msg) {
      const found: AnomalyEvent[] = [];
      let count = 0;
      try {
        for (const s of msg.series) {
          // Keep the raw samples first: a detector crash must not lose accepted data.
          deps.store.append(deps.tenant, { service: deps.service, metric: s.metric, labels: s.labels ?? {} }, s.samples);
          count += s.samples.length;
        }
      } finally {
        // taken in (or never will be, if the store threw): either way out of the backlog, once
        msg.receipt?.settle();
      }
      deps.sink.samples(deps.tenant, count);
      for (const s of msg.series) state.detect(s, found);
      if (found.length > 0) {
        for (const ev of found) deps.sink.anomaly(ev);
        deps.onAnomalies(found);
      }
      return state;
    },
    onStop(state) {
      deps.stash.set(deps.service, state.snapshot());
    },
  };
}
