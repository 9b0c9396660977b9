// The NAB scorer on real NAB files (the 4-file copy in test/data/nab, MIT): its fixed points
// (a perfect detector scores 100, one that never fires 0), the sigmoid, hand-worked files,
// the fixed-threshold score, the point-adjusted F1 and leave-one-fold-out.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  FOLDS, labelRows, leaveOneFoldOut, loadNabCorpus, pointAdjustedF1, PROFILES, probationLength, scaledSigmoid, scoreAtThreshold, scoreCorpus, sortCorpus, sweepThreshold,
  type NabCorpus,
} from '../bench/nab/index.ts';

const ROOT = new URL('./data/nab', import.meta.url).pathname;

/** Rows and windows counted from the files themselves, independently of the loader. */
function countOnDisk(): { files: number; rows: number; windows: number } {
  let files = 0;
  let rows = 0;
  for (const category of readdirSync(`${ROOT}/data`)) {
    for (const file of readdirSync(`${ROOT}/data/${category}`)) {
      files++;
      rows += readFileSync(`${ROOT}/data/${category}/${file}`, 'utf8').trim().split('\n').length - 1;
    }
  }
  const windows = Object.values(JSON.parse(readFileSync(`${ROOT}/combined_windows.json`, 'utf8')) as Record<string, unknown[]>).reduce((n, w) => n + w.length, 0);
  return { files, rows, windows };
}

