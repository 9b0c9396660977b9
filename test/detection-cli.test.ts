// `vigil detect` on real NAB files: one output row per input row, same order, fields
// echoed; folders keep their layout; bad usage is one line and exit code 2.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCommand } from '../cli/detect.ts';
import { createDetector } from '../actors/detection/index.ts';
import { parseTimestamp, parseValue, readSeriesCsv } from '../bench/csv/index.ts';

const DATA = new URL('../../shared/data/nab/data', import.meta.url).pathname;
const TAXI = join(DATA, 'realKnownCause/nyc_taxi.csv');

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

describe('vigil detect', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-detect-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('scores a file: same rows, same order, the tier\'s scores', async () => {
    const out = join(dir, 'taxi.csv');
    assert.equal(await detectCommand(['--tier', 'agile', '--input', TAXI, '--output', out]), 0);
    const input = (await readFile(TAXI, 'utf8')).trim().split('\n');
    const output = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(output[0], 'timestamp,value,anomaly_score');
    assert.equal(output.length, input.length);
    const d = createDetector('agile');
    for (let i = 1; i < input.length; i++) {
      const [ts, v] = (input[i] as string).split(',') as [string, string];
      const [ots, ov, score] = (output[i] as string).split(',') as [string, string, string];
      assert.equal(ots, ts);
      assert.equal(ov, v);
      assert.equal(Number(score), d.update(parseTimestamp(ts), parseValue(v)), `row ${i}`);
    }
  });

  it('scores a folder into the same sub-folders', async () => {
    const out = join(dir, 'all');
    assert.equal(await detectCommand(['--tier=basic', '--input', DATA, '--output', out]), 0);
    const categories = (await readdir(out)).sort();
    assert.deepEqual(categories, (await readdir(DATA)).sort());
    const files = await readdir(join(out, 'realKnownCause'));
    assert.ok(files.includes('nyc_taxi.csv'));
  });

  it('keeps NaN rows and odd timestamps, one output row each', async () => {
    const file = join(dir, 'odd.csv');
    await writeFile(file, 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,\n2020-01-01 00:05:00,2\n2019-12-31 23:00:00,abc\nnot-a-time,3\n');
    const out = join(dir, 'odd-out.csv');
    assert.equal(await detectCommand(['--tier', 'basic', '--input', file, '--output', out]), 0);
    const rows: string[] = [];
    for await (const b of readSeriesCsv(out)) rows.push(...b.stamps.map((s, i) => `${s},${b.values[i]}`));
    assert.deepEqual(rows, ['2020-01-01 00:00:00,1', '2020-01-01 00:05:00,', '2020-01-01 00:05:00,2', '2019-12-31 23:00:00,abc', 'not-a-time,3']);
  });

  it('bad usage: one line on stderr and exit code 2', async () => {
    for (const argv of [[], ['--tier', 'fast', '--input', TAXI], ['--tier', 'basic'], ['--tier', 'basic', '--input', '/nonexistent.csv'], ['--tier', 'basic', '--input', DATA], ['--bogus']]) {
      const { code, err } = await stderrOf(() => detectCommand(argv));
      assert.equal(code, 2, argv.join(' '));
      assert.equal(err.trim().split('\n').length, 1, `${argv.join(' ')}: ${err}`);
    }
  });

  it('a file without a timestamp,value header is refused with exit code 2', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'time,reading\n1,2\n');
    const { code, err } = await stderrOf(() => detectCommand(['--tier', 'basic', '--input', file, '--output', join(dir, 'x.csv')]));
    assert.equal(code, 2);
    assert.match(err, /header/);
  });
});
