// The Robust tier on synthetic series (a daily cycle of 5-minute samples, seeded Gaussian
// noise, one injected fault): it flags a spike, a level shift, a variance change and a broken
// seasonal pattern and stays quiet on clean seasonal noise; snapshot → restore continues with
// identical scores; a model that throws (or overruns its time budget) drops the tier to its
// statistical score (L1) and it keeps scoring; odd input behaves as documented.
import assert from 'node:assert/strict';
import { createRobust, createRobustDetector, restoreRobustDetector, ROBUST, TrainingQueue, type ModelRuntime, type RobustDetector } from '../actors/detection/robust/index.ts';
import { createDetector, innerDetector } from '../actors/detection/index.ts';
import { SURPRISE_PARAMS } from '../actors/detection/surprise.ts';
import { mulberry32, type AutoencoderTrainer, type AutoencoderWeights } from '../actors/detection/ml/index.ts';

const STEP = 300_000;
const DAY = 288;
const T0 = Date.UTC(2024, 0, 1);
/** first faulty sample: day 9 at the daily peak (phase 72), well past every warm-up */
const ONSET = 9 * DAY + 72;
const LENGTH = 12 * DAY;

type Fault = 'none' | 'spike' | 'shift' | 'variance' | 'pattern';

function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** 100 + 20 sin(day) + N(0, 1); spike: one sample +25; shift: +10 for good; variance: noise
 * ×8; pattern: the daily cycle stops (flat at its mean) for one day. */
function series(fault: Fault, seed: number): number[] {
  const random = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < LENGTH; i++) {
    const broken = fault === 'pattern' && i >= ONSET && i < ONSET + DAY;
    const season = broken ? 0 : 20 * Math.sin((2 * Math.PI * i) / DAY);
    let x = 100 + season + gauss(random) * (fault === 'variance' && i >= ONSET ? 8 : 1);
    if (fault === 'spike' && i === ONSET) x += 25;
    if (fault === 'shift' && i >= ONSET) x += 10;
    out.push(x);
  }
  return out;
}

function run(detector: RobustDetector, values: number[], from = 0, to = values.length): { scores: number[]; flagged: number[] } {
  const scores: number[] = [];
  const flagged: number[] = [];
  for (let i = from; i < to; i++) {
    scores.push(detector.update(T0 + i * STEP, values[i] as number));
    if (detector.anomalous) flagged.push(i);
  }
  return { scores, flagged };
}

/** A trainer with no tfjs: fixed small weights (the tfjs trainer is tested in detection-ml). */
const fixedTrainer: AutoencoderTrainer = {
  fit(_windows, width, seed): AutoencoderWeights {
    const random = mulberry32(seed);
    const hidden = 2;
    const w = (n: number): number[] => Array.from({ length: n }, () => (random() - 0.5) * 0.2);
    return { width, hidden, w1: w(width * hidden), b1: w(hidden), w2: w(hidden * width), b2: w(width) };
  },
};

