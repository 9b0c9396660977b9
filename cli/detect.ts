// `vigil detect`: scores a CSV (or a folder of them) with one detection tier, streaming.
// Input: header naming `timestamp` and `value` (NAB's layout); output `timestamp,value,
// anomaly_score,anomaly`, one row per input row, same order, fields echoed as written.
// Memory is bounded (rows stream through in batches), so file size does not matter.
// Progress and the closing summary go to stderr: stdout may be the scored CSV.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { createDetector, enableRobustModel } from '../actors/detection/index.ts';
import { SystemClock, type Clock } from '../actors/runtime/index.ts';
import { TIERS, type Tier } from '../protocols/types.ts';
import { VigilError } from '../protocols/errors.ts';
import { parse, str, usageError } from './args.ts';
import { isUnreadableValue, parseTimestamp, parseValue, readSeriesCsv } from './csv/index.ts';

const CMD = 'vigil detect';
/** A single file reports progress once it has run this long, and then this often. */
export const DEFAULT_PROGRESS_EVERY_MS = 2000;
const HEADER = 'timestamp,value,anomaly_score,anomaly\n';

export const DETECT_HELP = `Usage: vigil detect --tier basic|agile|robust --input FILE.csv|DIR [options]

Scores every row of a timestamp,value CSV (NAB's layout; other columns are ignored) with
one detection tier, as a node would score the series live, and writes
  timestamp,value,anomaly_score,anomaly
one row per input row, in the same order, the input's fields echoed as written.
  anomaly_score  the tier's calibrated score in [0, 1], damped after an alarm (one high
                 score per episode, as the node reports it)
  anomaly        1 when the row crosses the tier's alarm threshold: its undamped score is
                 at or above the threshold (0.7) and the value lies beyond the tier's bound
                 (basic 3, agile and robust 4 deviations) on the --direction side; rows of
                 an ongoing episode stay 1 while their damped score is low
The summary at the end names the threshold and counts the rows that crossed it.

Options:
  --tier T             basic, agile or robust (required)
  --input PATH         a CSV file, or a folder: every *.csv under it, sub-folders included
  --output PATH        a file for a file input (default: stdout); a folder for a folder
                       input (required), which gets each scored file at the same relative
                       path. A folder input into a path ending in .csv, a file input into
                       an existing folder, or an output equal to the input is refused.
  --direction D        which side counts: up, down or both (default both)
  --drift              also flag a slow drift of the level (a leak: the level's move over a
                       day far beyond the series' usual ones), as a metric with
                       metricSensitivity drift: true is scored; agile and robust only, and
                       only from about day 11 of a series' data (actors/detection/README.md)
  --skip-bad           skip rows whose value is not a number (e.g. "abc") or whose
                       timestamp is not a date: they are left out of the output and counted
                       in the summary. Without it the first such row stops the run with
                       FILE:LINE and exit status 2. An empty value is a gap, not an error:
                       it is written with score 0 and anomaly 0.
  -h, --help           this help

On stderr: one line per file for a folder input, a progress line every few seconds for a
file that takes longer, and one summary line at the end: files, rows, time, the rows that
crossed the alarm threshold, the rows skipped.

Exit status: 0 done; 2 bad usage, an unreadable file, a bad row (without --skip-bad) or an
output that cannot be written; 1 anything else.
`;

interface DetectOptions {
  tier: Tier;
  input: string;
  output: string | undefined;
  direction: 'up' | 'down' | 'both';
  drift: boolean;
  skipBad: boolean;
}

/** What tests may set: the clock and how often a long file reports progress. */
export interface DetectHost {
  clock?: Clock;
  progressEveryMs?: number;
}

function parseArgs(argv: string[]): DetectOptions | 'help' {
  const p = parse(CMD, argv, {
    tier: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' },
    direction: { type: 'string' }, 'skip-bad': { type: 'boolean' }, drift: { type: 'boolean' },
  });
  if (p.values.help) return 'help';
  const tier = str(p, 'tier');
  if (tier === undefined) throw usageError(CMD, '--tier is required (basic, agile or robust)');
  if (!TIERS.includes(tier as Tier)) throw usageError(CMD, `--tier must be one of ${TIERS.join(', ')} (got "${tier}")`);
  const input = str(p, 'input');
  if (input === undefined || input === '') throw usageError(CMD, '--input is required');
  const direction = str(p, 'direction') ?? 'both';
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') throw usageError(CMD, `--direction must be up, down or both (got "${direction}")`);
  const drift = p.values.drift === true;
  if (drift && tier === 'basic') throw usageError(CMD, '--drift needs --tier agile or robust (basic does not score drift)');
  const output = str(p, 'output');
  if (output === '') throw usageError(CMD, '--output needs a path');
  return { tier: tier as Tier, input, output, direction, drift, skipBad: p.values['skip-bad'] === true };
}

