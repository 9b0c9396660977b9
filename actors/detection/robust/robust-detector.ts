// The Robust tier, built on the best statistical kernel the project has rather than a
// parallel one: Agile's robust seasonal predictor and scoring chain (agile.ts: period found
// automatically, Huber-clipped level and season so a long anomaly barely moves the baseline,
// calibrated likelihood, range novelty) gives the statistical score; the learnt residual model
// (tfjs-trained autoencoder over windows of the kernel's standardised errors) says how
// familiar the current shape of errors is, and a familiar shape damps that score (the model
// lifting scores was measured to add only false alarms). One shared refractory follows, so
// one episode gives one alarm. Alarms that recur at the time of day
// (a nightly job, recurrence.ts) are damped with or without the model; otherwise, without a
// healthy model (L1), the scores are exactly Agile's. See README.md.
import { AGILE_PARAMS, AgileDetector, type AgileParams } from '../agile.ts';
import type { Detector, DetectorSnapshot, Sensitivity } from '../detector.ts';
import { Refractory } from '../refractory.ts';
import { resolveSensitivity, sided, type ResolvedSensitivity } from '../sensitivity.ts';
import type { Breaker } from '../../../supervisors/index.ts';
import type { Degradation } from './inference-guard.ts';
import { ROBUST } from './params.ts';
import { ModelChannel, type ModelChannelState } from './residual-model-channel.ts';
import type { ModelRuntime } from './residual-model.ts';
import { robustRuntime } from './runtime.ts';
import { RecurrenceMemory } from './recurrence.ts';

export interface RobustOptions {
  /** model runtime (trainer, model builder); default: the process runtime (configureRobust) */
  runtime?: ModelRuntime;
  /** the host's clock (ms) for the inference time budget; without one the budget is not enforced */
  clock?: () => number;
  /** the host's ml_inference breaker (a node's, shared by its Robust detectors); absent: the
   * detector's own, on data time (inference-guard.ts) */
  modelBreaker?: Breaker;
  /** whether the host's degradation level lets the model run (read per model call); absent: always */
  modelAllowed?: () => boolean;
  /** the statistical kernel's parameters (default AGILE_PARAMS; benches sweep them) */
  kernel?: AgileParams;
}

export interface RobustSnapshot extends DetectorSnapshot {
  tier: 'robust';
  version: 3 | 4 | 5 | 6;
  sensitivity: ResolvedSensitivity;
  n: number;
  /** the statistical kernel's own snapshot (Agile's format) */
  kernel: DetectorSnapshot;
  /** samples left in a counted refractory span (unreadable timestamps) */
  refractory: number;
  /** data time (ms) until which the shared refractory damps (0: none); absent before version 4 */
  refractoryUntil?: number;
  model: ModelChannelState;
  /** the recurrence memory (recurrence.ts); absent before version 5 (starts empty) */
  recurrence?: number[];
  /** inside a recurring alarm's episode; absent before version 6 (false) */
  recurring?: boolean;
}

/** 6: whether the sample is inside a recurring alarm's episode (`recurring`). 5: the recurrence memory (`recurrence`). 4: the refractory span is data time
 * (`refractoryUntil`). Versions 3 to 5 still restore. */
const VERSION = 6;

export class RobustDetector implements Detector {
  readonly tier = 'robust' as const;
  anomalous = false;
  expected = NaN;
  rawScore = 0;
  /** samples learnt from (finite values only) */
  n = 0;
  /** After update(): the learnt model's surprise (decades, −log10 p under its own error
   * history) for this sample; NaN while the tier runs without a model (L1) */
  modelSurprise = NaN;
  private kernel: AgileDetector;
  private readonly refractory: Refractory;
  private readonly model: ModelChannel;
  private readonly recurrence = new RecurrenceMemory(ROBUST.recurrence);
  /** inside a recurring alarm's episode (its echo included): damped */
  private recurring = false;