describe('Robust detector: synthetic faults', () => {
  for (const seed of [1, 2, 3]) {
    it(`stays quiet on clean seasonal noise (seed ${seed})`, () => {
      const { scores, flagged } = run(createRobust(), series('none', seed));
      assert.deepEqual(flagged, []);
      for (const s of scores) assert.ok(s >= 0 && s <= 1, `score ${s} outside [0, 1]`);
      // the kernel's range novelty may fire once on a new record of the whole range (Agile's
      // behaviour, by design), never as a train of alarms
      const high = scores.slice(3 * DAY).filter((s) => s >= ROBUST.threshold);
      assert.ok(high.length <= 1, `clean noise scored ${high.length} times above the threshold`);
    });
  }

  const faults: Array<[Fault, number]> = [
    ['spike', 1],
    ['shift', 12],
    ['variance', 24],
    ['pattern', 24],
  ];
  for (const [fault, within] of faults) {
    for (const seed of [1, 2, 3]) {
      it(`flags a ${fault} within ${within} samples and nothing before it (seed ${seed})`, () => {
        const values = series(fault, seed);
        const { flagged } = run(createRobust(), values);
        assert.deepEqual(
          flagged.filter((i) => i < ONSET),
          [],
          'false alarm before the fault',
        );
        const first = flagged.find((i) => i >= ONSET);
        assert.ok(first !== undefined && first < ONSET + within, `first flag at ${String(first)}, onset ${ONSET}`);
      });
    }
  }

  it('one incident gives one alarm, not a burst (refractory); the decision marks the episode until it is absorbed', () => {
    const { scores, flagged } = run(createRobust(), series('shift', 4));
    const span = SURPRISE_PARAMS.refractory.spanMs / STEP; // the shared refractory span (surprise.ts), in samples
    const alarms = scores.map((s, i) => [s, i] as const).filter(([s, i]) => s >= ROBUST.threshold && i >= ONSET && i < ONSET + span);
    assert.ok(alarms.length >= 1 && alarms.length <= 2, `alarms in the episode: ${alarms.map(([, i]) => i).join(',')}`);
    const during = flagged.filter((i) => i >= ONSET);
    assert.ok(during.length >= 1 && during.every((i) => i < ONSET + 12), `flags after the shift: ${during.join(',')}`);
  });

  it('honours the direction: an upward spike is not a "down" anomaly', () => {
    const values = series('spike', 5);
    const up = run(createRobust({ direction: 'up' }), values).flagged;
    const down = run(createRobust({ direction: 'down' }), values).flagged;
    assert.ok(up.includes(ONSET));
    assert.ok(!down.includes(ONSET));
  });

  it('honours the bound: a huge deviations bound silences the decision, not the score', () => {
    const values = series('spike', 6);
    const d = createRobust({ deviations: 1e6 });
    const { scores, flagged } = run(d, values);
    assert.deepEqual(flagged, []);
    assert.ok((scores[ONSET] as number) >= ROBUST.threshold);
  });

  it('reports the seasonal expectation', () => {
    const values = series('none', 7);
    const d = createRobust();
    run(d, values, 0, 5 * DAY);
    d.update(T0 + 5 * DAY * STEP + 72 * STEP, 120);
    assert.ok(Math.abs(d.expected - 120) < 2, `expected ${d.expected} at the daily peak`);
  });
});

describe('Robust detector: snapshot and restore', () => {
  it('continues with identical scores after a JSON round trip (statistical path)', () => {
    const values = series('shift', 8);
    const a = createRobust();
    run(a, values, 0, 2000);
    const b = innerDetector(restoreRobustDetector(JSON.parse(JSON.stringify(a.snapshot())))) as RobustDetector;
    const ra = run(a, values, 2000);
    const rb = run(b, values, 2000);
    assert.deepEqual(rb.scores, ra.scores);
    assert.deepEqual(rb.flagged, ra.flagged);
    assert.ok(ra.flagged.length > 0, 'the continuation contains the fault');
    assert.deepEqual(b.snapshot(), a.snapshot());
  });

  it('continues with identical scores with a trained model (weights travel in the snapshot)', () => {
    const runtime: ModelRuntime = { trainer: fixedTrainer };
    const values = series('variance', 9);
    const a = createRobust({}, { runtime });
    run(a, values, 0, 2700);
    assert.equal(a.degradation, 'L0');
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as ReturnType<RobustDetector['snapshot']>;
    assert.ok(snap.model.weights !== null);
    const b = innerDetector(restoreRobustDetector(snap, { runtime })) as RobustDetector;
    assert.equal(b.degradation, 'L0');
    assert.deepEqual(run(b, values, 2700).scores, run(a, values, 2700).scores);
  });

  it('refuses a snapshot of another tier or version', () => {
    assert.throws(() => restoreRobustDetector({ tier: 'basic', version: 1 }), RangeError);
    assert.throws(() => restoreRobustDetector({ tier: 'robust', version: 1 }), RangeError);
  });
});

describe('Robust detector: built on the Agile kernel', () => {
  it('without a model (L1) its scores, decisions and expectations are exactly Agile\'s (no alarm here recurs at the time of day: recurrence.ts)', () => {
    for (const fault of ['spike', 'shift', 'pattern'] as const) {
      const values = series(fault, 13);
      const robust = createRobust({}, { runtime: {} });
      const agile = createDetector('agile');
      for (let i = 0; i < values.length; i++) {
        const t = T0 + i * STEP;
        assert.equal(robust.update(t, values[i] as number), agile.update(t, values[i] as number), `${fault} score at ${i}`);
        assert.equal(robust.anomalous, agile.anomalous);
        assert.equal(robust.expected, agile.expected);
      }
    }
  });

  it('a model that finds every window familiar damps the statistical score by the familiarity factor', () => {
    // a constant reconstruction error is always ordinary under its own history (surprise < familiar)
    const runtime: ModelRuntime = { trainer: fixedTrainer, build: () => ({ error: () => 0.1 }) };
    const values = series('spike', 14);
    const familiar = run(createRobust({}, { runtime }), values).scores;
    const plain = run(createRobust({}, { runtime: {} }), values).scores;
    assert.ok((plain[ONSET] as number) > 0.9, `spike scored ${plain[ONSET]} without the model`);
    assert.ok(Math.abs((familiar[ONSET] as number) - ROBUST.familiarDamping * (plain[ONSET] as number)) < 1e-12, `spike scored ${familiar[ONSET]}`);
    // before the first training (sample 512) there is no model: identical scores
    assert.deepEqual(familiar.slice(0, ROBUST.modelFirstTrain - 1), plain.slice(0, ROBUST.modelFirstTrain - 1));
  });
});