describe('NAB scoring', () => {
  let corpus: NabCorpus;
  before(async () => {
    corpus = await loadNabCorpus(ROOT);
  });

  it('loads every file, row and window of the copy', () => {
    const disk = countOnDisk();
    assert.equal(disk.files, 4);
    assert.equal(corpus.files.length, disk.files);
    assert.equal(corpus.labelledWindows, disk.windows);
    assert.equal(corpus.files.reduce((n, f) => n + f.values.length, 0), disk.rows);
    assert.ok(corpus.files.every((f) => f.values.every(Number.isFinite) && f.timestamps.every(Number.isFinite)));
  });

  it('scaled sigmoid: ~+1 at a window start, 0 at its end, -1 far after it', () => {
    assert.ok(Math.abs(scaledSigmoid(-1) - 0.98661) < 1e-5);
    assert.ok(Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5);
    assert.equal(scaledSigmoid(0), 0);
    assert.ok(Math.abs(scaledSigmoid(1) + 0.98661) < 1e-5);
    assert.equal(scaledSigmoid(3.5), -1);
  });

  it('probation is the first min(floor(0.15 n), 750) rows', () => {
    assert.equal(probationLength(1000), 150);
    assert.equal(probationLength(4032), 604);
    assert.equal(probationLength(22695), 750);
  });

  it('a detector firing at every window start scores 100, one that never fires 0', () => {
    const perfect = corpus.files.map((f) => {
      const scores = new Float64Array(f.values.length);
      for (const [start] of f.windows) scores[f.timestamps.indexOf(start)] = 1;
      return { scores, labels: f.labels };
    });
    const silent = corpus.files.map((f) => ({ scores: new Float64Array(f.values.length), labels: f.labels }));
    const p = scoreCorpus(perfect, corpus.labelledWindows);
    const s = scoreCorpus(silent, corpus.labelledWindows);
    for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
      assert.ok(Math.abs(p[profile].normalised - 100) < 1e-9, `${profile}: perfect ${p[profile].normalised}`);
      assert.equal(p[profile].tp, corpus.labelledWindows);
      assert.equal(s[profile].normalised, 0);
    }
  });

  it('scores a hand-worked file: a late detection, a missed window and false positives', () => {
    // 100 rows (probation 15), windows [20..29] and [60..69]
    const ts = Array.from({ length: 100 }, (_, i) => i * 1000);
    const labels = labelRows(ts, [
      [20_000, 29_000],
      [60_000, 69_000],
    ]);
    const scores = new Float64Array(100);
    scores[5] = 0.9; // inside probation: ignored
    scores[25] = 0.8; // 6th row of window 0: worth sigmoid(-5/10) scaled to tp weight
    scores[31] = 0.8; // just after window 0: a cheap false positive
    scores[90] = 0.8; // far after window 1: a full false positive
    const sorted = sortCorpus([{ scores, labels }], 2);
    const r = sweepThreshold(sorted, PROFILES.standard);
    const tp = scaledSigmoid(-5 / 10) / scaledSigmoid(-1);
    const fpNear = 0.11 * scaledSigmoid(2 / 9);
    const fpFar = 0.11 * scaledSigmoid(21 / 9);
    const raw = tp + fpNear + fpFar - 1;
    assert.equal(r.threshold, 0.8);
    assert.ok(Math.abs(r.raw - raw) < 1e-12, `raw ${r.raw} vs ${raw}`);
    assert.ok(Math.abs(r.normalised - (100 * (raw + 2)) / 4) < 1e-9);
    assert.deepEqual([r.tp, r.fn, r.fp], [1, 1, 2]);
  });

  it('picks the best threshold of the exact sweep (a lower one that adds only FPs loses)', () => {
    const ts = Array.from({ length: 100 }, (_, i) => i * 1000);
    const labels = labelRows(ts, [[40_000, 49_000]]);
    const scores = new Float64Array(100);
    scores[40] = 0.5;
    for (let i = 60; i < 100; i += 3) scores[i] = 0.4;
    const r = sweepThreshold(sortCorpus([{ scores, labels }], 1), PROFILES.reward_low_FP_rate);
    assert.equal(r.threshold, 0.5);
    assert.equal(r.fp, 0);
  });

  it('scores at a fixed threshold as the sweep does at that threshold', () => {
    const ts = Array.from({ length: 100 }, (_, i) => i * 1000);
    const labels = labelRows(ts, [[40_000, 49_000]]);
    const scores = new Float64Array(100);
    scores[42] = 0.6;
    scores[70] = 0.8;
    scores[80] = 0.3;
    const sorted = sortCorpus([{ scores, labels }], 1);
    const best = sweepThreshold(sorted, PROFILES.standard);
    const at = scoreAtThreshold(sorted, PROFILES.standard, best.threshold);
    assert.equal(at.raw, best.raw);
    assert.deepEqual([at.tp, at.fp], [best.tp, best.fp]);
    // above every score: nothing fires, the null score
    assert.equal(scoreAtThreshold(sorted, PROFILES.standard, 0.9).normalised, 0);
    // 0.7 keeps only the false alarm at row 70: worth -0.11 * sigmoid of its distance
    const fp = scoreAtThreshold(sorted, PROFILES.standard, 0.7);
    assert.deepEqual([fp.tp, fp.fp], [0, 1]);
    assert.ok(Math.abs(fp.raw - (-1 + 0.11 * scaledSigmoid(21 / 9))) < 1e-12);
  });

  it('point-adjusted F1: a window is found whole by one alarm inside it; alarms outside are false positives', () => {
    // 100 rows (probation 15): windows [20..29] and [60..69]
    const ts = Array.from({ length: 100 }, (_, i) => i * 1000);
    const labels = labelRows(ts, [
      [20_000, 29_000],
      [60_000, 69_000],
    ]);
    const scores = new Float64Array(100);
    scores[5] = 1; // probation: not counted
    scores[25] = 0.9; // finds window 0: 10 true positives
    scores[90] = 0.8; // a false positive
    scores[65] = 0.5; // finds window 1, at a lower threshold
    for (let i = 80; i < 90; i++) scores[i] = 0.4; // ten false positives below it
    const r = pointAdjustedF1([{ scores, labels }]);
    // at 0.9: P 1, R 0.5, F1 2/3; at 0.8: P 10/11, R 0.5; at 0.5: P 20/21, R 1, F1 40/41
    assert.equal(r.threshold, 0.5);
    assert.ok(Math.abs(r.precision - 20 / 21) < 1e-12 && r.recall === 1);
    assert.ok(Math.abs(r.f1 - 40 / 41) < 1e-12);
    assert.equal(pointAdjustedF1([{ scores: new Float64Array(100), labels }]).threshold, 0); // everything alarms at 0
  });

  it('leave-one-fold-out picks the parameter set and threshold on the other folds, never the held-out one', () => {
    // the copy holds one file of each fold (the artificial fold: two)
    assert.deepEqual(
      FOLDS.map((f) => corpus.files.filter((x) => f.holds(x.name)).length),
      [2, 1, 1],
    );
    const perfect = corpus.files.map((f) => {
      const scores = new Float64Array(f.values.length);
      for (const [start] of f.windows) scores[f.timestamps.indexOf(start)] = 1;
      return { scores, labels: f.labels };
    });
    // 'noisy' fires on every row of the real files: on the artificial ones it is perfect
    const noisy = corpus.files.map((f, i) => ({ scores: f.name.startsWith('artificial') ? (perfect[i] as { scores: Float64Array }).scores : new Float64Array(f.values.length).fill(1), labels: f.labels }));
    const loco = leaveOneFoldOut(corpus, [
      { name: 'noisy', files: noisy },
      { name: 'perfect', files: perfect },
    ]);
    for (const f of loco.folds) {
      assert.equal(f.params, 'perfect', `${f.fold}: chose ${f.params}`);
      assert.ok(Math.abs(f.test - 100) < 1e-9, `${f.fold}: ${f.test}`);
    }
    // 'noisy' alone: on the real folds it never pays to fire, so held out, the artificial fold
    // gets no alarm at all (0) although 'noisy' is perfect there: its own sweep would say 100
    const alone = leaveOneFoldOut(corpus, [{ name: 'noisy', files: noisy }]);
    const art = alone.folds.find((f) => f.fold === 'artificial') as { test: number; threshold: number };
    assert.equal(art.threshold, Infinity);
    assert.equal(art.test, 0);
    // the diagnosis says so: at the fold's own best threshold the same scores would be perfect
    assert.ok(Math.abs((alone.folds.find((f) => f.fold === 'artificial') as { ownBest: number }).ownBest - 100) < 1e-9);
    const artOnly = corpus.files.map((f) => f.name.startsWith('artificial'));
    const own = sweepThreshold(sortCorpus(noisy.filter((_, i) => artOnly[i]), corpus.files.filter((_, i) => artOnly[i]).reduce((n, f) => n + f.windows.length, 0)), PROFILES.standard);
    assert.ok(Math.abs(own.normalised - 100) < 1e-9);
    assert.ok(Math.abs(alone.mean - alone.folds.reduce((s, f) => s + f.test, 0) / 3) < 1e-12);
  });
});
