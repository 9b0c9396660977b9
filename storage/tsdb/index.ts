// storage/tsdb: time series and events in the ClickHouse engine (chdb embedded, or a server).
export { TsdbStore } from './store.ts';
export type { TsdbOptions } from './store.ts';
export { openEngine, openChdbFolder, DEFAULT_REQUEST_TIMEOUT_MS } from './engine.ts';
export type { Engine, EngineConnection, EngineOptions } from './engine.ts';
export { chooseResolution, MAX_SERIES_POINTS } from './series.ts';
export { ROLLUP_LAG_MS, ROLLUP_PASS_INTERVAL_MS } from './rollup.ts';
export type { RollupMarks, RollupStatus } from './rollup.ts';
export { registerRollupMetrics } from './metrics.ts';
export {
  DEFAULT_DATABASE, DEFAULT_RAW_RETENTION_DAYS, MAX_RETENTION_DAYS, ROLLUP_1H_MS, ROLLUP_1M_MS,
  ROLLUP_1H_RETENTION_DAYS, ROLLUP_1M_RETENTION_DAYS, schemaStatements,
} from './schema.ts';
export { decodeKeyset, encodeKeyset } from './keyset.ts';
export type { Keyset } from './keyset.ts';
export type {
  AsyncEventStore, AsyncSeriesStore, IncidentVersion, RcaVersion, Resolution, SampleRun, SeriesAnswer,
  SeriesBucket, SeriesQuery, WriteMode,
} from './types.ts';
