// The PetShop root-cause benchmark (amazon-science/petshop-root-cause-analysis, CC-BY-4.0):
// parsing its files (text in, no I/O) and ranking one issue. Layout and ground truth are
// described in the dataset's README; metrics.csv has four header rows (microservice,
// metric, statistic, unix_timestamp) and then one row per 5-minute timestamp.
import { VigilError } from '../../protocols/index.ts';
import type { Topology } from '../../protocols/index.ts';
import { baselineOf, judgeProportion, judgeWindow, type Baseline } from './baseline.ts';
import { rankRootCauses } from './rank.ts';
import type { RcaLevel, RcaResult, SeriesAnomaly } from './types.ts';

export interface MetricsTable {
  /** Unix ms */
  timestamps: number[];
  columns: Array<{ service: string; metric: string; statistic: string; values: Array<number | undefined> }>;
}

export interface IssueTarget {
  node: string;
  metric: string;
  agg: string;
  /** Unix ms */
  timestamp: number;
  rootCause: string;
}

/** The symptoms PetShop reports and which side of each hurts. */
const HARMFUL: Record<string, 'up' | 'down'> = { latency: 'up', availability: 'down' };

function bad(what: string, message: string): VigilError {
  return new VigilError('BAD_REQUEST', `petshop: ${what}: ${message}`);
}

function rows(text: string): string[][] {
  return text.split(/\r?\n/).filter((l) => l.length > 0).map((l) => l.split(','));
}

/** graph.csv: an adjacency matrix; a 1 in row A, column B means A calls B. */
export function parseGraph(text: string, what = 'graph.csv'): Topology {
  const r = rows(text);
  const header = r[0]?.slice(1) ?? [];
  if (header.length === 0) throw bad(what, 'no node names in the first row');
  const services = r.slice(1).map((row, i) => {
    if (row.length !== header.length + 1) throw bad(what, `row ${i + 2} has ${row.length} cells, expected ${header.length + 1}`);
    return { name: row[0]!, dependsOn: header.filter((_, j) => Number(row[j + 1]) === 1) };
  });
  return { services };
}

export function parseMetrics(text: string, what = 'metrics.csv'): MetricsTable {
  const r = rows(text);
  if (r.length < 4 || r[0]![0] !== 'microservice' || r[1]![0] !== 'metric' || r[2]![0] !== 'statistic') {
    throw bad(what, 'expected the header rows microservice, metric, statistic, unix_timestamp');
  }
  const width = r[0]!.length;
  const timestamps: number[] = [];
  const cells: Array<Array<number | undefined>> = Array.from({ length: width - 1 }, () => []);
  for (const row of r.slice(4)) {
    const ts = Number(row[0]);
    if (!Number.isFinite(ts)) throw bad(what, `bad timestamp "${row[0]}"`);
    timestamps.push(Math.round(ts * 1000));
    for (let j = 1; j < width; j++) {
      const c = row[j];
      cells[j - 1]!.push(c === undefined || c === '' ? undefined : Number(c));
    }
  }
  const columns = cells.map((values, j) => ({ service: r[0]![j + 1]!, metric: r[1]![j + 1]!, statistic: r[2]![j + 1]!, values }));
  return { timestamps, columns };
}

export function parseTarget(text: string, what = 'target.json'): IssueTarget {
  let j: { target?: { node?: unknown; metric?: unknown; agg?: unknown; timestamp?: unknown }; root_cause?: { node?: unknown } };
  try {
    j = JSON.parse(text) as typeof j;
  } catch (err) {
    throw new VigilError('BAD_REQUEST', `petshop: ${what}: not JSON`, { cause: err });
  }
  const t = j.target;
  const rc = j.root_cause?.node;
  if (!t || typeof t.node !== 'string' || typeof t.metric !== 'string' || typeof rc !== 'string') throw bad(what, 'needs target.node, target.metric and root_cause.node');
  return { node: t.node, metric: t.metric, agg: typeof t.agg === 'string' ? t.agg : 'Average', timestamp: Number(t.timestamp) * 1000, rootCause: rc };
}

/** Per-series baselines from the normal-operation table, keyed by service, metric, statistic. */
export function baselines(normal: MetricsTable): Map<string, Baseline> {
  const out = new Map<string, Baseline>();
  for (const c of normal.columns) {
    const b = baselineOf(c.values);
    if (b) out.set(key(c.service, c.metric, c.statistic), b);
  }
  return out;
}

/**
 * The issue's evidence: every latency and availability series of the statistic the
 * target names (the alert's own statistic: like is compared with like), judged against
 * its baseline. Availability is the percentage of a service's requests that succeeded, so
 * it is judged as a proportion of the service's request count (requests, Sum) at each
 * timestamp (judgeProportion) when the table has that count.
 */
export function issueEvidence(issue: MetricsTable, base: Map<string, Baseline>, statistic: string): SeriesAnomaly[] {
  const requests = new Map<string, Map<number, number>>();
  for (const c of issue.columns) {
    if (c.metric !== 'requests' || c.statistic !== 'Sum') continue;
    const counts = new Map<number, number>();
    issue.timestamps.forEach((ts, i) => { if (c.values[i] !== undefined) counts.set(ts, c.values[i]!); });
    requests.set(c.service, counts);
  }
  const out: SeriesAnomaly[] = [];
  for (const c of issue.columns) {
    const direction = HARMFUL[c.metric];
    const b = base.get(key(c.service, c.metric, c.statistic));
    if (!direction || c.statistic !== statistic || !b) continue;
    const samples = issue.timestamps.map((ts, i): [number, number | undefined] => [ts, c.values[i]]);
    const series = { service: c.service, metric: c.metric, direction, samples };
    const counts = c.metric === 'availability' ? requests.get(c.service) : undefined;
    const a = counts ? judgeProportion(series, counts, b) : judgeWindow(series, b);
    if (a) out.push(a);
  }
  return out;
}

export interface IssueOutcome {
  /** 1-based rank of the true root cause; candidates + 1 when it is not a candidate */
  rank: number;
  result: RcaResult;
}

export function rankIssue(topology: Topology, base: Map<string, Baseline>, issue: MetricsTable, target: IssueTarget, level: RcaLevel = 'L0'): IssueOutcome {
  const anomalies = issueEvidence(issue, base, target.agg);
  const windows = level === 'L1'
    ? issue.columns.filter((c) => HARMFUL[c.metric] && c.statistic === target.agg).map((c) => ({
      service: c.service, metric: c.metric,
      samples: issue.timestamps.flatMap((ts, i): Array<[number, number]> => (c.values[i] === undefined ? [] : [[ts, c.values[i]!]])),
    }))
    : undefined;
  const result = rankRootCauses({ topology, alerts: [target.node], anomalies, ...(windows ? { windows } : {}) }, { level });
  const at = result.causes.findIndex((c) => c.service === target.rootCause);
  return { rank: at < 0 ? result.candidates + 1 : at + 1, result };
}

function key(service: string, metric: string, statistic: string): string {
  return `${service}\u0000${metric}\u0000${statistic}`;
}
