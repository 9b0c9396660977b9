// `vigil detect`: scores a CSV (or a folder of them) with one detection tier, streaming.
//   vigil detect --tier basic|agile|robust --input FILE.csv [--output OUT.csv] [--direction up|down|both]
//   vigil detect --tier ... --input DIR --output DIR
// Input: header naming `timestamp` and `value` (NAB's layout); output `timestamp,value,
// anomaly_score`, one row per input row, same order, fields echoed as written. Memory is
// bounded (rows stream through in batches), so file size does not matter.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Writable } from 'node:stream';
import { createDetector, enableRobustModel } from '../actors/detection/index.ts';
import { TIERS, type Tier } from '../protocols/types.ts';
import { CsvFormatError, parseTimestamp, parseValue, readSeriesCsv } from '../bench/csv/index.ts';

const USAGE = `usage: vigil detect --tier basic|agile|robust --input FILE.csv|DIR [--output OUT.csv|DIR] [--direction up|down|both]
  Scores every row of a timestamp,value CSV; writes timestamp,value,anomaly_score (stdout when
  --output is omitted for a single file). With a folder, every *.csv under it is scored into
  the same relative path under --output. Progress goes to stderr on long runs.`;

class UsageError extends Error {}

interface DetectOptions {
  tier: Tier;
  input: string;
  output: string | undefined;
  direction: 'up' | 'down' | 'both';
}

function parseArgs(argv: string[]): DetectOptions | 'help' {
  const opts: Partial<DetectOptions> = { direction: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') return 'help';
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--tier': {
        const t = value();
        if (!TIERS.includes(t as Tier)) throw new UsageError(`--tier must be one of ${TIERS.join(', ')} (got '${t}')`);
        opts.tier = t as Tier;
        break;
      }
      case '--input':
        opts.input = value();
        break;
      case '--output':
        opts.output = value();
        break;
      case '--direction': {
        const d = value();
        if (d !== 'up' && d !== 'down' && d !== 'both') throw new UsageError(`--direction must be up, down or both (got '${d}')`);
        opts.direction = d;
        break;
      }
      default:
        throw new UsageError(`unknown argument '${a}' (see vigil detect --help)`);
    }
  }
  if (opts.tier === undefined) throw new UsageError('--tier is required (basic, agile or robust)');
  if (opts.input === undefined) throw new UsageError('--input is required');
  return opts as DetectOptions;
}

/** Reports progress on stderr at most every two seconds, only once a run takes that long. */
class Progress {
  private rows = 0;
  private readonly started = Date.now();
  private last = Date.now();

  add(rows: number, what: string): void {
    this.rows += rows;
    const now = Date.now();
    if (now - this.last < 2000) return;
    this.last = now;
    const rate = this.rows / ((now - this.started) / 1000);
    process.stderr.write(`vigil detect: ${this.rows.toLocaleString('en')} rows (${Math.round(rate).toLocaleString('en')}/s) ${what}\n`);
  }
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function scoreFile(opts: DetectOptions, input: string, out: Writable, progress: Progress): Promise<void> {
  const detector = createDetector(opts.tier, { direction: opts.direction });
  await write(out, 'timestamp,value,anomaly_score\n');
  for await (const batch of readSeriesCsv(input)) {
    let text = '';
    for (let i = 0; i < batch.stamps.length; i++) {
      const stamp = batch.stamps[i] as string;
      const raw = batch.values[i] as string;
      const score = detector.update(parseTimestamp(stamp), parseValue(raw));
      text += `${stamp},${raw},${score}\n`;
    }
    await write(out, text);
    progress.add(batch.stamps.length, input);
  }
}

async function toFile(path: string, fill: (out: Writable) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  try {
    await fill(out);
  } finally {
    out.end();
    await once(out, 'close');
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

async function run(opts: DetectOptions): Promise<void> {
  const info = await stat(opts.input).catch(() => undefined);
  if (info === undefined) throw new UsageError(`--input ${opts.input}: no such file or folder`);
  // the Robust tier runs with its tfjs-trained residual model (inline training: a file always
  // scores the same); if tfjs cannot load it stays statistical (L1) and says so
  if (opts.tier === 'robust') await enableRobustModel({ log: stderrLog });
  const progress = new Progress();
  if (info.isDirectory()) {
    if (opts.output === undefined) throw new UsageError('--output DIR is required when --input is a folder');
    const outInfo = await stat(opts.output).catch(() => undefined);
    if (outInfo !== undefined && !outInfo.isDirectory()) throw new UsageError(`--output ${opts.output} must be a folder when --input is a folder`);
    for (const file of await csvFilesUnder(opts.input)) {
      await toFile(join(opts.output, relative(opts.input, file)), (out) => scoreFile(opts, file, out, progress));
    }
    return;
  }
  if (opts.output === undefined) await scoreFile(opts, opts.input, process.stdout, progress);
  else await toFile(opts.output, (out) => scoreFile(opts, opts.input, out, progress));
}

/** tfjs loader messages go to stderr (stdout may be the scored CSV); a missing optional
 * native package is the normal case on most machines and is not worth a line. */
const stderrLog = {
  info(obj: object, msg: string): void {
    if (msg.includes('native backend unavailable')) return;
    process.stderr.write(`vigil detect: ${msg} ${JSON.stringify(obj)}\n`);
  },
  warn(obj: object, msg: string): void {
    process.stderr.write(`vigil detect: ${msg} ${JSON.stringify(obj)}\n`);
  },
};

/** Runs `vigil detect` with its arguments; returns the exit code (2 on bad usage or input). */
export async function detectCommand(argv: string[]): Promise<number> {
  try {
    const opts = parseArgs(argv);
    if (opts === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    await run(opts);
    return 0;
  } catch (err) {
    // a closed pipe downstream (`| head`) is a normal end, as for any Unix filter
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if (err instanceof UsageError || err instanceof CsvFormatError) {
      process.stderr.write(`vigil detect: ${err.message}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`vigil detect: ${msg.split('\n')[0]}\n`);
    return 1;
  }
}
