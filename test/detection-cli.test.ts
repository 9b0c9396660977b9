// `vigil detect` on real NAB files (the small copy in test/data/nab): one output row per
// input row, same order, fields echoed, the tier's decision in an `anomaly` column; folders
// keep their layout and report per file; a closing summary; contradicting outputs and bad
// rows refused in one line with exit code 2 (or skipped and counted with --skip-bad).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectCommand } from '../cli/detect.ts';
import { createDetector } from '../actors/detection/index.ts';
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import { parseTimestamp, parseValue, readSeriesCsv } from '../cli/csv/index.ts';
import { mulberry32 } from './detection-synthetic.ts';

const DATA = fileURLToPath(new URL('./data/nab/data', import.meta.url));
const TAXI = join(DATA, 'realKnownCause/nyc_taxi.csv');
const FILES = [
  'artificialNoAnomaly/art_daily_small_noise.csv',
  'artificialWithAnomaly/art_daily_jumpsup.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv',
  'realKnownCause/nyc_taxi.csv',
];
/** A blank line 3, an unreadable value on line 4 and an unreadable timestamp on line 6. */
const BAD_ROWS = 'timestamp,value\n2020-01-01 00:00:00,1\n\n2020-01-01 00:05:00,abc\n2020-01-01 00:10:00,2\nnot-a-time,3\n2020-01-01 00:20:00,4\n';

/** Captures what a call writes to stderr. */
async function stderrOf(run: () => Promise<number>): Promise<{ code: number; err: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await run(), err };
  } finally {
    process.stderr.write = original;
  }
}

/** A clock that moves `stepMs` every time it is read, so "a run that takes long" is exact. */
function steppingClock(stepMs: number): Clock {
  let t = 0;
  return {
    now: () => (t += stepMs),
    setTimeout: (): TimerHandle => ({}),
    clearTimeout: () => {},
  };
}

async function dataRows(path: string): Promise<number> {
  return (await readFile(path, 'utf8')).trim().split('\n').length - 1;
}

