// The embedded engine's rollups: a pass rolls each closed minute of samples once, and each
// closed hour from its minutes. Rows that arrive for what a pass has rolled already (late or
// replayed data) go through the Null tables late_1m / late_1h, whose views roll them as they
// come. Reads take rolled buckets from the rollup and the rest from the table below it, so an
// answer never waits for a pass. A ClickHouse server rolls every insert with views instead
// (several nodes may write one database there), and everything counts as rolled.
import { ROLLUP_1H_MS, ROLLUP_1M_MS, ROLLUP_QUANTILES, SERVER_ROLLUP_VIEWS, rollupSelect } from './schema.ts';
import { num, type Params, type Sql } from './sql.ts';
import { RAW_SAMPLE_COLUMNS } from './tsv.ts';
import type { Resolution, SampleRun } from './types.ts';

/** A minute is rolled once it ended this long ago, so the flushes of its rows land first. */
export const ROLLUP_LAG_MS = 15_000;
/** A write starts a pass when the last one began at least this long ago. */
export const ROLLUP_PASS_INTERVAL_MS = 15_000;

/** Every bucket before `minute` is in samples_1m, every bucket before `hour` in samples_1h. */
export interface RollupMarks {
  minute: number;
  hour: number;
}

/** What /metrics shows of the passes. */
export interface RollupStatus {
  behindMs: number;
  failing: boolean;
}

const ROLLUP_COLUMNS = 'tenant, service, metric, labels, bucket, v_count, v_avg, v_min, v_max, v_q';
const floorTo = (t: number, width: number): number => Math.floor(t / width) * width;

export class Rollups {
  private chain: Promise<unknown> = Promise.resolve();
  private lastPass = -Infinity;
  /** the last pass's failure, if it failed (the next one tries again) */
  private lastError: unknown;

  private constructor(private readonly sql: Sql, private marks: RollupMarks, private readonly now: () => number) {}

  /** A server's views roll every insert: nothing to pass, nothing late. */
  static byViews(sql: Sql, now: () => number): Rollups {
    return new Rollups(sql, { minute: Infinity, hour: Infinity }, now);
  }

