// Where the domain actors send what they produce. The node implements it: stores,
// the live stream, and the counters behind /metrics. Keeping this one face lets the
// simulator run the same actors against its own sink.
import type { Alert, AnomalyEvent, Incident } from '../protocols/index.ts';

export interface EventSink {
  anomaly(event: AnomalyEvent): void;
  alert(alert: Alert): void;
  incident(incident: Incident): void;
  /** samples a ServiceActor has taken in (for the ingest counters) */
  samples(tenant: string, count: number): void;
}