describe('Robust detector: alarms that recur at the time of day', () => {
  /** the seasonal series plus a nightly job: +25 for one sample at about 03:00 (jitter of up to
   * ±20 minutes, as a cron job's run time wanders) every night */
  function nightly(seed: number): { values: number[]; job: number[] } {
    const values = series('none', seed);
    const random = mulberry32(seed + 100);
    const job: number[] = [];
    for (let day = 0; day * DAY < LENGTH; day++) {
      const at = day * DAY + 36 + Math.round((random() - 0.5) * 8);
      if (at < LENGTH) {
        values[at] = (values[at] as number) + 25;
        job.push(at);
      }
    }
    return { values, job };
  }

  for (const seed of [1, 2, 3]) {
    it(`a nightly job alarms on its first nights only, where Agile alarms every night (seed ${seed})`, () => {
      const { values, job } = nightly(seed);
      const robust = run(createRobust({}, { runtime: {} }), values).scores;
      const agile = createDetector('agile');
      const plain = values.map((v, i) => agile.update(T0 + i * STEP, v));
      const late = job.filter((at) => at > 4 * DAY);
      const agileAlarms = late.filter((at) => (plain[at] as number) >= 0.7).length;
      const robustAlarms = late.filter((at) => (robust[at] as number) >= 0.7).length;
      assert.ok(agileAlarms >= late.length / 2, `Agile alarmed on ${agileAlarms} of ${late.length} late nights`);
      assert.equal(robustAlarms, 0, `Robust alarmed on ${robustAlarms} of ${late.length} late nights`);
    });
  }

  for (const seed of [1, 2, 3]) {
    it(`a late night's whole episode stays under the threshold, its echo included (seed ${seed})`, () => {
      // after the job's sample the likelihood's short-term average stays high for a few samples
      // whose own errors are small: they must be damped with the job, not alarm in its place
      const { values, job } = nightly(seed);
      const robust = run(createRobust({}, { runtime: {} }), values).scores;
      const agile = createDetector('agile');
      const plain = values.map((v, i) => agile.update(T0 + i * STEP, v));
      const late = job.filter((at) => at > 4 * DAY && at + 12 < LENGTH);
      const hour = (at: number, s: number[]): number => Math.max(...s.slice(at, at + 12));
      assert.ok(late.filter((at) => hour(at, plain) >= 0.7).length >= late.length / 2, 'Agile alarms in most late nights');
      const loud = late.filter((at) => hour(at, robust) >= 0.7);
      assert.deepEqual(loud, [], `Robust alarmed within the hour after the job on nights ${loud.map((at) => Math.floor(at / DAY)).join(', ')}`);
    });
  }

  it('a one-off spike is not familiar: scored as Agile scores it', () => {
    const values = series('spike', 15);
    const robust = run(createRobust({}, { runtime: {} }), values).scores;
    const agile = createDetector('agile');
    const plain = values.map((v, i) => agile.update(T0 + i * STEP, v));
    assert.ok((plain[ONSET] as number) > 0.9);
    assert.equal(robust[ONSET], plain[ONSET]);
  });

  it('the memory travels in the snapshot: a restored detector damps the next night too', () => {
    const { values } = nightly(4);
    const whole = run(createRobust({}, { runtime: {} }), values).scores;
    const first = createRobust({}, { runtime: {} });
    const cut = 7 * DAY;
    run(first, values, 0, cut);
    const restored = restoreRobustDetector(JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<RobustDetector['snapshot']>, { runtime: {} }) as RobustDetector;
    assert.deepEqual(run(innerDetector(restored) as RobustDetector, values, cut).scores, whole.slice(cut));
  });

  it('a restore cut inside a damped episode continues exactly (version 6 carries it), and a version-5 snapshot still restores', () => {
    const { values, job } = nightly(5);
    const whole = run(createRobust({}, { runtime: {} }), values).scores;
    const cut = (job.find((at) => at > 5 * DAY) as number) + 1;
    const first = createRobust({}, { runtime: {} });
    run(first, values, 0, cut);
    const snap = JSON.parse(JSON.stringify(first.snapshot())) as ReturnType<RobustDetector['snapshot']>;
    assert.equal(snap.version, 6);
    const restored = innerDetector(restoreRobustDetector(snap, { runtime: {} })) as RobustDetector;
    assert.deepEqual(run(restored, values, cut).scores, whole.slice(cut));
    const { recurring: _, ...older } = snap;
    const v5 = innerDetector(restoreRobustDetector({ ...older, version: 5 }, { runtime: {} })) as RobustDetector;
    assert.equal(v5.snapshot().version, 6);
    assert.equal(run(v5, values, cut).scores.length, values.length - cut);
  });
});

