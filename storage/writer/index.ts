// storage/writer: batch writers between the actors' effects and the store.
export {
  BatchWriter, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_MAX_BATCH_ROWS, DEFAULT_MAX_MEMORY_ROWS, DEFAULT_PROBE_INTERVAL_MS,
} from './batch-writer.ts';
export type { BatchWriterOptions } from './batch-writer.ts';
export { StoreWriters, DEFAULT_EVENT_BATCH_ROWS, DEFAULT_EVENT_FLUSH_INTERVAL_MS } from './store-writers.ts';
export type { StoreWritersOptions } from './store-writers.ts';
export { alertsTable, anomaliesTable, incidentsTable, samplesTable } from './tables.ts';
export type { WriterEvent, WriterStats, WriterTable } from './types.ts';