/** Counts of a whole run, and the progress lines on the way. */
class Tally {
  files = 0;
  rows = 0;
  anomalies = 0;
  skipped = 0;
  firstSkipped: string | undefined;
  readonly started: number;
  private lastReport: number;

  constructor(private readonly clock: Clock, private readonly everyMs: number) {
    this.started = this.lastReport = clock.now();
  }

  /** After each batch: a line once the run has taken `everyMs`, then every `everyMs`. */
  batch(file: string, fileRows: number): void {
    const now = this.clock.now();
    if (now - this.lastReport < this.everyMs) return;
    this.lastReport = now;
    note(`${file}: ${n(fileRows)} rows so far (${n(this.rows / Math.max(0.001, (now - this.started) / 1000))} rows/s overall)`);
  }

  elapsedMs(): number {
    return this.clock.now() - this.started;
  }
}

interface FileCounts {
  rows: number;
  anomalies: number;
  skipped: number;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** A row the detector cannot take: why, or undefined when it can. */
function badRow(stamp: string, raw: string, ts: number): string | undefined {
  if (isUnreadableValue(raw)) return `value "${raw}" is not a number`;
  if (Number.isNaN(ts)) return `timestamp "${stamp}" is not a date (YYYY-MM-DD HH:MM:SS, ISO 8601 or epoch seconds/ms)`;
  return undefined;
}

async function scoreFile(opts: DetectOptions, input: string, out: Writable, tally: Tally): Promise<FileCounts> {
  const detector = createDetector(opts.tier, { direction: opts.direction, drift: opts.drift });
  const counts: FileCounts = { rows: 0, anomalies: 0, skipped: 0 };
  await write(out, HEADER);
  for await (const batch of readSeriesCsv(input)) {
    let text = '';
    for (let i = 0; i < batch.stamps.length; i++) {
      const stamp = batch.stamps[i] as string;
      const raw = batch.values[i] as string;
      const ts = parseTimestamp(stamp);
      const bad = badRow(stamp, raw, ts);
      if (bad !== undefined) {
        const where = `${input}:${batch.lines[i]}`;
        if (!opts.skipBad) throw new VigilError('BAD_REQUEST', `${CMD}: ${where}: ${bad} (--skip-bad skips such rows)`);
        counts.skipped++;
        tally.firstSkipped ??= `${where}: ${bad}`;
        continue;
      }
      const score = detector.update(ts, parseValue(raw));
      const anomaly = detector.anomalous ? 1 : 0;
      counts.anomalies += anomaly;
      text += `${stamp},${raw},${score},${anomaly}\n`;
    }
    counts.rows += batch.stamps.length;
    tally.rows += batch.stamps.length;
    await write(out, text);
    tally.batch(input, counts.rows);
  }
  tally.files++;
  tally.anomalies += counts.anomalies;
  tally.skipped += counts.skipped;
  return counts;
}

/** Writes one output file; a run that fails part-way leaves no half-written file behind. */
async function toFile<T>(path: string, fill: (out: Writable) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => { throw err as Error; });
  failed.catch(() => {});
  let ok = false;
  try {
    const result = await Promise.race([fill(out), failed]);
    ok = true;
    return result;
  } finally {
    out.end();
    await Promise.race([once(out, 'close'), failed]).catch(() => {});
    if (!ok) await rm(path, { force: true });
  }
}

async function csvFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await csvFilesUnder(path)));
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.csv')) found.push(path);
  }
  return found.sort();
}

/** Refuses an --output that contradicts the input before anything is read or written. */
async function checkOutput(opts: DetectOptions, inputIsFolder: boolean): Promise<void> {
  const output = opts.output;
  if (output !== undefined && resolve(output) === resolve(opts.input)) {
    throw usageError(CMD, `--output ${output} is the input itself; choose another path`);
  }
  const outInfo = output === undefined ? undefined : await stat(output).catch(() => undefined);
  if (inputIsFolder) {
    if (output === undefined) throw usageError(CMD, '--output DIR is required when --input is a folder');
    if (output.toLowerCase().endsWith('.csv')) {
      throw usageError(CMD, `--input ${opts.input} is a folder, so --output must be a folder too (got "${output}", a .csv path)`);
    }
    if (outInfo !== undefined && !outInfo.isDirectory()) throw usageError(CMD, `--output ${output} must be a folder when --input is a folder`);
  } else if (outInfo?.isDirectory()) {
    throw usageError(CMD, `--input ${opts.input} is a file, so --output must be a file (got "${output}", an existing folder)`);
  }
}

