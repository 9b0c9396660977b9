// What a failing loss assertion prints: each lost range of a series traced back to the
// requests that carried it (where each send went and what it got), the ownership of the
// tenant's shard around then, and the nodes' log lines about that shard. CI keeps only the
// failure's message, so everything needed to tell a lost append from a lost write is in it.
// When the nodes traced (VigilCluster's `trace` option), it also says where each lost batch
// went: the position its append was acknowledged at, and who read it, at which position.
import { shardOf } from '../../cluster/index.ts';
import { STEP_MS, type AckedRequest } from './cluster-load.ts';
import { SHARDS, type ClusterNode, type LossReport, type Ownership } from './vigil-cluster.ts';

export interface LossContext {
  report: LossReport;
  journal: readonly AckedRequest[];
  ownership: readonly Ownership[];
  nodes: readonly ClusterNode[];
  /** Date.now() the times are printed from (the test's start, or its fault) */
  zero: number;
  /** how many lost ranges to explain */
  ranges?: number;
  /** the test's own events (a cut, a kill), printed first on the same time scale */
  marks?: Record<string, number>;
}

const WINDOW_MS = 15_000;

export function explainLoss(c: LossContext): string {
  const at = (ms: number): string => `${ms - c.zero >= 0 ? '+' : ''}${ms - c.zero} ms`;
  const nodeOf = (url: string): string => c.nodes.find((n) => n.url === url)?.id ?? url;
  const out = [`lost by series: ${JSON.stringify(c.report.lostBySeries)}`];
  if (c.marks) out.push(Object.entries(c.marks).map(([what, ms]) => `${what} at ${at(ms)}`).join(', '));
  const ranges = Object.entries(c.report.gaps).flatMap(([key, gaps]) => gaps.map((g) => ({ key, g })));
  let trace: TraceEvent[] | undefined; // the nodes' trace lines, parsed once
  for (const { key, g: [from, to] } of ranges.slice(0, c.ranges ?? 3)) {
    const [tenant, , metricName] = key.split('/');
    const m = Number(metricName!.slice(1));
    const shard = shardOf(tenant!, SHARDS);
    out.push(`${key} (shard ${shard}): samples ${from}..${to} missing (${(to - from) / STEP_MS + 1})`);
    const carriers = c.journal.filter((r) => r.tenant === tenant && r.count[m]! > 0 && r.from[m]! <= to && r.from[m]! + (r.count[m]! - 1) * STEP_MS >= from);
    for (const r of carriers) {
      out.push(`  carried by a request of ${r.count[m]} samples from ${r.from[m]}: ${r.attempts.map((a) => `${at(a.at)} ${nodeOf(a.url)} ${a.outcome.slice(0, 80)}`).join('; ')}`);
    }
    const sent = carriers.flatMap((r) => r.attempts.map((a) => a.at));
    const lo = (sent.length > 0 ? Math.min(...sent) : c.zero) - WINDOW_MS;
    const hi = (sent.length > 0 ? Math.max(...sent) : c.zero) + WINDOW_MS;
    for (const e of c.ownership.filter((o) => o.shard === shard && o.at >= lo && o.at <= hi)) {
      out.push(`  ownership: ${at(e.at)} ${e.node} ${e.event} (token ${e.token}, valid until ${at(e.until)})`);
    }
    out.push(...traceLines(trace ??= traceOf(c.nodes), shard, carriers.map((r) => ({ tenant: r.tenant, from: Math.min(...r.from.filter((_, i) => r.count[i]! > 0)) })), at, c.nodes));
    for (const n of c.nodes) {
      for (const line of shardLines(n.process.stderr(), shard, tenant!, lo, hi).slice(-10)) out.push(`  ${n.id} log: ${line}`);
    }
  }
  if (ranges.length > (c.ranges ?? 3)) out.push(`(${ranges.length - (c.ranges ?? 3)} more lost ranges)`);
  return out.join('\n');
}

/** A node's JSON log lines about `shard` or `tenant` within [lo, hi], shortened. */
function shardLines(stderr: string, shard: number, tenant: string, lo: number, hi: number): string[] {
  const out: string[] = [];
  for (const l of stderr.split('\n')) {
    if (l.startsWith(TRACE_LINE)) continue; // traceLines() reads those
    if (!l.includes(`"shard":${shard}`) && !l.includes(`"tenant":"${tenant}"`)) continue;
    try {
      const j = JSON.parse(l) as { time?: number; msg?: string; err?: { message?: string }; position?: number };
      if (j.time === undefined || j.time < lo || j.time > hi) continue;
      out.push(`${new Date(j.time).toISOString().slice(11, 23)} ${j.msg ?? ''}${j.position === undefined ? '' : ` @${j.position}`} ${j.err?.message?.slice(0, 120) ?? ''}`);
    } catch {
      // not a JSON line: not the node's logger
    }
  }
  return out;
}

