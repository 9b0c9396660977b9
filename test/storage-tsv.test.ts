// The TabSeparated rows the tsdb inserts: a row's head (tenant, service, metric, labels) is
// written into the byte buffer in place, so it must spell every field exactly as tsvText and
// labelsName do (the column `labels` is the series' key in every query).
import { strict as assert } from 'node:assert';
import { createRng } from '../actors/runtime/index.ts';
import { labelsName } from '../protocols/index.ts';
import { samplesTsv, scoresTsv, TSV_ROWS_PER_TURN, tsvFloat, tsvInTurns, tsvText } from '../storage/tsdb/tsv.ts';
import type { SampleRun, ScoreRun } from '../storage/tsdb/types.ts';

// plain characters most of the time, then each character either escaping touches
const PLAIN = ['a', 'b', 'Z', '_', '0'];
const ANY = [...PLAIN, '\\', '"', '\n', '\t', '\r', 'é', '😀', ',', '=', '{', '}'];

function runsOf(seed: string, count: number): Array<SampleRun & ScoreRun> {
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
      const samples = samplesTsv(runs, () => 30);
      const scores = scoresTsv(runs, () => 7);
      const want = runs.flatMap((r) => r.samples.map(() => [tsvText(r.tenant), tsvText(r.service), tsvText(r.metric), tsvText(labelsName(r.labels))]));
      const gotSamples = rowsOf(samples.text);
      const gotScores = rowsOf(scores.text);
      assert.equal(samples.rows, want.length);
      assert.equal(gotSamples.length, want.length, `batch ${batch}: sample rows`);
      assert.equal(gotScores.length, want.length, `batch ${batch}: score rows`);
      let i = 0;
      for (const r of runs) {
        for (let k = 0; k < r.samples.length; k++, i++) {
          assert.deepEqual(gotSamples[i]!.slice(0, 4), want[i], `batch ${batch} row ${i}: sample head`);
          assert.deepEqual(gotSamples[i]!.slice(4), [String(Math.trunc(r.samples[k]![0])), tsvFloat(r.samples[k]![1]), '30']);
          assert.deepEqual(gotScores[i]!.slice(0, 4), want[i], `batch ${batch} row ${i}: score head`);
          assert.deepEqual(gotScores[i]!.slice(4), [String(r.scores[k]![0]), tsvFloat(r.scores[k]![1]), tsvFloat(r.scores[k]![2]), '7']);
        }
      }
      rows += want.length;
    }
    assert.ok(rows > 500, `only ${rows} rows were checked`);
  });

  it('writes only the samples a checked write keeps, heads included', () => {
    const runs = runsOf('keep', 20).filter((r) => r.samples.length > 1);
    const kept = samplesTsv(runs, () => 30, (_run, i) => i % 2 === 1);
    const want = runs.reduce((n, r) => n + Math.floor(r.samples.length / 2), 0);
    assert.equal(kept.rows, want);
    assert.equal(rowsOf(kept.text).length, want);
    for (const row of rowsOf(kept.text)) assert.equal(row.length, 7);
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
