// The TabSeparated rows the tsdb inserts: a row's head (tenant, service, metric, labels) is
// written into the byte buffer in place, so it must spell every field exactly as tsvText and
// labelsName do (the column `labels` is the series' key in every query).
import { strict as assert } from 'node:assert';
import { createRng } from '../actors/runtime/index.ts';
import { labelsName } from '../protocols/index.ts';
import { RAW_SAMPLE_COLUMNS, SAMPLE_COLUMNS, samplesTsv, TSV_ROWS_PER_TURN, tsvFloat, tsvInTurns, tsvText } from '../storage/tsdb/tsv.ts';
import type { SampleRun } from '../storage/tsdb/types.ts';

// plain characters most of the time, then each character either escaping touches
const PLAIN = ['a', 'b', 'Z', '_', '0'];
const ANY = [...PLAIN, '\\', '"', '\n', '\t', '\r', 'é', '😀', ',', '=', '{', '}'];

function runsOf(seed: string, count: number): Array<SampleRun & Required<Pick<SampleRun, 'scores'>>> {
  const rng = createRng(seed);
  const text = (max: number, min = 0) => {
    const set = rng.next() < 0.7 ? PLAIN : ANY;
    return Array.from({ length: min + rng.int(max) }, () => set[rng.int(set.length)]!).join('');
  };
  return Array.from({ length: count }, () => {
    const labels: Record<string, string> = {};
    for (let k = rng.int(4); k > 0; k--) labels[text(6, 1)] = text(8);
    const n = rng.int(4);
    return {
      tenant: text(5, 1), service: text(6, 1), metric: text(6, 1), labels,
      samples: Array.from({ length: n }, (_, i) => [1.7e12 + i * 1000, rng.normal() * 50] as const),
      scores: Array.from({ length: n }, (_, i) => [1.7e12 + i * 1000, rng.next(), rng.normal()] as const),
    };
  });
}

/** Rows split as ClickHouse splits them: an escaped newline or tab is two characters, not a break. */
function rowsOf(text: string): string[][] {
  return text === '' ? [] : text.slice(0, -1).split('\n').map((row) => row.split('\t'));
}

describe('storage: TabSeparated rows', () => {
  it('spells each row head as tsvText and labelsName do, for any characters in tenant, service, metric and labels', () => {
    let rows = 0;
    for (let batch = 0; batch < 300; batch++) {
      const runs = runsOf(`tsv-${batch}`, 1 + (batch % 7));
      const scored = samplesTsv(runs, () => 30);
      const raw = samplesTsv(runs, () => 7, undefined, false);
      const want = runs.flatMap((r) => r.samples.map(() => [tsvText(r.tenant), tsvText(r.service), tsvText(r.metric), tsvText(labelsName(r.labels))]));
      const gotScored = rowsOf(scored.text);
      const gotRaw = rowsOf(raw.text);
      assert.equal(scored.rows, want.length);
      assert.equal(gotScored.length, want.length, `batch ${batch}: rows with verdicts`);
      assert.equal(gotRaw.length, want.length, `batch ${batch}: rows without`);
      let i = 0;
      for (const r of runs) {
        for (let k = 0; k < r.samples.length; k++, i++) {
          const [t, v] = r.samples[k]!;
          assert.deepEqual(gotScored[i]!.slice(0, 4), want[i], `batch ${batch} row ${i}: head`);
          assert.deepEqual(gotScored[i]!.slice(4), [String(Math.trunc(t)), tsvFloat(v), tsvFloat(r.scores[k]![1]), tsvFloat(r.scores[k]![2]), '30']);
          assert.equal(gotScored[i]!.length, SAMPLE_COLUMNS.length);
          assert.deepEqual(gotRaw[i]!.slice(0, 4), want[i], `batch ${batch} row ${i}: raw head`);
          assert.deepEqual(gotRaw[i]!.slice(4), [String(Math.trunc(t)), tsvFloat(v), '7']);
          assert.equal(gotRaw[i]!.length, RAW_SAMPLE_COLUMNS.length);
        }
      }
      rows += want.length;
    }
    assert.ok(rows > 500, `only ${rows} rows were checked`);
  });

  it('writes nan for a sample without its verdict: no scores, a short list, or a verdict of another time', () => {
    const sample = { tenant: 't', service: 's', metric: 'm', labels: {}, samples: [[1000, 1.5], [2000, 2.5], [3000, 3.5]] as const };
    const cells = (run: SampleRun) => rowsOf(samplesTsv([run], () => 1).text).map((row) => row.slice(6, 8));
    assert.deepEqual(cells(sample), [['nan', 'nan'], ['nan', 'nan'], ['nan', 'nan']]);
    assert.deepEqual(cells({ ...sample, scores: [[1000, 0.25, 1.25]] }), [['0.25', '1.25'], ['nan', 'nan'], ['nan', 'nan']]);
    assert.deepEqual(cells({ ...sample, scores: [[1000, 0, 1], [2500, 0.5, 2], [3000, 1, NaN]] }), [['0', '1'], ['nan', 'nan'], ['1', 'nan']]);
  });

  it('writes only the samples a checked write keeps, heads included', () => {
    const runs = runsOf('keep', 20).filter((r) => r.samples.length > 1);
    const kept = samplesTsv(runs, () => 30, (_run, i) => i % 2 === 1);
    const want = runs.reduce((n, r) => n + Math.floor(r.samples.length / 2), 0);
    assert.equal(kept.rows, want);
    assert.equal(rowsOf(kept.text).length, want);
    for (const row of rowsOf(kept.text)) assert.equal(row.length, SAMPLE_COLUMNS.length);
  });

  it('builds a large batch a few thousand rows a turn, to the same text as in one piece', async () => {
    // one run longer than a piece (it stays whole), then many short ones, so pieces end between runs
    const runs = runsOf('turns', 4_000);
    runs.unshift({ ...runs[0]!, samples: Array.from({ length: TSV_ROWS_PER_TURN + 7 }, (_, i) => [1.7e12 + i, i / 3] as const), scores: [] });
    const total = runs.reduce((n, r) => n + r.samples.length, 0);
    assert.ok(total > 3 * TSV_ROWS_PER_TURN, `${total} rows`);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const text = await tsvInTurns(runs, (r) => r.samples.length, (part) => samplesTsv(part, () => 30).text);
    clearInterval(counting);
    assert.equal(text, samplesTsv(runs, () => 30).text);
    assert.ok(turns >= 2, `the event loop turned while it built the text (${turns})`);
    assert.equal(await tsvInTurns([], (r: SampleRun) => r.samples.length, (part) => samplesTsv(part, () => 30).text), '');
  });
});