const TRACE_LINE = '{"level":10,';

interface TraceEvent {
  node: string;
  time: number;
  msg: string;
  shard: number;
  position: number;
  tenant?: string;
  from?: number;
  token?: number;
  last?: number;
  duplicate?: boolean;
  id?: string;
}

/** Every node's trace lines (VigilCluster's `trace` option), each node's in its log's order. */
function traceOf(nodes: readonly ClusterNode[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const node of nodes) {
    for (const l of node.process.stderr().split('\n')) {
      if (!l.startsWith(TRACE_LINE)) continue;
      try {
        out.push({ ...(JSON.parse(l) as Omit<TraceEvent, 'node'>), node: node.id });
      } catch {
        // a line cut short by a kill
      }
    }
  }
  return out;
}

/** Whether any node read the batch appended as `a` (by its id, at any position), and what was read at its position instead. */
function verdict(a: TraceEvent, all: readonly TraceEvent[], at: (ms: number) => string): string {
  const handed = all.filter((e) => e.msg === 'record handed on');
  const read = handed.filter((e) => e.id === a.id);
  if (read.length > 0) {
    const moved = read.filter((e) => e.position !== a.position);
    return `read by ${read.map((e) => `${e.node} at ${at(e.time)} (position ${e.position})`).join(', ')}${moved.length > 0 ? `: **the log moved it** from the position ${a.position} its append was acknowledged at` : ''}`;
  }
  const instead = handed.filter((e) => e.position === a.position && e.id !== a.id);
  if (instead.length > 0) {
    const e = instead[0]!;
    return `**never read by any node; position ${a.position} was read as another batch** (${e.id}, shard ${e.shard}, by ${e.node} at ${at(e.time)}): `
      + 'the log acknowledged this batch at a position where it later held another one (its replicas disagree)';
  }
  return '**never read by any node**';
}

/**
 * Where each lost batch went, from the nodes' traces: the position its append got, and for that
 * position, who read it (or read past it without it), and which snapshot and acknowledgement
 * first covered it. Empty when the nodes did not trace.
 */
function traceLines(all: readonly TraceEvent[], shard: number, batches: Array<{ tenant: string; from: number }>, at: (ms: number) => string, nodes: readonly ClusterNode[]): string[] {
  const events = all.filter((e) => e.shard === shard);
  if (events.length === 0) return [];
  const out: string[] = [];
  for (const b of batches) {
    const appends = events.filter((e) => e.msg === 'batch appended' && e.tenant === b.tenant && e.from === b.from);
    if (appends.length === 0) out.push(`  trace: no append of the batch from ${b.from} was traced`);
    for (const a of appends) {
      const p = a.position;
      out.push(`  trace: appended by ${a.node} at ${at(a.time)} at position ${p}${a.duplicate ? ' (a duplicate: the first copy\'s position)' : ''}; ${verdict(a, all, at)}`);
      for (const n of nodes) {
        const mine = events.filter((e) => e.node === n.id);
        const handed = mine.filter((e) => e.msg === 'record handed on');
        const got = handed.filter((e) => e.position === p);
        const other = got.filter((e) => e.id !== a.id);
        const before = handed.filter((e) => e.position < p).at(-1);
        const after = handed.find((e) => e.position > p);
        const reads = mine.filter((e) => (e.msg === 'read opened' || e.msg === 'shard restored') && Math.abs(e.time - a.time) <= WINDOW_MS);
        if (got.length === 0 && !after && reads.length === 0) continue;
        out.push(`    ${n.id}: ${got.length > 0 ? `read position ${p} at ${got.map((e) => at(e.time)).join(', ')}${other.length > 0 ? ` **as another batch** (${other[0]!.id} instead of ${a.id})` : ''}` : 'never read it'}; `
          + `read before it ${before ? `${before.position} at ${at(before.time)}` : '-'}, after it ${after ? `${after.position} at ${at(after.time)}` : '-'}`);
        for (const r of reads) out.push(`      ${at(r.time)} ${r.msg} at ${r.position}${r.last !== undefined ? ` (log last ${r.last}, token ${r.token})` : ''}`);
      }
      for (const what of ['snapshot saved', 'log acknowledged']) {
        const first = events.filter((e) => e.msg === what && e.position >= p).sort((x, y) => x.time - y.time)[0];
        out.push(`    first ${what} covering it: ${first ? `${first.node} at ${at(first.time)}, position ${first.position}, token ${first.token}` : 'none'}`);
      }
    }
  }
  return out;
}