describe('vigil detect', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-detect-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scores a file: same rows, same order, the tier\'s scores and decisions, and a summary', async () => {
    const out = join(dir, 'taxi.csv');
    const { code, err } = await stderrOf(() => detectCommand(['--tier', 'agile', '--input', TAXI, '--output', out]));
    assert.equal(code, 0, err);
    const input = (await readFile(TAXI, 'utf8')).trim().split('\n');
    const output = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(output[0], 'timestamp,value,anomaly_score,anomaly');
    assert.equal(output.length, input.length);
    const d = createDetector('agile');
    let anomalies = 0;
    for (let i = 1; i < input.length; i++) {
      const [ts, v] = (input[i] as string).split(',') as [string, string];
      const [ots, ov, score, flag] = (output[i] as string).split(',') as [string, string, string, string];
      assert.equal(ots, ts);
      assert.equal(ov, v);
      assert.equal(Number(score), d.update(parseTimestamp(ts), parseValue(v)), `row ${i}`);
      assert.equal(flag, d.anomalous ? '1' : '0', `row ${i}`);
      if (d.anomalous) anomalies++;
    }
    assert.ok(anomalies > 0, 'the taxi series has anomalies under agile');
    // the summary: one line (a paragraph) with the files, rows, time, threshold and count
    const lines = err.trimEnd().split('\n');
    assert.equal(lines.length, 1, err);
    assert.match(lines[0]!, new RegExp(`^vigil detect: 1 file, ${(input.length - 1).toLocaleString('en')} rows in \\d+\\.\\d s \\([\\d,]+ rows/s\\), tier agile; ${anomalies} rows crossed the tier's alarm threshold \\(anomaly = 1: undamped score >= 0\\.7 and beyond 4 deviations, either side\\)\\.$`));
  });

  it('writes the scored CSV to stdout when --output is omitted, the summary to stderr', async () => {
    const file = join(dir, 'small.csv');
    await writeFile(file, 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n');
    const original = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    }) as typeof process.stdout.write;
    let result: { code: number; err: string };
    try {
      result = await stderrOf(() => detectCommand(['--tier', 'basic', '--direction', 'up', '--input', file]));
    } finally {
      process.stdout.write = original;
    }
    assert.equal(result.code, 0);
    assert.match(out, /^timestamp,value,anomaly_score,anomaly\n2020-01-01 00:00:00,1,[\d.e-]+,0\n2020-01-01 00:05:00,2,[\d.e-]+,0\n$/);
    assert.match(result.err, /^vigil detect: 1 file, 2 rows in .*; 0 rows crossed .*beyond 3 deviations, above\)\.\n$/);
  });

  it('scores a folder into the same sub-folders, one progress line per file and a summary', async () => {
    const out = join(dir, 'all');
    const { code, err } = await stderrOf(() => detectCommand(['--tier=basic', '--input', DATA, '--output', out]));
    assert.equal(code, 0, err);
    assert.deepEqual((await readdir(out)).sort(), (await readdir(DATA)).sort());
    const lines = err.trimEnd().split('\n');
    assert.equal(lines.length, FILES.length + 1, err);
    let rows = 0;
    let anomalies = 0;
    for (const [i, name] of FILES.entries()) {
      const expected = await dataRows(join(DATA, name));
      assert.equal(await dataRows(join(out, name)), expected, name);
      const m = new RegExp(`^vigil detect: \\[${i + 1}/4\\] ${name}: ([\\d,]+) rows, ([\\d,]+) anomalies$`).exec(lines[i]!);
      assert.ok(m, `progress line for ${name}: ${lines[i]}`);
      assert.equal(Number(m[1]!.replace(/,/g, '')), expected);
      const flagged = (await readFile(join(out, name), 'utf8')).trim().split('\n').slice(1).filter((l) => l.endsWith(',1')).length;
      assert.equal(Number(m[2]!.replace(/,/g, '')), flagged, name);
      rows += expected;
      anomalies += flagged;
    }
    assert.match(lines[4]!, new RegExp(`^vigil detect: 4 files, ${rows.toLocaleString('en')} rows in .*tier basic; ${anomalies.toLocaleString('en')} rows crossed the tier's alarm threshold`));
  });

  it('reports progress on a file that runs longer than a few seconds, and none on a quick one', async () => {
    const file = join(dir, 'long.csv');
    const start = Date.UTC(2020, 0, 1);
    const body = Array.from({ length: 20_000 }, (_, i) => `${new Date(start + i * 60_000).toISOString()},${(i % 60) + 1}`);
    await writeFile(file, `timestamp,value\n${body.join('\n')}\n`);
    // every read of this clock is a second later: batches (8,192 rows) arrive 1 s apart
    const slow = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', join(dir, 'long-out.csv')], { clock: steppingClock(1000) }));
    assert.equal(slow.code, 0, slow.err);
    const progress = slow.err.split('\n').filter((l) => l.includes('rows so far'));
    assert.ok(progress.length >= 1, slow.err);
    assert.match(progress[0]!, new RegExp(`^vigil detect: ${file}: 16,384 rows so far \\([\\d,]+ rows/s overall\\)$`));
    const quick = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', join(dir, 'long-out.csv')], { clock: steppingClock(0) }));
    assert.equal(quick.code, 0);
    assert.equal(quick.err.trimEnd().split('\n').length, 1, `only the summary: ${quick.err}`);
    assert.match(quick.err, /1 file, 20,000 rows/);
  });

  it('keeps gaps, repeated and backward timestamps, one output row each', async () => {
    const file = join(dir, 'odd.csv');
    await writeFile(file, 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,\n2020-01-01 00:05:00,2\n2019-12-31 23:00:00,3\n1577836800,4\n');
    const out = join(dir, 'odd-out.csv');
    const { code, err } = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', out]));
    assert.equal(code, 0, err);
    const rows: string[] = [];
    for await (const b of readSeriesCsv(out)) rows.push(...b.stamps.map((s, i) => `${s},${b.values[i]}`));
    assert.deepEqual(rows, ['2020-01-01 00:00:00,1', '2020-01-01 00:05:00,', '2020-01-01 00:05:00,2', '2019-12-31 23:00:00,3', '1577836800,4']);
    // the gap is written with score 0, not an anomaly
    assert.match((await readFile(out, 'utf8')).split('\n')[2]!, /^2020-01-01 00:05:00,,0,0$/);
  });

  it('refuses an unreadable value or timestamp naming file and line (exit 2), leaving no output behind', async () => {
    const file = join(dir, 'bad-rows.csv');
    await writeFile(file, BAD_ROWS);
    const out = join(dir, 'bad-rows-out.csv');
    const refused = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', out]));
    assert.equal(refused.code, 2);
    assert.equal(refused.err.trimEnd().split('\n').length, 1, refused.err);
    // line 4 of the file (the blank line 3 counts as a line)
    assert.equal(refused.err, `vigil detect: ${file}:4: value "abc" is not a number (--skip-bad skips such rows)\n`);
    assert.equal(existsSync(out), false, 'no half-written output');

    const badTime = join(dir, 'bad-time.csv');
    await writeFile(badTime, 'timestamp,value\n2020-01-01 00:00:00,1\nyesterday,2\n');
    const t = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', badTime, '--output', out]));
    assert.equal(t.code, 2);
    assert.match(t.err, new RegExp(`^vigil detect: ${badTime}:3: timestamp "yesterday" is not a date`));
  });

  it('with --drift, flags a slow leak that agile misses without it; refuses --drift for basic', async () => {
    // 21 days of 5-minute samples on a daily cycle, leaking +5.8 a day from day 14
    const random = mulberry32(2);
    const rows = ['timestamp,value'];
    for (let i = 0; i < 21 * 288; i++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      const v = 100 + 10 * Math.sin((2 * Math.PI * i) / 288) + gauss + (i >= 14 * 288 ? 0.02 * (i - 14 * 288) : 0);
      rows.push(`${new Date(1_400_000_000_000 + i * 300_000).toISOString()},${v.toFixed(4)}`);
    }
    const file = join(dir, 'leak.csv');
    await writeFile(file, `${rows.join('\n')}\n`);
    const flaggedFrom = async (args: string[]): Promise<number[]> => {
      const out = join(dir, `leak-${args.length}.csv`);
      const { code, err } = await stderrOf(() => detectCommand(['--tier', 'agile', '--input', file, '--output', out, ...args]));
      assert.equal(code, 0, err);
      const lines = (await readFile(out, 'utf8')).trim().split('\n').slice(1);
      return lines.flatMap((l, i) => (l.endsWith(',1') ? [i] : []));
    };
    const withDrift = (await flaggedFrom(['--drift'])).filter((i) => i >= 14 * 288);
    const without = (await flaggedFrom([])).filter((i) => i >= 14 * 288);
    assert.ok(withDrift.length > 0 && (withDrift[0] as number) < 14 * 288 + 144, `with --drift: first flag at row ${withDrift[0]}`);
    assert.ok(without.length <= 1, `without: ${without.length} flagged rows during the leak`);
    const refused = await stderrOf(() => detectCommand(['--tier', 'basic', '--drift', '--input', file]));
    assert.equal(refused.code, 2);
    assert.equal(refused.err, 'vigil detect: --drift needs --tier agile or robust (basic does not score drift) (see vigil detect --help)\n');
  });

  it('with --skip-bad, leaves bad rows out, scores the rest and counts them in the summary', async () => {
    const file = join(dir, 'bad-rows-2.csv');
    await writeFile(file, BAD_ROWS);
    const out = join(dir, 'skipped-out.csv');
    const { code, err } = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', out, '--skip-bad']));
    assert.equal(code, 0, err);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => l.split(',').slice(0, 2).join(','));
    assert.deepEqual(lines, ['timestamp,value', '2020-01-01 00:00:00,1', '2020-01-01 00:10:00,2', '2020-01-01 00:20:00,4']);
    assert.match(err, new RegExp(`; 2 bad rows skipped \\(first: ${file}:4: value "abc" is not a number\\)\\.\\n$`));
  });

  it('refuses an --output that contradicts the input, in one line with exit 2, writing nothing', async () => {
    const folderOut = join(dir, 'scores.csv');
    const a = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', DATA, '--output', folderOut]));
    assert.equal(a.code, 2);
    assert.equal(a.err, `vigil detect: --input ${DATA} is a folder, so --output must be a folder too (got "${folderOut}", a .csv path) (see vigil detect --help)\n`);
    assert.equal(existsSync(folderOut), false, 'no folder named scores.csv');

    const existing = join(dir, 'existing-folder');
    await mkdir(existing);
    const b = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', TAXI, '--output', existing]));
    assert.equal(b.code, 2);
    assert.match(b.err, /^vigil detect: --input .*nyc_taxi\.csv is a file, so --output must be a file \(got ".*existing-folder", an existing folder\)/);
    assert.equal(b.err.trimEnd().split('\n').length, 1);
    assert.deepEqual(await readdir(existing), []);

    const self = join(dir, 'self.csv');
    await writeFile(self, 'timestamp,value\n2020-01-01 00:00:00,1\n');
    const c = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', self, '--output', self]));
    assert.equal(c.code, 2);
    assert.match(c.err, /is the input itself/);
    assert.equal(await readFile(self, 'utf8'), 'timestamp,value\n2020-01-01 00:00:00,1\n', 'the input is untouched');
  });

  it('bad usage: one line on stderr and exit code 2', async () => {
    const empty = join(dir, 'empty-folder');
    await mkdir(empty);
    for (const argv of [[], ['--tier', 'fast', '--input', TAXI], ['--tier', 'basic'], ['--tier', 'basic', '--input', '/nonexistent.csv'],
      ['--tier', 'basic', '--input', DATA], ['--bogus'], ['--tier', 'basic', '--input', TAXI, '--direction', 'sideways'],
      ['--tier', 'basic', '--input', empty, '--output', join(dir, 'nothing')]]) {
      const { code, err } = await stderrOf(() => detectCommand(argv));
      assert.equal(code, 2, argv.join(' '));
      assert.equal(err.trim().split('\n').length, 1, `${argv.join(' ')}: ${err}`);
      assert.match(err, /^vigil detect: /);
    }
  });

  it('a file without a timestamp,value header is refused with exit code 2', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'time,reading\n1,2\n');
    const { code, err } = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', join(dir, 'x.csv')]));
    assert.equal(code, 2);
    assert.match(err, /^vigil detect: .*bad\.csv: header must name 'timestamp' and 'value' columns\n$/);
  });

  it('documents the output columns, the threshold, --skip-bad and the summary in --help', async () => {
    const original = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      assert.equal(await detectCommand(['--help']), 0);
    } finally {
      process.stdout.write = original;
    }
    for (const word of ['anomaly_score', 'anomaly ', 'threshold', '--skip-bad', 'summary', '--output', 'FILE:LINE', 'progress']) {
      assert.ok(out.includes(word), `help mentions ${word}`);
    }
  });
});
