// Streaming CSV for benchmarks and the `vigil detect` command.
export { readSeriesCsv, readSeries, CsvFormatError } from './reader.ts';
export type { SeriesBatch, ReadOptions } from './reader.ts';
export { parseTimestamp } from './timestamp.ts';
export { parseValue } from './value.ts';
