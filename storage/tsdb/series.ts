// Samples, each with its detector verdict: bulk writes, and queries that pick raw samples or a
// rollup by the step.
import { VigilError, labelsName, seriesId } from '../../protocols/index.ts';
import { MAX_PAGE_LIMIT } from '../types.ts';
import type { Rollups } from './rollup.ts';
import { ROLLUP_1H_MS, ROLLUP_1M_MS, ROLLUP_QUANTILES } from './schema.ts';
import { num, type Params, type Sql } from './sql.ts';
import { SAMPLE_COLUMNS, samplesTsv, tsvInTurns } from './tsv.ts';
import type { Resolution, SampleRun, SeriesAnswer, SeriesBucket, SeriesQuery, WriteMode } from './types.ts';

/** Most points one series query returns (the newest ones are kept). */
export const MAX_SERIES_POINTS = MAX_PAGE_LIMIT * 10;

/**
 * The table that answers a step: raw below a minute, the 1-minute rollup below an hour, the
 * 1-hour rollup from there. A step that is not a multiple of the rollup's width gets each
 * rollup bucket in the step bucket where it starts.
 */
export function chooseResolution(step: number | undefined): Resolution {
  if (step === undefined) return 'raw';
  if (!Number.isSafeInteger(step) || step <= 0) throw new VigilError('BAD_REQUEST', `step: must be a positive whole number of ms, got ${step}`);
  if (step < ROLLUP_1M_MS) return 'raw';
  return step < ROLLUP_1H_MS ? '1m' : '1h';
}

export class SeriesTables {
  constructor(private readonly sql: Sql, private readonly retainDays: (tenant: string) => number, private readonly rollups: Rollups) {}

  async writeSamples(runs: readonly SampleRun[], mode: WriteMode = {}): Promise<void> {
    const keep = mode.checked ? keptRows(runs, await this.unstored(runs, mode.signal)) : undefined;
    const text = await tsvInTurns(runs, (r) => r.samples.length, (part) => samplesTsv(part, this.retainDays, keep).text);
    await this.rollups.write(
      runs,
      () => this.sql.insertTsv('samples', SAMPLE_COLUMNS, text, mode.signal),
      (before) => samplesTsv(runs, this.retainDays, (run, i) => run.samples[i]![0] < before && (keep === undefined || keep(run, i)), false).text, // the late tables: values only
    );
  }

  /**
   * Which samples of `runs` are not stored yet (and not repeated within the batch). The
   * rollup views count every row an INSERT carries, so a checked write sends only these.
   */
  private async unstored(runs: readonly SampleRun[], signal?: AbortSignal): Promise<(run: SampleRun, i: number) => boolean> {
    const seen = new Set<string>();
    const tenants = new Set<string>();
    const services = new Set<string>();
    const metrics = new Set<string>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of runs) {
      tenants.add(r.tenant);
      services.add(r.service);
      metrics.add(r.metric);
      for (const [t] of r.samples) {
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
    }
    if (lo <= hi) {
      const rows = await this.sql.rows<{ tenant: string; service: string; metric: string; labels: string; ts: string | number }>(
        `SELECT tenant, service, metric, labels, ts FROM ${this.sql.db}.samples
         WHERE tenant IN {tenants:Array(String)} AND service IN {services:Array(String)} AND metric IN {metrics:Array(String)}
           AND ts >= {lo:Int64} AND ts <= {hi:Int64}`,
        { tenants: [...tenants], services: [...services], metrics: [...metrics], lo: Math.trunc(lo), hi: Math.trunc(hi) },
        signal,
      );
      // The same key as seriesId: service NUL metric+labelsName.
      for (const r of rows) seen.add(`${r.tenant}\u0000${r.service}\u0000${r.metric}${r.labels}\u0000${num(r.ts)}`);
    }
    const prefixes = new Map<SampleRun, string>();
    return (run, i) => {
      let prefix = prefixes.get(run);
      if (prefix === undefined) prefixes.set(run, (prefix = `${run.tenant}\u0000${seriesId(run)}\u0000`));
      const key = prefix + Math.trunc(run.samples[i]![0]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    };
  }

  async series(tenant: string, q: SeriesQuery): Promise<SeriesAnswer> {
    const resolution = chooseResolution(q.step);
    const params: Params = { tenant, service: q.service, metric: q.metric, limit: pointLimit(q.limit) };
    const where = seriesWhere(q, params);
    if (q.step === undefined) {
      const text = await this.sql.text(
        `SELECT ts, value FROM ${this.sql.db}.samples FINAL WHERE ${where.join(' AND ')}
         ORDER BY ts DESC, labels DESC LIMIT {limit:UInt32}`, params);
      return { resolution, points: parsePairs(text).reverse() };
    }
    params.step = q.step;
    let source: string;
    let stats: string;
    if (resolution === 'raw') {
      source = `(SELECT ts AS src_t, value FROM ${this.sql.db}.samples FINAL WHERE ${where.join(' AND ')})`;
      stats = `count() AS n, avg(value) AS avg, min(value) AS min, max(value) AS max, quantilesTDigest(${ROLLUP_QUANTILES})(value) AS q`;
    } else {
      // A rollup bucket belongs to the range when its start does (from rounded down to its width).
      const width = resolution === '1m' ? ROLLUP_1M_MS : ROLLUP_1H_MS;
      const rounded = { ...q, from: q.from === undefined ? undefined : Math.floor(q.from / width) * width };
      source = `(${this.rollups.source(resolution, (time) => seriesWhere(rounded, params, time).join(' AND '), params)})`;
      stats = `sum(v_count) AS n, avgMerge(v_avg) AS avg, min(v_min) AS min, max(v_max) AS max, quantilesTDigestMerge(${ROLLUP_QUANTILES})(v_q) AS q`;
    }
    const rows = await this.sql.rows<{ t: string | number; n: string | number; avg: number; min: number; max: number; q: number[] }>(
      `SELECT intDiv(src_t, {step:Int64}) * {step:Int64} AS t, ${stats} FROM ${source} GROUP BY t ORDER BY t DESC LIMIT {limit:UInt32}`, params);
    const buckets: SeriesBucket[] = rows.reverse().map((r) => ({
      t: num(r.t), count: num(r.n), avg: num(r.avg), min: num(r.min), max: num(r.max),
      p50: num(r.q[0]), p95: num(r.q[1]), p99: num(r.q[2]),
    }));
    return { resolution, step: q.step, points: buckets.map((b) => [b.t, b.avg]), buckets };
  }

  async scores(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number]>> {
    const params: Params = { tenant, service: q.service, metric: q.metric, limit: pointLimit(q.limit) };
    const where = seriesWhere(q, params).join(' AND ');
    const text = await this.sql.text(
      `SELECT ts, score, expected FROM (
         SELECT labels, ts, score, expected FROM ${this.sql.db}.samples FINAL WHERE ${where} AND NOT isNaN(score)
         UNION ALL SELECT labels, ts, score, expected FROM ${this.sql.db}.scores FINAL WHERE ${where})
       ORDER BY ts DESC, labels DESC LIMIT {limit:UInt32}`, params);
    const out: Array<[number, number, number]> = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const [t, s, e] = line.split('\t');
      out.push([Number(t), tsvNumber(s!), tsvNumber(e!)]);
    }
    return out.reverse();
  }

