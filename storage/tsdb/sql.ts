// The few client calls the store makes, in one place: JSON rows out, TabSeparated text in.
// Every value reaches the engine as a bound parameter ({name:Type}); only the database name
// (checked in schema.ts) is spliced into SQL text.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { VigilError } from '../../protocols/index.ts';

export type Params = Record<string, unknown>;

export class Sql {
  constructor(readonly client: ClickHouseClient, readonly db: string) {}

  async rows<T>(query: string, params: Params = {}, signal?: AbortSignal): Promise<T[]> {
    try {
      const rs = await this.client.query({ query, query_params: params, format: 'JSONEachRow', abort_signal: signal });
      return await rs.json<T>();
    } catch (err) {
      throw engineError('query', err);
    }
  }

  async text(query: string, params: Params = {}, signal?: AbortSignal): Promise<string> {
    try {
      const rs = await this.client.query({ query, query_params: params, format: 'TabSeparated', abort_signal: signal });
      return await rs.text();
    } catch (err) {
      throw engineError('query', err);
    }
  }

  async command(query: string, params: Params = {}): Promise<void> {
    try {
      await this.client.command({ query, query_params: params });
    } catch (err) {
      throw engineError('command', err);
    }
  }

  async insertTsv(table: string, columns: readonly string[], text: string, signal?: AbortSignal): Promise<void> {
    if (text.length === 0) return;
    try {
      await this.client.insert({
        table: `${this.db}.${table}`, format: 'TabSeparated', columns: [columns[0]!, ...columns.slice(1)],
        values: Readable.from([Buffer.from(text)], { objectMode: false }), abort_signal: signal,
      });
    } catch (err) {
      throw engineError(`insert into ${table}`, err);
    }
  }

  async insertJson<T>(table: string, rows: readonly T[], signal?: AbortSignal): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.client.insert({ table: `${this.db}.${table}`, format: 'JSONEachRow', values: rows as T[], abort_signal: signal });
    } catch (err) {
      throw engineError(`insert into ${table}`, err);
    }
  }
}

/** Engine failures are UNAVAILABLE (retryable), except the engine's verdict on bad SQL or values. */
function engineError(what: string, err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = /SYNTAX_ERROR|UNKNOWN_IDENTIFIER|TYPE_MISMATCH|CANNOT_PARSE|ILLEGAL_TYPE/.test(message) ? 'INTERNAL' : 'UNAVAILABLE';
  return new VigilError(code, `tsdb: ${what} failed: ${message.split('\n')[0]}`, { cause: err });
}

/** Numbers from JSON output (64-bit integers arrive quoted). */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