  /**
   * Reads the marks, after the schema is in place. A store the views used to roll counts as
   * rolled up to its newest sample (then the views go); rollup rows at or past a mark are from
   * a pass cut short, so they are deleted and that pass runs again.
   */
  static async open(sql: Sql, now: () => number): Promise<Rollups> {
    const db = sql.db;
    const stored = new Map((await sql.rows<{ resolution: string; upto: string | number }>(
      `SELECT resolution, max(upto) AS upto FROM ${db}.rollup_marks GROUP BY resolution`)).map((r) => [r.resolution, num(r.upto)]));
    const views = await sql.rows<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = {db:String} AND has({views:Array(String)}, name)`, { db, views: [...SERVER_ROLLUP_VIEWS] });
    let marks: RollupMarks = { minute: stored.get('1m') ?? 0, hour: stored.get('1h') ?? 0 };
    if (views.length > 0) {
      if (!stored.has('1m')) {
        const rows = await sql.rows<{ n: string | number; t: string | number }>(`SELECT count() AS n, max(ts) AS t FROM ${db}.samples`);
        const newest = num(rows[0]?.n ?? 0) > 0 ? num(rows[0]!.t) : undefined;
        marks = newest === undefined ? marks : { minute: floorTo(newest, ROLLUP_1M_MS) + ROLLUP_1M_MS, hour: floorTo(newest, ROLLUP_1H_MS) + ROLLUP_1H_MS };
        await writeMarks(sql, marks);
      }
      for (const v of views) await sql.command(`DROP VIEW IF EXISTS ${db}.${v.name}`);
    }
    for (const [table, mark] of [['samples_1m', marks.minute], ['samples_1h', marks.hour]] as const) {
      const past = await sql.rows<{ n: string | number }>(`SELECT count() AS n FROM ${db}.${table} WHERE bucket >= {mark:Int64}`, { mark });
      if (num(past[0]?.n ?? 0) > 0) {
        await sql.command(`ALTER TABLE ${db}.${table} DELETE WHERE bucket >= {mark:Int64} SETTINGS mutations_sync = 1`, { mark });
      }
    }
    return new Rollups(sql, marks, now);
  }

  get rolled(): Readonly<RollupMarks> {
    return this.marks;
  }

  status(): RollupStatus {
    const behindMs = Number.isFinite(this.marks.minute) ? Math.max(0, this.now() - this.marks.minute) : 0;
    return { behindMs, failing: this.lastError !== undefined };
  }

  /**
   * A raw write, then the rolling of its rows the passes have gone past, with no pass in
   * between (a pass could otherwise miss rows it did not see and the marks had not).
   * `lateTsv(before)` gives the TSV of the written rows older than `before`, or '' for none.
   */
  async write(runs: readonly SampleRun[], insertRaw: () => Promise<void>, lateTsv: (before: number) => string): Promise<void> {
    if (this.marks.minute === Infinity) return insertRaw();
    await this.exclusive(async () => {
      await insertRaw();
      if (!hasSampleBefore(runs, Math.max(this.marks.minute, this.marks.hour))) return;
      for (const [table, mark] of [['late_1m', this.marks.minute], ['late_1h', this.marks.hour]] as const) {
        const text = lateTsv(mark);
        if (text.length > 0) await this.sql.insertTsv(table, RAW_SAMPLE_COLUMNS, text);
      }
    });
    this.passSoon();
  }

  /** Starts a pass if none began for a while; a failed one is kept in `lastError` and tried again later. */
  private passSoon(): void {
    const now = this.now();
    if (now - this.lastPass < ROLLUP_PASS_INTERVAL_MS) return;
    this.lastPass = now;
    this.pass(now - ROLLUP_LAG_MS).catch(() => undefined); // kept in lastError
  }

  /** Rolls every minute that ended by `until`, then every hour whose minutes are all rolled. */
  pass(until: number): Promise<RollupMarks> {
    return this.exclusive(() => this.roll(until)).then(
      (marks) => { this.lastError = undefined; return marks; },
      (err: unknown) => { this.lastError = err; throw err; },
    );
  }

  private async roll(until: number): Promise<RollupMarks> {
    if (this.marks.minute === Infinity) return this.marks;
    const db = this.sql.db;
    const minute = floorTo(until, ROLLUP_1M_MS);
    if (minute > this.marks.minute) {
      await this.sql.command(
        `INSERT INTO ${db}.samples_1m (${ROLLUP_COLUMNS}) SELECT ${rollupSelect(ROLLUP_1M_MS)}
         FROM ${db}.samples FINAL WHERE ts >= {from:Int64} AND ts < {to:Int64} GROUP BY tenant, service, metric, labels, bucket`,
        { from: this.marks.minute, to: minute });
      await writeMarks(this.sql, { ...this.marks, minute });
      this.marks = { ...this.marks, minute };
    }
    const hour = floorTo(this.marks.minute, ROLLUP_1H_MS);
    if (hour > this.marks.hour) {
      await this.sql.command(
        `INSERT INTO ${db}.samples_1h (${ROLLUP_COLUMNS})
         SELECT tenant, service, metric, labels, intDiv(bucket, ${ROLLUP_1H_MS}) * ${ROLLUP_1H_MS} AS hour,
           sum(v_count), avgMergeState(v_avg), min(v_min), max(v_max), quantilesTDigestMergeState(${ROLLUP_QUANTILES})(v_q)
         FROM ${db}.samples_1m WHERE bucket >= {from:Int64} AND bucket < {to:Int64} GROUP BY tenant, service, metric, labels, hour`,
        { from: this.marks.hour, to: hour });
      await writeMarks(this.sql, { ...this.marks, hour });
      this.marks = { ...this.marks, hour };
    }
    return this.marks;
  }

  /** Resolves when no write or pass is under way. */
  async idle(): Promise<void> {
    await this.chain;
  }

  /**
   * The rows a rollup read aggregates, as (src_t, v_count, v_avg, v_min, v_max, v_q): the rolled
   * buckets from the rollup, the rest from the table below it. `where(column)` gives the
   * query's filters on that time column (the range's start rounded down to the width).
   */
  source(resolution: Exclude<Resolution, 'raw'>, where: (time: 'bucket' | 'ts') => string, params: Params): string {
    const db = this.sql.db;
    const width = resolution === '1m' ? ROLLUP_1M_MS : ROLLUP_1H_MS;
    const rolled = (table: string, cond: string): string =>
      `SELECT intDiv(bucket, ${width}) * ${width} AS src_t, v_count, v_avg, v_min, v_max, v_q FROM ${db}.${table} WHERE ${where('bucket')}${cond}`;
    if (this.marks.minute === Infinity) return rolled(`samples_${resolution}`, '');
    params.mark_m = this.marks.minute;
    params.mark_h = this.marks.hour;
    const raw = (from: string): string =>
      `SELECT intDiv(ts, ${width}) * ${width} AS src_t, count() AS v_count, avgState(value) AS v_avg, min(value) AS v_min, max(value) AS v_max,
         quantilesTDigestState(${ROLLUP_QUANTILES})(value) AS v_q
       FROM ${db}.samples FINAL WHERE ${where('ts')} AND ts >= ${from} GROUP BY src_t`;
    const parts = resolution === '1m'
      ? [rolled('samples_1m', ' AND bucket < {mark_m:Int64}'), raw('{mark_m:Int64}')]
      : [
        rolled('samples_1h', ' AND bucket < {mark_h:Int64}'),
        rolled('samples_1m', ' AND bucket >= {mark_h:Int64} AND bucket < {mark_m:Int64}'),
        raw('greatest({mark_m:Int64}, {mark_h:Int64})'),
      ];
    return parts.join('\nUNION ALL\n');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function hasSampleBefore(runs: readonly SampleRun[], mark: number): boolean {
  for (const r of runs) for (const [t] of r.samples) if (t < mark) return true;
  return false;
}

async function writeMarks(sql: Sql, marks: RollupMarks): Promise<void> {
  await sql.insertJson('rollup_marks', [{ resolution: '1m', upto: marks.minute }, { resolution: '1h', upto: marks.hour }]);
}