  /**
   * Each sample with its detector's score and expected value, newest `limit`, in time order:
   * [t, value, score, expected]. The verdict is in the sample's row; a sample stored before
   * verdicts moved there is joined to the scores table on the full series key and time, so
   * label sets never mix.
   */
  async scoredSamples(tenant: string, q: SeriesQuery): Promise<Array<[number, number, number, number]>> {
    const params: Params = { tenant, service: q.service, metric: q.metric, limit: pointLimit(q.limit) };
    const where = seriesWhere(q, params).join(' AND ');
    const db = this.sql.db;
    // one read of the samples: a row's own verdict, else the old table's (join_use_nulls: an
    // unmatched row's c.ts is NULL, not 0, so "no old verdict" is told apart from a time of 0)
    const text = await this.sql.text(
      `SELECT v.ts, v.value, if(isNaN(v.score), c.score, v.score), if(isNaN(v.score), c.expected, v.expected)
       FROM (SELECT labels, ts, value, score, expected FROM ${db}.samples FINAL WHERE ${where}) AS v
       LEFT JOIN (SELECT labels, ts, score, expected FROM ${db}.scores FINAL WHERE ${where}) AS c
       ON v.labels = c.labels AND v.ts = c.ts
       WHERE NOT isNaN(v.score) OR c.ts IS NOT NULL
       ORDER BY v.ts DESC, v.labels DESC LIMIT {limit:UInt32}
       SETTINGS join_use_nulls = 1`, params);
    const out: Array<[number, number, number, number]> = [];
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const [t, v, s, e] = line.split('\t');
      out.push([Number(t), tsvNumber(v!), tsvNumber(s!), tsvNumber(e!)]);
    }
    return out.reverse();
  }

  async size(): Promise<number> {
    const rows = await this.sql.rows<{ n: string | number }>(`SELECT count() AS n FROM ${this.sql.db}.samples`);
    return num(rows[0]?.n ?? 0);
  }
}

/** A checked write's keep rule, decided once per row (`unstored` remembers what it let through). */
function keptRows(runs: readonly SampleRun[], keep: (run: SampleRun, i: number) => boolean): (run: SampleRun, i: number) => boolean {
  const kept = new Map(runs.map((r) => [r, r.samples.map((_, i) => keep(r, i))]));
  return (run, i) => kept.get(run)?.[i] === true;
}

function pointLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, Math.floor(limit ?? MAX_SERIES_POINTS)), MAX_SERIES_POINTS);
}

/** The filters of a series query (tenant first: every read is fenced to one tenant). */
function seriesWhere(q: SeriesQuery, params: Params, time = 'ts'): string[] {
  const where = ['tenant = {tenant:String}', 'service = {service:String}', 'metric = {metric:String}'];
  if (q.labels) {
    where.push('labels = {labels:String}');
    params.labels = labelsName(q.labels);
  }
  if (q.from !== undefined) {
    where.push(`${time} >= {from_${time}:Int64}`);
    params[`from_${time}`] = Math.trunc(q.from);
  }
  if (q.to !== undefined) {
    where.push(`${time} <= {to:Int64}`);
    params.to = Math.trunc(q.to);
  }
  return where;
}

function tsvNumber(s: string): number {
  switch (s) {
    case 'inf': case '+inf': return Infinity;
    case '-inf': return -Infinity;
    case 'nan': case '-nan': return NaN;
    default: return Number(s);
  }
}

function parsePairs(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const tab = text.indexOf('\t', start);
    out.push([Number(text.slice(start, tab)), tsvNumber(text.slice(tab + 1, end))]);
    start = end + 1;
  }
  return out;
}
