// What a node keeps on disk, under its data folder (`--data`):
//   log/        the ingest log (batches answered 202, until a snapshot covers them)
//   snapshots/  detector state per shard, at an ingest-log position
//   tsdb/       time series and events (chdb), unless CLICKHOUSE_URL names a server
//   spill/      rows the writers could not store yet (drained when the store is back)
//   graph/      the tenants' topology, unless MEMGRAPH_URL names a Memgraph
//   audit/      the audit log: who changed what, when (append-only, hash-chained)
// Hot reads (incidents, topology) go through a two-level cache: in process, and Redis when
// VIGIL_REDIS_URL names one (a Redis outage only shows in the logs and /metrics).
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, Rng } from '../actors/runtime/index.ts';
import { fnv1a, VigilError } from '../protocols/index.ts';
import { openGraphStore, type GraphStore } from '../storage/graph/index.ts';
import { AUDIT_FILE, FileAuditLog } from '../storage/audit/index.ts';
import { TwoLevelCache } from '../storage/cache/index.ts';
import { DEFAULT_DATABASE, openChdbFolder, TsdbStore, type EngineConnection } from '../storage/tsdb/index.ts';
import { StoreWriters, type WriterEvent } from '../storage/writer/index.ts';
import type { VigilConfig } from './config.ts';
import { DiskIngestLog, IngestLogError, type IngestLog } from './ingest-log/index.ts';
import { RETRY_POLICIES, isRetryable, retry } from '../supervisors/index.ts';
import { SnapshotStore } from './snapshots/index.ts';
import type { NodeHealth } from './health.ts';

/** A sample waits at most this long in its writer before it is stored (reads follow soon). */
export const SAMPLE_FLUSH_INTERVAL_MS = 250;

export interface NodeStores {
  log: IngestLog;
  snapshots: SnapshotStore;
  store: TsdbStore;
  writers: StoreWriters;
  graph: GraphStore;
  audit: FileAuditLog;
  cache: TwoLevelCache;
  close(): Promise<void>;
}

/** Before every Redis key of this deployment. */
export const CACHE_PREFIX = 'vigil:';

/**
 * With `health`, the stores report to it and injected faults reach them: the ingest log's
 * appends (bus), the tsdb's connection (tsdb, embedded chdb only), every GraphStore call (graph,
 * through the graph_db breaker) and the cache's reads (cache: they go to the origin, as when
 * Redis is gone; the in-process level is skipped too, which the cache does not let us separate).
 */
export async function openNodeStores(config: VigilConfig, clock: Clock, rng: Rng, log: Logger, env: NodeJS.ProcessEnv = process.env, health?: NodeHealth, sharedLog?: IngestLog): Promise<NodeStores> {
  const dir = resolve(config.node.dataDir);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    // cluster mode brings the JetStream log; the embedded node keeps its log on disk
    let ingestLog: IngestLog = sharedLog ?? await DiskIngestLog.open(join(dir, 'log'), { logger: log });
    opened.push(ingestLog);
    const retention = { tenantRetentionDays: new Map(config.tenants.flatMap((t) => (t.rawRetentionDays === undefined ? [] : [[t.id, t.rawRetentionDays] as [string, number]]))) };
    const store = await openTsdb(dir, clock, env, retention, health);
    opened.push(store);
    const writers = new StoreWriters(store, {
      clock, rng, spillDir: join(dir, 'spill'), flushIntervalMs: SAMPLE_FLUSH_INTERVAL_MS,
      onEvent: (e) => {
        logWriterEvent(log, e);
        health?.writerEvent(e);
      },
    });
    opened.push(writers);
    let graph = await openGraphStore({ dataDir: dir, memgraphUrl: env.MEMGRAPH_URL || undefined });
    opened.push(graph);
    const audit = await FileAuditLog.open({ path: join(dir, 'audit', AUDIT_FILE), clock, log });
    opened.push(audit);
    let cache = new TwoLevelCache({ redisUrl: env.VIGIL_REDIS_URL || undefined, prefix: CACHE_PREFIX, log, clock });
    if (health) {
      ingestLog = guardedLog(ingestLog, health, clock, rng);
      const unguarded = graph;
      graph = guardedGraph(graph, health);
      cache = guardedCache(cache, health);
      if (cache.stats().l2Configured) health.watchCache(() => cache.stats().l2Up);
      // the probe runs through the breaker once: a guarded store here would ask for a second probe and be refused
      health.watchGraph(() => unguarded.tenants());
    }
    return {
      log: ingestLog, snapshots: new SnapshotStore(join(dir, 'snapshots')), store, writers, graph, audit, cache,
      async close() {
        await writers.close();
        await Promise.allSettled([store.close(), graph.close(), ingestLog.close(), audit.close(), cache.close()]);
      },
    };
  } catch (err) {
    await Promise.allSettled(opened.reverse().map((o) => o.close()));
    throw err;
  }
}

/**
 * chdb holds one folder per process: a second node started in the same process (tests)
 * shares the open folder, in a database of its own.
 */
