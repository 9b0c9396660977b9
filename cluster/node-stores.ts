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
import { fnv1a } from '../protocols/index.ts';
import { openGraphStore, type GraphStore } from '../storage/graph/index.ts';
import { AUDIT_FILE, FileAuditLog } from '../storage/audit/index.ts';
import { TwoLevelCache } from '../storage/cache/index.ts';
import { DEFAULT_DATABASE, openChdbFolder, TsdbStore } from '../storage/tsdb/index.ts';
import { StoreWriters, type WriterEvent } from '../storage/writer/index.ts';
import type { VigilConfig } from './config.ts';
import { DiskIngestLog } from './ingest-log/index.ts';
import { SnapshotStore } from './snapshots/index.ts';

/** A sample waits at most this long in its writer before it is stored (reads follow soon). */
export const SAMPLE_FLUSH_INTERVAL_MS = 250;

export interface NodeStores {
  log: DiskIngestLog;
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

export async function openNodeStores(config: VigilConfig, clock: Clock, rng: Rng, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<NodeStores> {
  const dir = resolve(config.node.dataDir);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const ingestLog = await DiskIngestLog.open(join(dir, 'log'), { logger: log });
    opened.push(ingestLog);
    const store = await openTsdb(dir, clock, env);
    opened.push(store);
    const writers = new StoreWriters(store, {
      clock, rng, spillDir: join(dir, 'spill'), flushIntervalMs: SAMPLE_FLUSH_INTERVAL_MS, onEvent: (e) => logWriterEvent(log, e),
    });
    opened.push(writers);
    const graph = await openGraphStore({ dataDir: dir, memgraphUrl: env.MEMGRAPH_URL || undefined });
    opened.push(graph);
    const audit = await FileAuditLog.open({ path: join(dir, 'audit', AUDIT_FILE), clock, log });
    opened.push(audit);
    const cache = new TwoLevelCache({ redisUrl: env.VIGIL_REDIS_URL || undefined, prefix: CACHE_PREFIX, log, clock });
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
async function openTsdb(dir: string, clock: Clock, env: NodeJS.ProcessEnv): Promise<TsdbStore> {
  if (env.CLICKHOUSE_URL) return TsdbStore.open({ url: env.CLICKHOUSE_URL, clock });
  const own = join(dir, 'tsdb');
  const open = openChdbFolder();
  if (open === undefined || open === own) return TsdbStore.open({ chdbPath: own, clock });
  return TsdbStore.open({ chdbPath: open, clock, database: `${DEFAULT_DATABASE}_${fnv1a(dir).toString(16)}` });
}

function logWriterEvent(log: Logger, e: WriterEvent): void {
  if (e.type === 'down') log.warn({ table: e.table, err: e.error }, 'store refused writes: spilling to disk until it is back');
  else if (e.type === 'up') log.info({ table: e.table }, 'store is back: draining the spill');
  else if (e.type === 'failed') log.error({ table: e.table, rows: e.rows, err: e.error }, 'rows could be neither stored nor spilled');
}
