// The time-series part: every table of the tsdb database exported as one gzip'd Native file
// and inserted back. Native keeps each column's exact binary value (aggregate states of the
// rollups included), so the restored rows are the stored rows, not a re-computation.
//
// chdb: ClickHouse's own file() table function reads and writes the file (on chdb's threads,
// no bytes through JS). A server (CLICKHOUSE_URL): the same SELECT/INSERT in Native over HTTP,
// streamed through Node's gzip, since file() there would name the server's disk.
import { createReadStream, createWriteStream } from 'node:fs';
import { createGunzip, createGzip } from 'node:zlib';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VigilError } from '../../protocols/index.ts';
import type { Engine } from '../tsdb/index.ts';
import { schemaStatements } from '../tsdb/index.ts';
import { hashFile } from './files.ts';
import type { ColumnEntry, FileEntry, Progress, TableEntry } from './types.ts';

/** The exported tables' folder inside a backup. */
export const TSDB_PART_DIR = 'tsdb';
const TABLE_SUFFIX = '.native.gz';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** ClickHouse's file() reads these as globs, so a path holding one cannot be named to it. */
const GLOB_CHARS = /[*?{}]/;
/** Node's gzip level for the server path: 1 is several times faster than 6 and Native compresses well. */
export const DEFAULT_GZIP_LEVEL = 1;

export interface TsdbPart {
  tables: TableEntry[];
  files: FileEntry[];
}

/** Exports every table of `database` (views and Null tables are left out: their DDL is the node's schema). */
export async function exportTables(engine: Engine, database: string, backupDir: string, progress: Progress): Promise<TsdbPart> {
  const db = ident(database);
  const tables: TableEntry[] = [];
  const files: FileEntry[] = [];
  const names = await rows<{ name: string; ddl: string }>(engine,
    `SELECT name, create_table_query AS ddl FROM system.tables
     WHERE database = {db:String} AND engine NOT IN ('MaterializedView', 'View', 'LiveView', 'WindowView', 'Null') AND NOT is_temporary
       AND NOT startsWith(name, '.inner') ORDER BY name`, { db: database });
  for (const { name, ddl } of names) {
    const table = ident(name);
    const started = Date.now();
    const columns = await columnsOf(engine, database, table);
    const rel = `${TSDB_PART_DIR}/${table}${TABLE_SUFFIX}`;
    const path = join(backupDir, rel);
    const list = columns.map((c) => quoteIdent(c.name)).join(', ');
    // A background merge folds duplicates (ReplacingMergeTree) or expired rows (TTL): none may
    // run between the count and the export, or the manifest would not describe the file.
    await withMergesStopped(engine, `${db}.${table}`, async () => {
      const counted = await fingerprint(engine, `${db}.${table}`, columns);
      if (engine.kind === 'chdb') {
        await engine.client.command({
          query: `INSERT INTO FUNCTION file(${fileLiteral(path)}, 'Native') SELECT ${list} FROM ${db}.${table}`,
          clickhouse_settings: { engine_file_truncate_on_insert: 0 },
        });
      } else {
        const res = await engine.client.exec({ query: `SELECT ${list} FROM ${db}.${table} FORMAT Native` });
        await pipeline(res.stream as Readable, createGzip({ level: DEFAULT_GZIP_LEVEL }), createWriteStream(path, { flags: 'wx' }));
      }
      const { size, sha256 } = await hashFile(path);
      files.push({ path: rel, size, sha256 });
      tables.push({ name: table, file: rel, rows: counted.rows, fingerprint: counted.fingerprint, columns, ddl });
      progress(`tsdb table ${table}: ${counted.rows.toLocaleString('en-US')} rows, ${mb(size)} in ${seconds(started)}`);
    });
  }
  return { tables, files };
}

export interface ImportOptions {
  /** empty the tables first (a server database that already holds rows) */
  truncate?: boolean;
}

/**
 * Creates the node's schema, then puts every exported table's rows back exactly: the
 * materialised views are dropped meanwhile (so inserting raw samples does not add rollup rows
 * on top of the restored rollups) and re-created from their own DDL afterwards; inserts keep
 * duplicates as they were (optimize_on_insert = 0), and each table's count and fingerprint must
 * match the manifest.
 */
export async function importTables(
  engine: Engine, database: string, backupDir: string, tables: readonly TableEntry[], progress: Progress, opts: ImportOptions = {},
): Promise<void> {
  const db = ident(database);
  for (const stmt of schemaStatements(database, engine.kind)) await command(engine, stmt);
  const existing = new Set((await rows<{ name: string }>(engine,
    `SELECT name FROM system.tables WHERE database = {db:String}`, { db: database })).map((r) => r.name));
  for (const t of tables) if (!existing.has(ident(t.name))) await command(engine, t.ddl);
  const occupied: string[] = [];
  for (const t of tables) {
    const n = Number((await rows<{ n: string }>(engine, `SELECT count() AS n FROM ${db}.${ident(t.name)}`))[0]?.n ?? 0);
    if (n > 0) occupied.push(`${t.name} (${n} rows)`);
  }
  if (occupied.length > 0) {
    if (!opts.truncate) {
      throw new VigilError('CONFLICT', `tsdb database ${database} already holds rows: ${occupied.join(', ')}; restore into an empty one or pass --force to empty it`);
    }
    for (const t of tables) await command(engine, `TRUNCATE TABLE ${db}.${ident(t.name)}`);
  }
  const views = await rows<{ name: string; ddl: string }>(engine,
    `SELECT name, create_table_query AS ddl FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name`,
    { db: database });
  for (const v of views) await command(engine, `DROP TABLE ${db}.${ident(v.name)}`);
  try {
    for (const t of tables) await importTable(engine, db, backupDir, t, progress);
  } finally {
    // Even after a failure: a node opening this database must find its views.
    for (const v of views) await command(engine, v.ddl.replace(/^CREATE MATERIALIZED VIEW (?!IF NOT EXISTS)/, 'CREATE MATERIALIZED VIEW IF NOT EXISTS '));
  }
}