describe('Robust detector: guarded model (L0 / L1)', () => {
  it('runs statistically (L1) with no trainer, and on the model (L0) once trained', () => {
    const plain = createRobust({}, { runtime: {} });
    run(plain, series('none', 10), 0, 1000);
    assert.equal(plain.degradation, 'L1');
    const learnt = createRobust({}, { runtime: { trainer: fixedTrainer } });
    run(learnt, series('none', 10), 0, 1000);
    assert.equal(learnt.degradation, 'L0');
    assert.equal(learnt.modelHealth.trainings, 1);
  });

  it('a model that throws drops to L1, keeps scoring and detecting, and is retried after the cooldown', () => {
    let calls = 0;
    const runtime: ModelRuntime = {
      trainer: fixedTrainer,
      build: () => ({
        error: () => {
          calls++;
          throw new Error('model exploded');
        },
      }),
    };
    const values = series('spike', 11);
    const d = createRobust({}, { runtime });
    const { scores, flagged } = run(d, values);
    assert.ok(calls >= 2, 'the model was retried after its cooldown');
    assert.equal(d.modelHealth.inferenceFailures, calls);
    assert.equal(d.degradation, 'L1');
    for (const s of scores) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1);
    assert.ok(flagged.includes(ONSET), 'the statistical score still flags the spike');
    // the L1 scores are exactly the scores of a detector that never had a model
    const plain = run(createRobust({}, { runtime: {} }), values);
    assert.deepEqual(scores, plain.scores);
  });

  it('a model answering NaN counts as failed', () => {
    const runtime: ModelRuntime = { trainer: fixedTrainer, build: () => ({ error: () => NaN }) };
    const d = createRobust({}, { runtime });
    run(d, series('none', 12), 0, 1200);
    assert.ok(d.modelHealth.inferenceFailures >= 1);
    assert.equal(d.degradation, 'L1');
  });

  it('a model slower than its time budget opens the ml_inference breaker after 5 slow blocks (L1), and probes close it', () => {
    let now = 0;
    const clock = (): number => now;
    const runtime: ModelRuntime = {
      trainer: fixedTrainer,
      build: () => ({
        error: () => {
          now += 1; // 1 ms per call: far over the budget
          return 0.1;
        },
      }),
    };
    const d = createRobust({}, { runtime, clock });
    const values = series('none', 13);
    // the first model call is at sample 512; one guarded call per block of 256 model calls
    const fifth = ROBUST.modelFirstTrain - 1 + 5 * ROBUST.modelTimingEvery;
    run(d, values, 0, fifth - 1);
    assert.equal(d.modelHealth.overruns, 4);
    assert.equal(d.modelHealth.breaker, 'closed', 'four slow blocks are not enough (DESIGN.md: 5)');
    assert.equal(d.degradation, 'L0');
    run(d, values, fifth - 1, fifth);
    assert.equal(d.modelHealth.overruns, 5);
    assert.equal(d.modelHealth.breaker, 'open');
    assert.equal(d.degradation, 'L1');
    // alone, the breaker's time is the sample count (one sample a second): open for 30 samples
    run(d, values, fifth, fifth + 25);
    assert.equal(d.modelHealth.breaker, 'open');
    // then two short probe blocks, judged on answers, close it
    const probed = fifth + 31 + 2 * ROBUST.modelProbeCalls;
    run(d, values, fifth + 25, probed);
    assert.equal(d.modelHealth.breaker, 'closed');
    assert.equal(d.degradation, 'L0');
    run(d, values, probed, probed + 5 * ROBUST.modelTimingEvery);
    assert.equal(d.modelHealth.overruns, 10, 'still slow: five more slow blocks');
    assert.equal(d.degradation, 'L1');
  });

  it('a fast model on a slow stream is within budget: only the time inside model calls counts, not the time between samples', () => {
    let now = 0;
    const clock = (): number => now;
    const runtime: ModelRuntime = { trainer: fixedTrainer, build: () => ({ error: () => 0.1 }) };
    const d = createRobust({}, { runtime, clock });
    const values = series('none', 13);
    for (let i = 0; i < ROBUST.modelFirstTrain + 6 * ROBUST.modelTimingEvery; i++) {
      d.update(T0 + i * STEP, values[i % values.length] as number);
      now += 10_000; // a sample every 10 s, as a node sees a live series
    }
    assert.equal(d.modelHealth.overruns, 0);
    assert.equal(d.modelHealth.breaker, 'closed');
    assert.equal(d.degradation, 'L0');
  });

  it('queued training runs off the hot path: nothing trains until the host drains the queue', () => {
    const queue = new TrainingQueue(fixedTrainer);
    const runtime: ModelRuntime = { trainer: fixedTrainer, queue };
    const values = series('none', 18);
    const detectors = [createRobust({}, { runtime }), createRobust({}, { runtime })];
    for (const d of detectors) run(d, values, 0, ROBUST.modelFirstTrain + 10);
    assert.equal(queue.pending, 2);
    assert.ok(detectors.every((d) => d.degradation === 'L1'));
    assert.equal(queue.drain(), 2);
    assert.equal(queue.pending, 0);
    assert.ok(detectors.every((d) => d.degradation === 'L0'));
    // the same weights as inline training with the same seed
    const inline = createRobust({}, { runtime: { trainer: fixedTrainer } });
    run(inline, values, 0, ROBUST.modelFirstTrain + 10);
    assert.deepEqual(detectors[0]?.snapshot().model.weights, inline.snapshot().model.weights);
  });

  it('a trainer that throws leaves the tier statistical and counted', () => {
    const runtime: ModelRuntime = {
      trainer: {
        fit: () => {
          throw new Error('no backend');
        },
      },
    };
    const d = createRobust({}, { runtime });
    const { scores } = run(d, series('none', 14), 0, 1500);
    assert.equal(d.modelHealth.trainFailures, 1);
    assert.equal(d.degradation, 'L1');
    assert.ok(scores.every((s) => s >= 0 && s <= 1));
  });
});

