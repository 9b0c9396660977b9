// `vigil rca-eval --dataset petshop DIR`: ranks the root cause of every issue of a PetShop
// scenario folder and prints top-1 and top-3 recall, over all issues, per split (train,
// test) and per target metric (latency, availability).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { baselines, parseGraph, parseMetrics, parseTarget, rankIssue, RCA_LEVELS, type RcaLevel } from '../../actors/rca/index.ts';
import { parse, showHelp, str, usageError } from '../args.ts';

export const RCA_EVAL_HELP = `Usage: vigil rca-eval --dataset petshop DIR [--level L0|L1|L2] [--json] [--verbose]

Runs root-cause ranking on every issue of a PetShop scenario folder (DIR holds
graph.csv, noissue/metrics.csv and train/ and test/ folders of issue_N/ with metrics.csv
and target.json; see the dataset's README) and prints top-1 and top-3 recall: over all
issues, per split and per target metric.

Options:
  --dataset NAME   the dataset's layout; only "petshop" is known
  --level L        degradation level: L0 causal (default), L1 correlation, L2 rules
  --json           end with one JSON line: {"issues","top1","top3","by_metric","by_split",...}
  --verbose        one line per issue: its rank of the true root cause and the top three
  -h, --help       this help
`;

export interface Recall {
  issues: number;
  top1: number;
  top3: number;
}

export interface IssueLine {
  split: string;
  issue: string;
  metric: string;
  rootCause: string;
  rank: number;
  top: string[];
}

export interface PetshopSummary extends Recall {
  level: RcaLevel;
  by_metric: Record<string, Recall>;
  by_split: Record<string, Recall & { by_metric: Record<string, Recall> }>;
  lines: IssueLine[];
}

export async function rcaEvalCommand(argv: string[]): Promise<number> {
  const cmd = 'vigil rca-eval';
  const p = parse(cmd, argv, { dataset: { type: 'string' }, level: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, 1);
  if (p.values.help) return showHelp(RCA_EVAL_HELP);
  const dataset = str(p, 'dataset');
  if (dataset === undefined) throw usageError(cmd, 'missing --dataset (known: petshop)');
  if (dataset !== 'petshop') throw usageError(cmd, `unknown dataset "${dataset}" (known: petshop)`);
  const level = (str(p, 'level') ?? 'L0').toUpperCase();
  if (!(RCA_LEVELS as readonly string[]).includes(level)) throw usageError(cmd, `--level must be one of ${RCA_LEVELS.join(', ')} (got "${str(p, 'level')}")`);
  const dir = p.positionals[0];
  if (!dir) throw usageError(cmd, 'missing the scenario folder DIR');
  const s = evaluatePetshop(dir, level as RcaLevel);
  const out = (l: string): void => { process.stdout.write(`${l}\n`); };
  if (p.values.verbose) {
    for (const l of s.lines) out(`${l.split}/${l.issue} ${l.metric.padEnd(12)} root cause ${l.rootCause}: rank ${l.rank}; top 3: ${l.top.join(', ')}`);
    out('');
  }
  out(`PetShop ${dir}: ${s.issues} issues, RCA level ${s.level}`);
  out(`${'issues'.padStart(30)}  top-1  top-3`);
  const row = (name: string, r: Recall): void => out(`  ${name.padEnd(22)}${String(r.issues).padStart(6)}  ${r.top1.toFixed(3)}  ${r.top3.toFixed(3)}`);
  row('all', s);
  for (const [m, r] of Object.entries(s.by_metric)) row(m, r);
  for (const [sp, r] of Object.entries(s.by_split)) {
    row(sp, r);
    for (const [m, rm] of Object.entries(r.by_metric)) row(`${sp} ${m}`, rm);
  }
  if (p.values.json) {
    const { lines: _lines, ...summary } = s;
    out(JSON.stringify(summary));
  }
  return 0;
}

/** Every issue of the folder, ranked; throws a usage error naming what is missing. */
export function evaluatePetshop(dir: string, level: RcaLevel = 'L0'): PetshopSummary {
  const cmd = 'vigil rca-eval';
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw usageError(cmd, `no folder ${dir}`);
  const need = (path: string): string => {
    if (!existsSync(path)) throw usageError(cmd, `${path} is missing (expected the PetShop layout: graph.csv, noissue/, train/, test/)`);
    return readFileSync(path, 'utf8');
  };
  const topology = parseGraph(need(join(dir, 'graph.csv')), join(dir, 'graph.csv'));
  const base = baselines(parseMetrics(need(join(dir, 'noissue', 'metrics.csv')), join(dir, 'noissue', 'metrics.csv')));
  const lines: IssueLine[] = [];
  for (const split of ['train', 'test']) {
    const sd = join(dir, split);
    if (!existsSync(sd)) continue;
    const issues = readdirSync(sd).filter((n) => /^issue_\d+$/.test(n)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    for (const issue of issues) {
      const id = join(sd, issue);
      const target = parseTarget(need(join(id, 'target.json')), join(id, 'target.json'));
      const { rank, result } = rankIssue(topology, base, parseMetrics(need(join(id, 'metrics.csv')), join(id, 'metrics.csv')), target, level);
      lines.push({ split, issue, metric: target.metric, rootCause: target.rootCause, rank, top: result.causes.slice(0, 3).map((c) => c.service) });
    }
  }
  if (lines.length === 0) throw usageError(cmd, `${dir} has no train/issue_N or test/issue_N folders`);
  const recall = (ls: IssueLine[]): Recall => ({
    issues: ls.length, top1: round(ls.filter((l) => l.rank === 1).length / ls.length), top3: round(ls.filter((l) => l.rank <= 3).length / ls.length),
  });
  const byMetric = (ls: IssueLine[]): Record<string, Recall> =>
    Object.fromEntries([...new Set(ls.map((l) => l.metric))].sort().map((m) => [m, recall(ls.filter((l) => l.metric === m))]));
  const by_split = Object.fromEntries([...new Set(lines.map((l) => l.split))].map((sp) => {
    const ls = lines.filter((l) => l.split === sp);
    return [sp, { ...recall(ls), by_metric: byMetric(ls) }];
  }));
  return { ...recall(lines), level, by_metric: byMetric(lines), by_split, lines };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
