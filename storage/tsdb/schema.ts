// The tables, as DDL. Every table is append-only; duplicates from a replay collapse on the
// table's key (ReplacingMergeTree) and reads use FINAL or argMax, so a replay is harmless.
// Timestamps are Int64 Unix ms, the unit the rest of Vigil speaks.
import { VigilError } from '../../protocols/index.ts';

export const DEFAULT_DATABASE = 'vigil';
/** Raw samples and scores: a week, unless the tenant says otherwise (retain_days per row). */
export const DEFAULT_RAW_RETENTION_DAYS = 7;
export const MAX_RETENTION_DAYS = 3_650;
export const ROLLUP_1M_RETENTION_DAYS = 35;
export const ROLLUP_1H_RETENTION_DAYS = 400;
export const ROLLUP_1M_MS = 60_000;
export const ROLLUP_1H_MS = 3_600_000;
/** The quantiles every rollup bucket keeps (t-digest states, mergeable across buckets). */
export const ROLLUP_QUANTILES = '0.5, 0.95, 0.99';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The database name goes into SQL text (identifiers cannot be bound): only plain names pass. */
export function checkDatabase(name: string): string {
  if (!IDENTIFIER.test(name)) throw new VigilError('CONFIG_INVALID', `tsdb: database name ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  return name;
}

const seconds = (col: string): string => `toDateTime(intDiv(${col}, 1000))`;

function rollupTable(db: string, name: string, days: number): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.${name} (
      tenant LowCardinality(String), service LowCardinality(String), metric LowCardinality(String), labels String,
      bucket Int64,
      v_count SimpleAggregateFunction(sum, UInt64),
      v_avg AggregateFunction(avg, Float64),
      v_min SimpleAggregateFunction(min, Float64),
      v_max SimpleAggregateFunction(max, Float64),
      v_q AggregateFunction(quantilesTDigest(${ROLLUP_QUANTILES}), Float64)
    ) ENGINE = AggregatingMergeTree
    PARTITION BY toYYYYMM(${seconds('bucket')})
    ORDER BY (tenant, service, metric, labels, bucket)
    TTL ${seconds('bucket')} + toIntervalDay(${days})`;
}

/** What a rollup row holds, from raw rows (`value`, `ts`) into buckets of `width` ms. */
export function rollupSelect(width: number): string {
  return `tenant, service, metric, labels, intDiv(ts, ${width}) * ${width} AS bucket,
      count() AS v_count, avgState(value) AS v_avg, min(value) AS v_min, max(value) AS v_max,
      quantilesTDigestState(${ROLLUP_QUANTILES})(value) AS v_q`;
}

/** A view that rolls every row inserted into `source` into the rollup of `width`. */
function rollupView(db: string, name: string, source: string, width: number): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${name} TO ${db}.samples_${width === ROLLUP_1M_MS ? '1m' : '1h'} AS
    SELECT ${rollupSelect(width)} FROM ${db}.${source} GROUP BY tenant, service, metric, labels, bucket`;
}

/** The views a ClickHouse server rolls every insert into samples with (several nodes may write one database). */
export const SERVER_ROLLUP_VIEWS = ['samples_1m_mv', 'samples_1h_mv'] as const;

/**
 * How the rollups are kept (rollup.ts):
 * - embedded (chdb): a pass rolls each closed minute once, and the hours from the minutes. Rows
 *   older than what the passes have rolled (late or replayed data) go through the Null tables
 *   late_1m and late_1h, whose views roll them as they arrive. A view on samples itself cost
 *   more than the whole raw insert at one sample per series per flush (storage/tsdb/README.md).
 * - server: views on samples roll every insert, as several nodes may write one database.
 */
function rollups(db: string, kind: 'chdb' | 'server'): string[] {
  const tables = [rollupTable(db, 'samples_1m', ROLLUP_1M_RETENTION_DAYS), rollupTable(db, 'samples_1h', ROLLUP_1H_RETENTION_DAYS)];
  if (kind === 'server') {
    return [...tables, rollupView(db, 'samples_1m_mv', 'samples', ROLLUP_1M_MS), rollupView(db, 'samples_1h_mv', 'samples', ROLLUP_1H_MS)];
  }
  return [
    ...tables,
    // how far each pass has rolled: every bucket before `upto` is in the rollup (the highest row counts)
    `CREATE TABLE IF NOT EXISTS ${db}.rollup_marks (resolution LowCardinality(String), upto Int64)
    ENGINE = ReplacingMergeTree(upto) ORDER BY resolution`,
    ...(['late_1m', 'late_1h'] as const).map((t) => `CREATE TABLE IF NOT EXISTS ${db}.${t} (
      tenant String, service String, metric String, labels String, ts Int64, value Float64, retain_days UInt16
    ) ENGINE = Null`),
    rollupView(db, 'late_1m_mv', 'late_1m', ROLLUP_1M_MS),
    rollupView(db, 'late_1h_mv', 'late_1h', ROLLUP_1H_MS),
  ];
}

/** CREATE statements, in order; each is idempotent (IF NOT EXISTS). */
export function schemaStatements(database: string, kind: 'chdb' | 'server' = 'server'): string[] {
  const db = checkDatabase(database);
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // `labels` is protocols' labelsName ({a="x",b="y"}, sorted), so (service, metric, labels)
    // names a series the one way the rest of Vigil does. retain_days: the tenant's raw retention.
    // score, expected: the detector's verdict on the sample, in its row (nan: not judged). A row
    // of its own per verdict (the scores table below) was most of what a tenant's admitted
    // samples cost the node storing them, and that reached other tenants' latency
    // (bench:tenancy, api/tenancy/MEASURED.md).
    `CREATE TABLE IF NOT EXISTS ${db}.samples (
      tenant LowCardinality(String), service LowCardinality(String), metric LowCardinality(String), labels String,
      ts Int64, value Float64, score Float64 DEFAULT nan, expected Float64 DEFAULT nan, retain_days UInt16
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(${seconds('ts')})
    ORDER BY (tenant, service, metric, labels, ts)
    TTL ${seconds('ts')} + toIntervalDay(retain_days)`,
    // a samples table made before verdicts moved into it gains their columns (its rows: nan)
    `ALTER TABLE ${db}.samples ADD COLUMN IF NOT EXISTS score Float64 DEFAULT nan AFTER value,
      ADD COLUMN IF NOT EXISTS expected Float64 DEFAULT nan AFTER score`,
    // Verdicts written before they moved into samples (read beside them; nothing writes here now).
    `CREATE TABLE IF NOT EXISTS ${db}.scores (
      tenant LowCardinality(String), service LowCardinality(String), metric LowCardinality(String), labels String,
      ts Int64, score Float64, expected Float64, retain_days UInt16
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(${seconds('ts')})
    ORDER BY (tenant, service, metric, labels, ts)
    TTL ${seconds('ts')} + toIntervalDay(retain_days)`,
    ...rollups(db, kind),
    // Event ids derive from what the event is (protocols/ids.ts), so (ts, id) is its key and
    // also the keyset the pages walk, newest first.
    `CREATE TABLE IF NOT EXISTS ${db}.anomalies (
      tenant LowCardinality(String), ts Int64, id String,
      service LowCardinality(String), metric LowCardinality(String), labels Map(String, String),
      value Float64, expected Float64, score Float64, tier LowCardinality(String), direction LowCardinality(String)
    ) ENGINE = ReplacingMergeTree
    ORDER BY (tenant, ts, id)`,
    `CREATE TABLE IF NOT EXISTS ${db}.alerts (
      tenant LowCardinality(String), ts Int64, id String,
      service LowCardinality(String), metric LowCardinality(String), labels Map(String, String),
      score Float64, severity LowCardinality(String), tier LowCardinality(String),
      anomaly_id String, incident_id String
    ) ENGINE = ReplacingMergeTree
    ORDER BY (tenant, ts, id)`,
    // Every state an incident went through; the current one is the highest version. A replayed
    // state (same updated_at and status) collapses onto the stored one.
    `CREATE TABLE IF NOT EXISTS ${db}.incident_events (
      tenant LowCardinality(String), id String, version UInt64,
      status LowCardinality(String), title String, services Array(String), alert_ids Array(String),
      opened_at Int64, updated_at Int64, acknowledged_at Nullable(Int64), resolved_at Nullable(Int64),
      peak_score Float64
    ) ENGINE = ReplacingMergeTree(version)
    ORDER BY (tenant, id, updated_at, status)`,
    // Each incident's root-cause rankings (actors/rca); the highest version is the current one.
    `CREATE TABLE IF NOT EXISTS ${db}.incident_rca (
      tenant LowCardinality(String), incident_id String, version UInt64,
      computed_at Int64, level LowCardinality(String), result String
    ) ENGINE = ReplacingMergeTree(version)
    ORDER BY (tenant, incident_id)`,
  ];
}

/** The tables the writers add parts to (rollup_marks gets two rows a pass, and stays small). */
const MERGE_TREE_TABLES = ['samples', 'scores', 'samples_1m', 'samples_1h', 'anomalies', 'alerts', 'incident_events', 'incident_rca'] as const;

/**
 * The embedded engine's merge policy, set on every table (also on tables an older version made).
 *
 * The writers add a part per table every flush (250 ms). ClickHouse's default selector
 * (Simple) weighs a part by its compressed bytes plus a fixed 5 MB, so while a partition is
 * small every new part looks as large as all the rest together, and the whole partition was
 * merged again every four inserts: work that grows with the rows stored, quadratic over a
 * partition's life. Ops metrics compress to under a byte a row (a constant gauge, a counter
 * at 0), so a month's partition stays "small" for a long time: under bench:tenancy's load
 * chdb's merge threads grew to more than a core in 9 minutes, beside the event loop on a
 * 2-core machine. The Trivial selector merges ten parts whose levels do not decrease: a
 * tiered tree whose work per row is logarithmic in the part count, whatever the bytes.
 * A ClickHouse server keeps its own policy (its operator's).
 */
export function embeddedMergePolicy(database: string): string[] {
  const db = checkDatabase(database);
  return MERGE_TREE_TABLES.map((t) => `ALTER TABLE ${db}.${t} MODIFY SETTING merge_selector_algorithm = 'Trivial'`);
}
