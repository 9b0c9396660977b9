// TabSeparated text for the bulk tables (samples, scores): built straight from the runs, one
// string per batch, so a million samples cost no object per sample and no JSON.
import { labelsName } from '../../protocols/index.ts';
import type { SampleRun, ScoreRun } from './types.ts';

const SPECIAL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A string as a TabSeparated field. */
export function tsvText(s: string): string {
  return s.replace(SPECIAL, (c) => ESCAPES[c]!);
}

/** A float as ClickHouse reads it (JS spells the special values its own way). */
export function tsvFloat(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

export const SAMPLE_COLUMNS = ['tenant', 'service', 'metric', 'labels', 'ts', 'value', 'retain_days'] as const;
export const SCORE_COLUMNS = ['tenant', 'service', 'metric', 'labels', 'ts', 'score', 'expected', 'retain_days'] as const;

/** Rows of `samples`; `keep` (checked writes) says which samples to write. */
export function samplesTsv(
  runs: readonly SampleRun[],
  retainDays: (tenant: string) => number,
  keep?: (run: SampleRun, i: number) => boolean,
): { text: string; rows: number } {
  const parts: string[] = [];
  let rows = 0;
  for (const run of runs) {
    const head = `${tsvText(run.tenant)}\t${tsvText(run.service)}\t${tsvText(run.metric)}\t${tsvText(labelsName(run.labels))}\t`;
    const tail = `\t${retainDays(run.tenant)}\n`;
    const s = run.samples;
    for (let i = 0; i < s.length; i++) {
      if (keep && !keep(run, i)) continue;
      const p = s[i]!;
      parts.push(head + Math.trunc(p[0]) + '\t' + tsvFloat(p[1]) + tail);
      rows++;
    }
  }
  return { text: parts.join(''), rows };
}

export function scoresTsv(runs: readonly ScoreRun[], retainDays: (tenant: string) => number): { text: string; rows: number } {
  const parts: string[] = [];
  let rows = 0;
  for (const run of runs) {
    const head = `${tsvText(run.tenant)}\t${tsvText(run.service)}\t${tsvText(run.metric)}\t${tsvText(labelsName(run.labels))}\t`;
    const tail = `\t${retainDays(run.tenant)}\n`;
    for (const p of run.scores) {
      parts.push(head + Math.trunc(p[0]) + '\t' + tsvFloat(p[1]) + '\t' + tsvFloat(p[2]) + tail);
      rows++;
    }
  }
  return { text: parts.join(''), rows };
}