async function openTsdb(dir: string, clock: Clock, env: NodeJS.ProcessEnv, retention: { tenantRetentionDays: Map<string, number> }, health?: NodeHealth): Promise<TsdbStore> {
  if (env.CLICKHOUSE_URL) return TsdbStore.open({ url: env.CLICKHOUSE_URL, clock, ...retention });
  const own = join(dir, 'tsdb');
  const open = openChdbFolder();
  // every query and insert meets the tsdb's injected fault first, as a dead server would fail it
  const wrap = health ? { wrapConnection: (inner: EngineConnection) => faulty(inner, () => health.gate('tsdb'), ['close']) } : {};
  if (open === undefined || open === own) return TsdbStore.open({ chdbPath: own, clock, ...retention, ...wrap });
  return TsdbStore.open({ chdbPath: open, clock, database: `${DEFAULT_DATABASE}_${fnv1a(dir).toString(16)}`, ...retention, ...wrap });
}

/** `target` with every method but `spared` waiting for `gate` first (a switchable fault). */
function faulty<T extends object>(target: T, gate: () => Promise<void>, spared: string[]): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v: unknown = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string' || spared.includes(prop)) return typeof v === 'function' ? v.bind(t) : v;
      const fn = v as (...args: unknown[]) => unknown;
      return async (...args: unknown[]) => {
        await gate();
        return fn.apply(t, args);
      };
    },
  });
}

/**
 * An append is retried (bus_publish: from 100 ms, doubling) only for this long: the client's
 * request waits for it, and past it the client's own retry (answered 503 + Retry-After, the same
 * batch id, deduplicated by the log) takes over. Five seconds ride out a JetStream leader election.
 */
export const APPEND_RETRY_DEADLINE_MS = 5_000;
/**
 * One attempt of an append waits this long for its PubAck. A stream whose leader was cut off
 * answers nothing until its other replicas elect one (4-9 s on nats-server): an attempt that
 * waited out the whole deadline would miss the new leader, so another is sent (the same batch
 * id: stored once). The partition test once saw no acknowledgement on the majority's side
 * from 5 s after the cut to 10 s after the takeover (CI, 2026-12-06), when one attempt had it all.
 */
export const APPEND_ATTEMPT_MS = 2_000;

/** JetStream not answering is worth another try; a full disk, a closed log or bad input are not (not soon). */
function transientAppend(err: unknown): boolean {
  return err instanceof IngestLogError ? err.reason === 'jetstream' && isRetryable(err) : isRetryable(err);
}

/** Appends meet the bus fault, are retried while the bus blips; their failures tell the health whether the log is up. */
export function guardedLog(inner: IngestLog, health: NodeHealth, clock: Clock, rng: Rng): IngestLog {
  const raw = inner.append.bind(inner);
  const append = (...args: Parameters<IngestLog['append']>): ReturnType<IngestLog['append']> =>
    retry(RETRY_POLICIES.bus_publish, () => raw(...args), { clock, rng, deadlineMs: APPEND_RETRY_DEADLINE_MS, attemptTimeoutMs: APPEND_ATTEMPT_MS, retryable: transientAppend })
      .catch((err: unknown) => {
        if (err instanceof IngestLogError || (err instanceof Error && !VigilError.is(err, 'TIMEOUT') && !VigilError.is(err, 'UNAVAILABLE'))) throw err;
        // retries spent or the deadline passed: the bus is down, as the client must hear (503)
        throw new IngestLogError('UNAVAILABLE', 'jetstream', `ingest log: ${(err as Error).message}`, { cause: err });
      });
  return new Proxy(inner, {
    get(t, prop, receiver) {
      if (prop === 'append') {
        return async (...args: Parameters<IngestLog['append']>) => {
          await health.gate('bus');
          try {
            const at = await append(...args);
            health.logAppend();
            return at;
          } catch (err) {
            health.logAppend(err);
            throw err;
          }
        };
      }
      const v: unknown = Reflect.get(t, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** Every GraphStore call goes through the graph_db breaker (and the graph fault). */
function guardedGraph(inner: GraphStore, health: NodeHealth): GraphStore {
  return new Proxy(inner, {
    get(t, prop, receiver) {
      const v: unknown = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => Promise<unknown>).bind(t);
      return prop === 'close' ? fn : (...args: unknown[]) => health.guardGraph(() => fn(...args));
    },
  });
}

/** While the cache has a fault, reads go straight to the origin. */
function guardedCache(inner: TwoLevelCache, health: NodeHealth): TwoLevelCache {
  const get = inner.get.bind(inner);
  const stats = inner.stats.bind(inner);
  return new Proxy(inner, {
    get(t, prop, receiver) {
      if (prop === 'get') {
        return (ref: Parameters<TwoLevelCache['get']>[0], load: () => Promise<unknown>) => (health.activeFault('cache') ? load() : get(ref, load));
      }
      if (prop === 'stats') return () => (health.activeFault('cache') ? { ...stats(), l2Up: false } : stats());
      const v: unknown = Reflect.get(t, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

function logWriterEvent(log: Logger, e: WriterEvent): void {
  if (e.type === 'down') log.warn({ table: e.table, err: e.error }, 'store refused writes: spilling to disk until it is back');
  else if (e.type === 'up') log.info({ table: e.table }, 'store is back: draining the spill');
  else if (e.type === 'failed') log.error({ table: e.table, rows: e.rows, err: e.error }, 'rows could be neither stored nor spilled');
}