describe('Robust detector: odd input', () => {
  it('NaN and ±Infinity score 0, decide nothing and change no state', () => {
    const values = series('none', 15);
    const d = createRobust();
    run(d, values, 0, 1000);
    const before = JSON.stringify(d.snapshot());
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.equal(d.update(T0 + 1000 * STEP, bad), 0);
      assert.equal(d.anomalous, false);
    }
    assert.equal(JSON.stringify(d.snapshot()), before);
  });

  it('repeated, backward and missing timestamps keep scores finite and in range', () => {
    const values = series('none', 16);
    const d = createRobust();
    const stamps = values.map((_, i) => T0 + i * STEP);
    stamps[500] = stamps[499] as number; // repeated
    stamps[800] = (stamps[799] as number) - 3600_000; // an hour backwards (DST)
    stamps[900] = NaN; // missing
    const scores = values.map((v, i) => d.update(stamps[i] as number, v));
    assert.ok(scores.every((s) => Number.isFinite(s) && s >= 0 && s <= 1));
  });

  it('a gap keeps the daily cycle aligned (no alarm when the series resumes on pattern)', () => {
    const values = series('none', 17);
    const d = createRobust();
    const flagged: number[] = [];
    for (let i = 0; i < values.length; i++) {
      if (i >= 5 * DAY && i < 5 * DAY + 100) continue; // ~8 hours missing
      d.update(T0 + i * STEP, values[i] as number);
      if (d.anomalous) flagged.push(i);
    }
    assert.deepEqual(flagged, []);
  });

  it('a flat series, then a step: the step is flagged', () => {
    const d = createRobust();
    const flagged: number[] = [];
    for (let i = 0; i < 2000; i++) {
      d.update(T0 + i * STEP, i < 1500 ? 5 : 6);
      if (d.anomalous) flagged.push(i);
    }
    assert.equal(flagged[0], 1500);
  });

  it('the face is the agreed Detector', () => {
    const d = createRobustDetector();
    assert.equal(d.tier, 'robust');
    assert.equal(typeof d.update(T0, 1), 'number');
    assert.equal(d.snapshot().tier, 'robust');
  });
});