  constructor(
    readonly sensitivity: ResolvedSensitivity,
    options: RobustOptions = {},
  ) {
    const kernel = options.kernel ?? AGILE_PARAMS;
    this.kernel = new AgileDetector(sensitivity, kernel);
    this.refractory = new Refractory(kernel.surprise.refractory);
    this.model = new ModelChannel(options.runtime ?? robustRuntime(), {
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.modelBreaker ? { breaker: options.modelBreaker } : {}),
      ...(options.modelAllowed ? { allowed: options.modelAllowed } : {}),
    });
  }

  /** After update(): the kernel's score came from the series going quiet (agile.ts). */
  get fromNoise(): boolean {
    return this.kernel.fromNoise;
  }

  /** After update(): the kernel's score came from a slow drift of its level (drift.ts). */
  get fromDrift(): boolean {
    return this.kernel.fromDrift;
  }

  /** L0 while the learnt model scores, L1 while the tier runs on statistics alone. */
  get degradation(): Degradation {
    return this.model.degradation();
  }

  /** Model health counters (for metrics and tests). */
  get modelHealth(): { trainings: number; trainFailures: number; inferenceFailures: number; overruns: number; breaker: string } {
    const g = this.model.guard;
    return { trainings: this.model.trainings, trainFailures: this.model.trainFailures, inferenceFailures: g.failures, overruns: g.overruns, breaker: g.breakerState };
  }

  update(timestamp: number, value: number): number {
    // NaN / ±Infinity carry no information: score 0, nothing learnt, no decision, and the
    // kernel is not even told (its state, grid position included, stays as it was)
    if (!Number.isFinite(value)) {
      this.anomalous = false;
      this.rawScore = 0;
      this.modelSurprise = NaN;
      return 0;
    }
    const kernel = this.kernel;
    kernel.update(timestamp, value);
    this.expected = kernel.expected;
    const n = ++this.n;
    const z = kernel.deviation;
    let raw = kernel.rawScore;
    const learnt = this.model.surprise(z, n);
    this.modelSurprise = learnt ?? NaN;
    // the learnt channel as evidence of familiarity: when the window of errors around an
    // alarm is a shape the model reconstructs well (its own surprise below ROBUST.familiar,
    // p > 1e-3 under its error history), the pattern has happened before and is less news,
    // so the statistical score is damped. Measured on NAB, the opposite use (the model's
    // surprise lifting the score) only added false alarms: a per-phase baseline with a
    // calibrated likelihood already sees the broken shapes it could add.
    // only once the model's own tail has learnt over its memory (ROBUST.familiarAfter): before
    // that its p-values are not calibrated, and damping on them cost 2.7 points held out on
    // realAWSCloudwatch (the threshold chosen on the other folds no longer fitted)
    if (n >= ROBUST.familiarAfter && learnt !== undefined && learnt < ROBUST.familiar) raw *= ROBUST.familiarDamping;
    // an anomalous sample that had an anomalous counterpart at about the same time on one of
    // the two days before is a scheduled event (a nightly job), not news (recurrence.ts)
    // The damping lasts the episode's echo: after a spike the kernel's likelihood (an average
    // over ~5 samples) stays high for a few samples whose errors are small, so they are not
    // anomalous and the memory does not judge them; undamped they alarmed in the spike's place
    // (ec2_cpu_utilization_c6585a: its nightly false alarms). It ends when the
    // kernel's score falls under half the threshold or the kernel finds an alarm that does
    // not recur.
    if (this.recurrence.recurs(kernel.anomalous, timestamp)) this.recurring = true;
    else if (kernel.anomalous || !(kernel.rawScore >= this.sensitivity.threshold / 2)) this.recurring = false;
    if (this.recurring) raw *= ROBUST.recurrenceDamping;
    const s = this.sensitivity;
    this.rawScore = raw;
    this.anomalous = raw >= s.threshold && (sided(z, s.direction) >= s.deviations || kernel.fromNoise || kernel.fromDrift);
    return this.refractory.apply(raw, timestamp);
  }

  snapshot(): RobustSnapshot {
    return {
      tier: 'robust',
      version: VERSION,
      sensitivity: this.sensitivity,
      n: this.n,
      kernel: this.kernel.snapshot(),
      refractory: this.refractory.left,
      refractoryUntil: this.refractory.state()[1],
      model: this.model.state(),
      recurrence: this.recurrence.state(),
      recurring: this.recurring,
    };
  }

  static restore(snapshot: DetectorSnapshot, options: RobustOptions = {}): RobustDetector {
    if (snapshot.tier !== 'robust' || (snapshot.version !== VERSION && snapshot.version !== 5 && snapshot.version !== 4 && snapshot.version !== 3)) throw new RangeError(`robust: cannot restore snapshot version ${String(snapshot.version)}`);
    const s = snapshot as RobustSnapshot;
    const d = new RobustDetector(resolveSensitivity(s.sensitivity, ROBUST.deviations), options);
    d.n = s.n;
    d.kernel = AgileDetector.restore(s.kernel);
    d.refractory.restore(s.refractory, s.refractoryUntil ?? 0);
    d.model.restore(s.model);
    d.recurrence.restore(s.recurrence);
    d.recurring = s.recurring === true;
    return d;
  }
}

export function createRobust(sensitivity?: Sensitivity, options?: RobustOptions): RobustDetector {
  const withDefault = { ...sensitivity, threshold: sensitivity?.threshold ?? ROBUST.threshold };
  return new RobustDetector(resolveSensitivity(withDefault, ROBUST.deviations), options);
}
