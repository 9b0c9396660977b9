// The NAB scorer on the real dev split: its fixed points (a perfect detector scores 100,
// one that never fires 0), the sigmoid, and a hand-worked file.
import assert from 'node:assert/strict';
import { labelRows, loadNabCorpus, PROFILES, probationLength, scaledSigmoid, scoreCorpus, sortCorpus, sweepThreshold, type NabCorpus } from '../bench/nab/index.ts';

const ROOT = new URL('../../shared/data/nab', import.meta.url).pathname;

describe('NAB scoring', () => {
  let corpus: NabCorpus;
  before(async () => {
    corpus = await loadNabCorpus(ROOT);
  });

  it('loads the 35-file dev split with its 55 windows', () => {
    assert.equal(corpus.files.length, 35);
    assert.equal(corpus.labelledWindows, 55);
    assert.equal(corpus.files.reduce((n, f) => n + f.values.length, 0), 181653);
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
      assert.equal(p[profile].tp, 55);
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
});
