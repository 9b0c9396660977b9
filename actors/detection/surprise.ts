// The scoring chain every statistical tier shares: a sided deviation (in robust spreads)
// and the raw value in, a calibrated score in [0, 1] out.
//   likelihood  tail probability of the short-term deviation vs the series' own history
//   novelty     a value beyond the whole known range is at least `novelty.decades` rare,
//               more the farther beyond it lies
//   noise       a series gone quiet (variance-change.ts)
//   drift       the level moved over a day far more than it does (drift.ts)
//   refractory  one alarm per episode (a span of data time)
import { decadesOfLogTail, scoreFromDecades } from './calibration.ts';
import { Drift, type DriftParams } from './drift.ts';
import { LIKELIHOOD_SLOTS, updateLikelihood, type LikelihoodParams } from './likelihood.ts';
import { initRange, RANGE_SLOTS, rangeExcess, rangeState, rangeWidth, restoreRange } from './range-novelty.ts';
import { applyRefractory, initRefractory, REFRACTORY_SLOTS, refractoryState, restoreRefractory, type RefractoryParams } from './refractory.ts';
import type { Side } from './sensitivity.ts';
import { doubleSlots } from './slots.ts';
import { advanceTime, initTimeStep, lookElsewhereOf, restoreTimeStep, stepOf, TIME_SLOTS, timeStepState } from './time-step.ts';
import { initVariance, restoreVariance, updateVariance, VARIANCE_SLOTS, varianceState, type VarianceParams } from './variance-change.ts';

export interface SurpriseParams {
  likelihood: LikelihoodParams;
  /** deviations are capped here before averaging, so one huge spike cannot blind the
   * long-term statistics for weeks */
  cap: number;
  refractory: RefractoryParams;
  /** range novelty: margin (fraction of range), surprise of a new extreme at the edge of
   * the range (decades; each range beyond it adds as many again), warm-up samples, and the
   * least deviation from the model's expectation, in spreads: a new extreme the model
   * expects (it has caught up with a new level) is not news */
  novelty: { tolerance: number; decades: number; warmup: number; minDeviation: number };
  /** a drop of the series' noise (variance-change.ts); null: not scored */
  noise: VarianceParams | null;
  /** a slow drift of the tier's level (drift.ts); null: not scored */
  drift: DriftParams | null;
}

export const HOUR_MS = 3_600_000;

export const SURPRISE_PARAMS: SurpriseParams = {
  likelihood: { shortAlpha: 0.2, longAlpha: 0.0003, warmup: 50, sdFloor: 0.05 },
  cap: 20,
  // 16 h: what 200 five-minute samples span, the span tuned before spans were time
  refractory: { level: 0.7, spanMs: 16 * HOUR_MS, spanSamples: 200, damping: 0.5 },
  novelty: { tolerance: 0.01, decades: 10, warmup: 1000, minDeviation: 1 },
  // the noise of the last hour (an operator's "has it gone flat?"; at least 12 differences),
  // against the likelihood's long memory (5-minute samples at its weight 0.0003: ~11.6
  // days), trusted after a day of data (a daily cycle's quiet hours are then known)
  noise: { spanMs: HOUR_MS, minSamples: 12, longSpanMs: 300_000 / 0.0003, warmupMs: 24 * HOUR_MS, sdFloor: 0.05, maxSteps: 2.5 },
  // off unless a series asks for it (sensitivity.drift; drift.ts says why)
  drift: null,
};

/** The drift channel a series with `sensitivity.drift` gets: a day's move of the level (a
 * daily cycle cancels), against the likelihood's long memory, trusted after a week of it
 * (which holds a weekend: with three days, weekly traffic alarmed on its second Saturday
 * before Agile had found its week). Its
 * sd is at least what white noise alone gives the day's move of a level learnt at Agile's
 * 0.05: sqrt(2 · 0.05 / 1.95) σ, with σ = 1.25 spreads, is 0.28 spreads (0.05, the other
 * channels' floor, let a clean synthetic sine alarm on a day's move of 0.3 spreads). */
export const DRIFT_PARAMS: DriftParams = { spanMs: 24 * HOUR_MS, longSpanMs: 300_000 / 0.0003, warmupHours: 168, sdFloor: 0.3, clip: 4 };

