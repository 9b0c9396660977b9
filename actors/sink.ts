// Where the domain actors send what they produce. The node implements it: batch writers
// into the store, the live stream, and the counters behind /metrics. Effects go one way,
// from the actors through this face; nothing comes back up. Keeping this one face lets the
// simulator and tests run the same actors against their own sink.
import type { Alert, AnomalyEvent, Incident, IncidentNotification, IncidentRca, SeriesInput } from '../protocols/index.ts';

/** One series' detector verdicts for a batch: [timestampMs, score, expected] per sample, in order. */
export type SeriesVerdicts = Array<[number, number, number]>;

export interface EventSink {
  /**
   * Raw samples a ServiceActor took in. Resolves once they are stored; `replay` marks a
   * batch read again from the ingest log after a restart (some of it may be stored already);
   * `epoch` (cluster mode) is the lease token the batch was read under: a sink refuses a
   * batch whose ownership has ended, even if this node holds the shard again since.
   * `verdicts` (when the sink `keepsVerdicts`): per series of the batch, the detector's verdict
   * on each of its samples, stored in the sample's row (what GET /v1/series/band reads); a
   * series whose list is missing or short has the rest of its samples unscored.
   */
  samples(tenant: string, service: string, series: readonly SeriesInput[], replay: boolean, epoch?: number, verdicts?: readonly SeriesVerdicts[]): Promise<void>;
  /** Whether `samples` keeps the detectors' verdicts; absent: the actors do not collect them. */
  readonly keepsVerdicts?: boolean;
  /**
   * Whether a batch read under `epoch` may still have effects (cluster mode: this node still
   * holds the tenant's shard under that lease). A batch that may not is left whole to the
   * shard's replay: its samples are refused and it is not detected on, so neither its samples
   * nor its anomalies are produced twice. Absent: always.
   */
  current?(tenant: string, epoch: number): boolean;
  anomaly(event: AnomalyEvent): void;
  alert(alert: Alert): void;
  incident(incident: Incident): void;
  /** An incident's ranked root causes (actors/rca), each time they are computed. */
  rca?(result: IncidentRca): void;
  /**
   * An incident's notification (actors/correlation: paced by group_wait, group_interval and
   * repeat_interval): what the on-call, runbooks and other receivers hear. Absent: dropped.
   */
  notify?(notification: IncidentNotification): void;
}
