// Streaming reader for `timestamp,value` CSV files (NAB's layout, extra columns allowed).
// Rows come out in batches so a 1 GB file is read in bounded memory and the per-row cost
// carries no await; the raw text of each field is kept so writers can echo it unchanged.
import { createReadStream } from 'node:fs';
import { VigilError } from '../../protocols/errors.ts';
import { parseTimestamp } from './timestamp.ts';
import { parseValue } from './value.ts';

export interface SeriesBatch {
  /** raw timestamp field of each row, as written in the file */
  stamps: string[];
  /** raw value field of each row, as written in the file */
  values: string[];
  /** 1-based line number of each row in the file (blank lines are skipped, so not implied) */
  lines: number[];
}

/** A file that is not a timestamp,value CSV: the message names the file. */
export class CsvFormatError extends VigilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_REQUEST', message, options);
    this.name = 'CsvFormatError';
  }
}

export interface ReadOptions {
  /** rows per batch (default 8192) */
  batchRows?: number;
}

function columnsOf(header: string, path: string): { ts: number; value: number } {
  const names = header.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  const ts = names.indexOf('timestamp');
  const value = names.indexOf('value');
  if (ts < 0 || value < 0) throw new CsvFormatError(`${path}: header must name 'timestamp' and 'value' columns`);
  return { ts, value };
}

/** Yields the data rows of a CSV file in batches, in file order. */
export async function* readSeriesCsv(path: string, options: ReadOptions = {}): AsyncGenerator<SeriesBatch> {
  const batchRows = options.batchRows ?? 8192;
  let cols: { ts: number; value: number } | undefined;
  let rest = '';
  let batch: SeriesBatch = { stamps: [], values: [], lines: [] };
  let lineNo = 0;
  const take = (line: string): void => {
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (cols === undefined) {
      if (line.trim() === '') return;
      cols = columnsOf(line.replace(/^\uFEFF/, ''), path);
      return;
    }
    if (line === '') return;
    const fields = line.split(',');
    batch.stamps.push(fields[cols.ts] ?? '');
    batch.values.push(fields[cols.value] ?? '');
    batch.lines.push(lineNo);
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
      if (batch.stamps.length >= batchRows) {
        yield batch;
        batch = { stamps: [], values: [], lines: [] };
      }
    }
    rest = text.slice(start);
  }
  if (rest !== '') take(rest);
  if (cols === undefined) throw new CsvFormatError(`${path}: empty file (no header)`);
  if (batch.stamps.length > 0) yield batch;
}

/** Reads a whole (small) series into arrays: parsed timestamps and values. */
export async function readSeries(path: string): Promise<{ timestamps: number[]; values: number[] }> {
  const timestamps: number[] = [];
  const values: number[] = [];
  for await (const b of readSeriesCsv(path)) {
    for (let i = 0; i < b.stamps.length; i++) {
      timestamps.push(parseTimestamp(b.stamps[i] as string));
      values.push(parseValue(b.values[i] as string));
    }
  }
  return { timestamps, values };
}
