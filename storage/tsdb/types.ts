// The asynchronous store faces over the ClickHouse engine. They mirror storage/types.ts's
// SeriesStore and EventStore (same tenants, same newest-first pages), made async so a real
// database fits behind them. The integrator moves these into storage/types.ts.
import type {
  Alert, AnomalyEvent, Incident, IncidentRca, Labels, Page, SeriesKey, TimeRange,
} from '../../protocols/index.ts';
import type { EventFilter, IncidentFilter } from '../types.ts';

/** Which table answers a series query: raw samples, or the 1-minute / 1-hour rollups. */
export type Resolution = 'raw' | '1m' | '1h';

export interface SeriesQuery extends TimeRange {
  service: string;
  metric: string;
  /** only the series with exactly these labels; absent: every series of (service, metric), merged */
  labels?: Labels;
  /** bucket width in ms; absent: raw samples. The rollup is chosen by it (see chooseResolution). */
  step?: number;
  /** raw: the newest `limit` samples; stepped: the newest `limit` buckets */
  limit?: number;
}

/** One step bucket: statistics over every sample that fell in [t, t + step). */
export interface SeriesBucket {
  t: number;
  count: number;
  avg: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface SeriesAnswer {
  resolution: Resolution;
  /** the bucket width used (absent for raw samples) */
  step?: number;
  /** [t, value] in time order: raw values, or each bucket's average */
  points: Array<[number, number]>;
  /** per-bucket statistics (stepped queries only) */
  buckets?: SeriesBucket[];
}

/** A run of samples of one series, as ingest carries them (one object per run, not per sample). */
export interface SampleRun extends SeriesKey {
  tenant: string;
  samples: ReadonlyArray<readonly [number, number]>;
  /**
   * The detector's verdict on each sample, [timestampMs, score, expected], aligned with
   * `samples` (stored in the same row); absent or shorter: the samples left are not scored.
   */
  scores?: ReadonlyArray<readonly [number, number, number]>;
}

/** An incident state as written: `version` orders the states of one incident (the newest wins). */
export interface IncidentVersion {
  incident: Incident;
  version: number;
}

/** An incident's root-cause ranking as written: the highest version per incident is current. */
export interface RcaVersion {
  rca: IncidentRca;
  version: number;
}

/**
 * How a write treats rows that may already be stored. `checked` writes (a retry after an
 * unknown outcome, a spill drain, a log replay) skip rows whose key is already there, so the
 * rollups, which count every inserted row, stay exact. Plain writes skip the check.
 */
export interface WriteMode {
  checked?: boolean;
  signal?: AbortSignal;
}

/** Raw samples and scores per series, asynchronously. */
export interface AsyncSeriesStore {
  append(tenant: string, key: SeriesKey, samples: ReadonlyArray<readonly [number, number]>): Promise<void>;
  /** Bulk write (what the batch writer calls), each sample with its detector verdict when the run has one. */
  writeSamples(runs: readonly SampleRun[], mode?: WriteMode): Promise<void>;
  /** Samples of every series of (service, metric) in time order, merged (storage/types.ts's query). */
  query(tenant: string, service: string, metric: string, range: TimeRange & { limit?: number; step?: number }): Promise<Array<[number, number]>>;
  /** The same with the resolution and per-bucket statistics. */
  series(tenant: string, q: SeriesQuery): Promise<SeriesAnswer>;
  /** Detector verdicts of (service, metric), merged, in time order: [t, score, expected]. */
  scores(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number]>>;
  /** Sample rows held (before background merges remove replayed duplicates). */
  size(): Promise<number>;
}

/** Anomalies, alerts and incidents. Newest first in every page; keyset cursors. */
export interface AsyncEventStore {
  /** false when an event with this id was already stored (alerts are at-least-once). */
  putAnomaly(event: AnomalyEvent): Promise<boolean>;
  putAlert(alert: Alert): Promise<boolean>;
  /** Insert or replace by id; true when it was new. */
  putIncident(incident: Incident): Promise<boolean>;
  /** Bulk, idempotent writes (what the batch writer calls). */
  writeAnomalies(events: readonly AnomalyEvent[], mode?: WriteMode): Promise<void>;
  writeAlerts(alerts: readonly Alert[], mode?: WriteMode): Promise<void>;
  writeIncidents(versions: readonly IncidentVersion[], mode?: WriteMode): Promise<void>;
  /** The version a new incident state gets: increasing within this store. */
  nextIncidentVersion(): number;
  anomalies(tenant: string, q: EventFilter): Promise<Page<AnomalyEvent>>;
  alerts(tenant: string, q: EventFilter): Promise<Page<Alert>>;
  incidents(tenant: string, q: IncidentFilter): Promise<Page<Incident>>;
  incident(tenant: string, id: string): Promise<Incident | undefined>;
  /** Every stored state of one incident, oldest first (its timeline). */
  incidentTimeline(tenant: string, id: string): Promise<Incident[]>;
  unresolvedIncidents(tenant: string): Promise<Incident[]>;
  /** Root-cause rankings (actors/rca), idempotent: a replayed version collapses. */
  writeRca(versions: readonly RcaVersion[], mode?: WriteMode): Promise<void>;
  /** The newest ranking of one incident, if any. */
  incidentRca(tenant: string, incidentId: string): Promise<IncidentRca | undefined>;
}
