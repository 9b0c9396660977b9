// Streaming CSV for `vigil detect` and the benchmarks (bench/csv re-exports it).
export { readSeriesCsv, readSeries, CsvFormatError } from './reader.ts';
export type { SeriesBatch, ReadOptions } from './reader.ts';
export { parseTimestamp } from './timestamp.ts';
export { parseValue, isUnreadableValue } from './value.ts';
