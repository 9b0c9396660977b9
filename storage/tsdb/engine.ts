// One client for both engines: @clickhouse/client over HTTP when a server URL is given,
// and the same client over chdb's in-process Connection (the client's `connection` hook)
// otherwise. Every query and insert goes through the same client calls and SQL.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { VigilError } from '../../protocols/index.ts';

/** The client's pluggable connection contract (not re-exported by @clickhouse/client's entry). */
export type EngineConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'] & object;

export interface EngineOptions {
  /** a ClickHouse server, e.g. http://127.0.0.1:8123 (CLICKHOUSE_URL); absent: embedded chdb */
  url?: string;
  username?: string;
  password?: string;
  /** embedded: the folder chdb keeps its data in (one per process) */
  chdbPath?: string;
  /** wraps chdb's connection before the client gets it (tests inject faults here) */
  wrapConnection?: (inner: EngineConnection) => EngineConnection;
  /** per-request timeout for the HTTP client, ms */
  requestTimeoutMs?: number;
}

export interface Engine {
  readonly client: ClickHouseClient;
  readonly kind: 'chdb' | 'server';
  close(): Promise<void>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

// chdb binds one data folder per process: remember which one is open and how often.
let chdbFolder: { path: string; users: number } | undefined;

/** Opens the engine named by the options: a server when `url` is set, else chdb at `chdbPath`. */
export function openEngine(opts: EngineOptions): Engine {
  if (opts.url) {
    const client = createClient({
      url: opts.url,
      username: opts.username ?? 'default',
      password: opts.password ?? '',
      request_timeout: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      // Failures reach the caller as errors (and the writer's events); the client's own log is noise.
      log: { level: ClickHouseLogLevel.OFF },
    });
    return { client, kind: 'server', close: () => client.close() };
  }
  if (!opts.chdbPath) throw new VigilError('CONFIG_INVALID', 'tsdb: neither a ClickHouse URL nor a chdb folder was given');
  const path = resolve(opts.chdbPath);
  if (chdbFolder && chdbFolder.path !== path) {
    throw new VigilError('CONFIG_INVALID', `tsdb: chdb allows one data folder per process; ${chdbFolder.path} is open, ${path} was asked for`);
  }
  mkdirSync(path, { recursive: true });
  let connection: EngineConnection;
  try {
    connection = createChdbConnection({ path }) as unknown as EngineConnection;
  } catch (err) {
    throw new VigilError('UNAVAILABLE', `tsdb: chdb could not open ${path}`, { cause: err });
  }
  chdbFolder = chdbFolder ? { path, users: chdbFolder.users + 1 } : { path, users: 1 };
  const client = createClient({
    connection: opts.wrapConnection ? opts.wrapConnection(connection) : connection,
    log: { level: ClickHouseLogLevel.OFF },
  });
  let closed = false;
  return {
    client,
    kind: 'chdb',
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      if (chdbFolder && --chdbFolder.users === 0) chdbFolder = undefined;
    },
  };
}

/** The chdb folder open in this process, if any (a second node in one process shares it). */
export function openChdbFolder(): string | undefined {
  return chdbFolder?.path;
}