async function importTable(engine: Engine, db: string, backupDir: string, t: TableEntry, progress: Progress): Promise<void> {
  const table = ident(t.name);
  const started = Date.now();
  const have = new Set((await columnsOf(engine, db, table)).map((c) => c.name));
  const missing = t.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new VigilError('CONFLICT', `tsdb table ${table} has no column ${missing.join(', ')} that the backup holds; restore with the Vigil version that made the backup`);
  }
  const list = t.columns.map((c) => quoteIdent(c.name)).join(', ');
  const path = join(backupDir, t.file);
  const settings = { optimize_on_insert: 0, max_partitions_per_insert_block: '0' } as const;
  await withMergesStopped(engine, `${db}.${table}`, async () => {
    if (t.rows > 0) {
      if (engine.kind === 'chdb') {
        await command(engine, `INSERT INTO ${db}.${table} (${list}) SELECT ${list} FROM file(${fileLiteral(path)}, 'Native')`, settings);
      } else {
        const res = await engine.client.exec({
          query: `INSERT INTO ${db}.${table} (${list}) FORMAT Native`,
          values: createReadStream(path).pipe(createGunzip()),
          clickhouse_settings: settings,
        });
        (res.stream as Readable).resume();
      }
    }
    const got = await fingerprint(engine, `${db}.${table}`, t.columns);
    if (got.rows !== t.rows || got.fingerprint !== t.fingerprint) {
      throw new VigilError('INTERNAL',
        `tsdb table ${table} restored ${got.rows} rows (fingerprint ${got.fingerprint}) but the backup holds ${t.rows} (fingerprint ${t.fingerprint})`);
    }
  });
  progress(`tsdb table ${table}: ${t.rows.toLocaleString('en-US')} rows restored and checked in ${seconds(started)}`);
}

/** Row count and an order-free fingerprint of a table's rows (each row's RowBinary, hashed, summed). */
export async function fingerprint(engine: Engine, table: string, columns: readonly ColumnEntry[]): Promise<{ rows: number; fingerprint: string }> {
  const list = columns.map((c) => quoteIdent(c.name)).join(', ');
  const [r] = await rows<{ n: string; fp: string }>(engine,
    `SELECT toString(count()) AS n, toString(sum(cityHash64(formatRow('RowBinary', ${list})))) AS fp FROM ${table}`);
  return { rows: Number(r?.n ?? 0), fingerprint: r?.fp ?? '0' };
}

export async function engineVersion(engine: Engine): Promise<string> {
  return (await rows<{ v: string }>(engine, 'SELECT version() AS v'))[0]?.v ?? 'unknown';
}

async function columnsOf(engine: Engine, database: string, table: string): Promise<ColumnEntry[]> {
  return rows<ColumnEntry>(engine,
    `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}
     AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL') ORDER BY position`, { db: database, t: table });
}

async function withMergesStopped<T>(engine: Engine, table: string, run: () => Promise<T>): Promise<T> {
  await command(engine, `SYSTEM STOP MERGES ${table}`);
  try {
    return await run();
  } finally {
    await command(engine, `SYSTEM START MERGES ${table}`);
  }
}

async function rows<T>(engine: Engine, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  try {
    const rs = await engine.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (err) {
    throw engineError(err);
  }
}

async function command(engine: Engine, query: string, settings: Record<string, string | number> = {}): Promise<void> {
  try {
    await engine.client.command({ query, clickhouse_settings: settings });
  } catch (err) {
    throw engineError(err);
  }
}

function engineError(err: unknown): VigilError {
  if (err instanceof VigilError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new VigilError('UNAVAILABLE', `tsdb: ${message.split('\n')[0]}`, { cause: err });
}

/** Names from the engine or the manifest go into SQL text: only plain identifiers pass. */
function ident(name: string): string {
  if (!IDENTIFIER.test(name)) throw new VigilError('BAD_REQUEST', `tsdb: table or database name ${JSON.stringify(name)} is not a plain identifier`);
  return name;
}

const quoteIdent = (name: string): string => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

function fileLiteral(path: string): string {
  if (GLOB_CHARS.test(path)) {
    throw new VigilError('BAD_REQUEST', `backup path ${path} holds one of * ? { } (ClickHouse's file() reads them as globs); choose another folder`);
  }
  return `'${path.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