/** The chain's parameters for a series: the drift channel as its sensitivity asks. */
export function surpriseFor(params: SurpriseParams, drift: boolean): SurpriseParams {
  if (drift) return params.drift !== null ? params : { ...params, drift: DRIFT_PARAMS };
  return params.drift === null ? params : { ...params, drift: null };
}

// the chain's slots (slots.ts): its own, then each part's
const QUIET_UNTIL = 0; // data time until which new extremes are not news (an anomalous episode's span)
const RAW = 1; // the last score before refractory damping
const LIKELIHOOD = 2;
const RANGE = LIKELIHOOD + LIKELIHOOD_SLOTS;
const REFRACTORY = RANGE + RANGE_SLOTS;
const TIME = REFRACTORY + REFRACTORY_SLOTS;
const NOISE = TIME + TIME_SLOTS;
/** the slots the chain takes, at the start of its array */
export const SURPRISE_SLOTS = NOISE + VARIANCE_SLOTS;

export class Surprise {
  /** the first timestamps, until the sampling step is learnt from them (time-step.ts) */
  private stamps: number[] = [];
  /** whether the tier scores noise drops (`params.noise` not null) */
  private readonly noise: boolean;
  /** null when the tier scores no drift (`params.drift` null) */
  private readonly drift: Drift | null;
  /** the last score came from the series going quiet (its noise fell), not from a deviation:
   * such a sample is anomalous without passing the deviation bound */
  fromNoise = false;
  /** the last score came from a slow drift of the level, not from a deviation: anomalous
   * without passing the deviation bound, as a series gone quiet is */
  fromDrift = false;

  constructor(
    readonly params: SurpriseParams = SURPRISE_PARAMS,
    /** every number of the chain but the drift channel's, in its first SURPRISE_SLOTS; a
     * tier may hand it its own array, with its own slots after those (slots.ts) */
    private readonly s: number[] = doubleSlots(SURPRISE_SLOTS),
  ) {
    s[QUIET_UNTIL] = -Infinity;
    initRange(s, RANGE);
    initRefractory(s, REFRACTORY);
    initTimeStep(s, TIME);
    initVariance(s, NOISE);
    this.noise = params.noise !== null;
    this.drift = params.drift ? new Drift(params.drift) : null;
  }

  /** the last score before refractory damping: the decision uses it, so every anomalous
   * sample of an episode is marked even though only the first one scores high */
  get raw(): number {
    return this.s[RAW] as number;
  }

  /** Scores one finite sample: `deviation` >= 0 from the tier's model (already sided),
   * `value` the value range novelty judges, `side` the direction that counts, `timestamp`
   * its data time, `sample` the sample itself (whose noise is judged; default `value`),
   * `level` and `spread` the tier's level and spread before the sample is learnt (whose
   * drift is judged; NaN: none). */
  score(deviation: number, value: number, side: Side, timestamp: number, sample = value, level = NaN, spread = NaN): number {
    const s = this.s;
    const p = this.params;
    const d = deviation < p.cap ? deviation : p.cap;
    const steps = advanceTime(s, TIME, this.stamps, timestamp);
    const lookElsewhere = lookElsewhereOf(s, TIME);
    // per unit of time, not per sample: a series sampled every 10 s makes 30 tests in the
    // time a 5-minute series makes one, so each of its samples must be 30 times rarer to
    // mean the same (the same false alarms per day, whatever the sampling)
    let decades = decadesOfLogTail(updateLikelihood(s, LIKELIHOOD, p.likelihood, d, steps)) - lookElsewhere;
    if (decades < 0) decades = 0;
    const range = rangeWidth(s, RANGE);
    const excess = rangeExcess(s, RANGE, p.novelty, value, side);
    // within an anomalous episode's span the new level's own records are not news: a
    // sustained fault (or a shift) sets a new extreme at every swing of its noise
    if (excess > 0 && deviation >= p.novelty.minDeviation && !(timestamp < (s[QUIET_UNTIL] as number))) {
      const beyond = range > 0 && Number.isFinite(excess) ? excess / range : 1;
      const novel = p.novelty.decades * (1 + beyond);
      if (novel > decades) decades = novel;
    }
    // a series gone quiet has no side: it counts when both sides do
    this.fromNoise = false;
    if (this.noise && side === 'both') {
      const q = decadesOfLogTail(updateVariance(s, NOISE, p.noise as VarianceParams, sample, timestamp, steps, stepOf(s, TIME))) - lookElsewhere;
      if (q > decades) {
        decades = q;
        this.fromNoise = true;
      }
    }
    this.fromDrift = false;
    if (this.drift !== null) {
      const q = decadesOfLogTail(this.drift.update(level, spread, timestamp, side)) - lookElsewhere;
      if (q > decades) {
        decades = q;
        this.fromDrift = true;
        this.fromNoise = false;
      }
    }
    const raw = scoreFromDecades(decades);
    s[RAW] = raw;
    return applyRefractory(s, REFRACTORY, p.refractory, raw, timestamp);
  }