async function run(opts: DetectOptions, host: DetectHost): Promise<void> {
  const info = await stat(opts.input).catch(() => undefined);
  if (info === undefined) throw usageError(CMD, `--input ${opts.input}: no such file or folder`);
  await checkOutput(opts, info.isDirectory());
  const files = info.isDirectory() ? await csvFilesUnder(opts.input) : [opts.input];
  if (files.length === 0) throw usageError(CMD, `--input ${opts.input}: no *.csv file in this folder`);
  // the Robust tier runs with its tfjs-trained residual model (inline training: a file always
  // scores the same); if tfjs cannot load it stays statistical (L1) and says so
  if (opts.tier === 'robust') await enableRobustModel({ log: stderrLog });
  const tally = new Tally(host.clock ?? new SystemClock(), host.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS);
  if (!info.isDirectory()) {
    if (opts.output === undefined) await scoreFile(opts, opts.input, process.stdout, tally);
    else await toFile(opts.output, (out) => scoreFile(opts, opts.input, out, tally));
  } else {
    const output = opts.output as string;
    for (const [i, file] of files.entries()) {
      const name = relative(opts.input, file);
      const c = await toFile(join(output, name), (out) => scoreFile(opts, file, out, tally));
      const skipped = c.skipped > 0 ? `, ${n(c.skipped)} skipped` : '';
      note(`[${i + 1}/${files.length}] ${name}: ${n(c.rows)} rows, ${n(c.anomalies)} anomalies${skipped}`);
    }
  }
  note(summary(opts, tally));
}

/** The closing paragraph: what was done, how long it took, what crossed the threshold. */
function summary(opts: DetectOptions, t: Tally): string {
  const s = sensitivityOf(opts);
  const ms = t.elapsedMs();
  const side = opts.direction === 'both' ? 'either side' : opts.direction === 'up' ? 'above' : 'below';
  const parts = [
    `${n(t.files)} ${t.files === 1 ? 'file' : 'files'}, ${n(t.rows)} rows in ${(ms / 1000).toFixed(1)} s (${n(t.rows / Math.max(0.001, ms / 1000))} rows/s), tier ${opts.tier}`,
    `${n(t.anomalies)} rows crossed the tier's alarm threshold (anomaly = 1: undamped score >= ${s.threshold} and beyond ${s.deviations} deviations, ${side})`,
  ];
  if (t.skipped > 0) parts.push(`${n(t.skipped)} bad rows skipped (first: ${t.firstSkipped})`);
  return `${parts.join('; ')}.`;
}

/** The threshold and bound the tier decides with, as its state records them. */
function sensitivityOf(opts: DetectOptions): { threshold: number; deviations: number } {
  const s = createDetector(opts.tier, { direction: opts.direction }).snapshot().sensitivity as { threshold?: unknown; deviations?: unknown } | undefined;
  return { threshold: Number(s?.threshold), deviations: Number(s?.deviations) };
}

function note(line: string): void {
  process.stderr.write(`${CMD}: ${line}\n`);
}

function n(x: number): string {
  return Math.round(x).toLocaleString('en');
}

/** tfjs loader messages go to stderr (stdout may be the scored CSV); a missing optional
 * native package is the normal case on most machines and is not worth a line. */
const stderrLog = {
  info(obj: object, msg: string): void {
    if (msg.includes('native backend unavailable')) return;
    note(`${msg} ${JSON.stringify(obj)}`);
  },
  warn(obj: object, msg: string): void {
    note(`${msg} ${JSON.stringify(obj)}`);
  },
};

/** File-system refusals on the user's paths are their input to fix (exit 2), in one line. */
const PATH_ERRORS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EROFS', 'ENOSPC']);

/** Runs `vigil detect` with its arguments; returns the exit code (2 on bad usage or input). */
export async function detectCommand(argv: string[], host: DetectHost = {}): Promise<number> {
  try {
    const opts = parseArgs(argv);
    if (opts === 'help') {
      process.stdout.write(DETECT_HELP);
      return 0;
    }
    await run(opts, host);
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // a closed pipe downstream (`| head`) is a normal end, as for any Unix filter
    if (e.code === 'EPIPE') return 0;
    if (VigilError.is(err) && err.code !== 'INTERNAL') {
      const msg = err.message.startsWith(`${CMD}:`) ? err.message : `${CMD}: ${err.message}`;
      process.stderr.write(`${msg.split('\n')[0]}\n`);
      return 2;
    }
    const msg = `${CMD}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
    process.stderr.write(`${msg}\n`);
    return typeof e.code === 'string' && PATH_ERRORS.has(e.code) ? 2 : 1;
  }
}