  /** The tier found this sample anomalous: for the refractory span, the records of the
   * episode's new level are not scored as new extremes (the likelihood still judges them). */
  noteAnomaly(timestamp: number): void {
    if (Number.isFinite(timestamp)) this.s[QUIET_UNTIL] = timestamp + this.params.refractory.spanMs;
    this.drift?.noteAnomaly(timestamp);
  }

  /** The refractory alone, for tiers that combine this raw score with their own channel. */
  damp(raw: number, timestamp: number): number {
    return applyRefractory(this.s, REFRACTORY, this.params.refractory, raw, timestamp);
  }

  /** The noise channel's state (null: none), kept apart from state() whose layout older
   * snapshots share: a snapshot without it starts the channel afresh. */
  noiseState(): Array<number | null> | null {
    return this.noise ? varianceState(this.s, NOISE) : null;
  }

  restoreNoise(s: ReadonlyArray<number | null> | null | undefined): this {
    if (this.noise && Array.isArray(s)) restoreVariance(this.s, NOISE, s);
    return this;
  }

  /** The drift channel's state (null: none), apart as the noise channel's is. */
  driftState(): Array<number | null> | null {
    return this.drift === null ? null : this.drift.state();
  }

  /** The tier's level changed its meaning (a season adopted): the drift starts afresh. */
  resetDrift(): void {
    this.drift?.reset();
  }

  restoreDrift(s: ReadonlyArray<number | null> | null | undefined): this {
    this.drift?.restore(s);
    return this;
  }

  /** [likelihood (4), range (3), refractory left, until, quiet until (0: none), time step
   * (2+)]; NaN travels as null. */
  state(): number[] {
    // one array filled in place: spreads made an iterator and a copy per part, per series, per checkpoint
    const s = this.s;
    const out: number[] = [];
    for (let i = 0; i < LIKELIHOOD_SLOTS; i++) out.push(s[LIKELIHOOD + i] as number);
    append(out, rangeState(s, RANGE));
    append(out, refractoryState(s, REFRACTORY));
    const quietUntil = s[QUIET_UNTIL] as number;
    out.push(Number.isFinite(quietUntil) ? quietUntil : 0);
    return append(out, timeStepState(s, TIME, this.stamps));
  }

  /** Takes this layout or the older one (8 numbers: a counted refractory, no time). */
  restore(st: ReadonlyArray<number | null>): this {
    const s = this.s;
    for (let i = 0; i < LIKELIHOOD_SLOTS; i++) s[LIKELIHOOD + i] = st[i] as number;
    restoreRange(s, RANGE, st.slice(4, 7) as number[]);
    restoreRefractory(s, REFRACTORY, st[7] as number, (st[8] as number | null | undefined) ?? 0);
    const quiet = st[9];
    s[QUIET_UNTIL] = typeof quiet === 'number' && quiet !== 0 ? quiet : -Infinity;
    this.stamps = restoreTimeStep(s, TIME, st.length > 10 ? st.slice(10) : []);
    return this;
  }
}

function append(out: number[], xs: readonly number[]): number[] {
  for (let i = 0; i < xs.length; i++) out.push(xs[i]!);
  return out;
}
