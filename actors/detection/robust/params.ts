// Constants of the Robust tier, each with the reason for its value. They are principled
// defaults for streaming operations data (5-minute to hourly samples), chosen on the whole
// NAB dev split at once, never per file. The statistical kernel's own constants are Agile's
// (agile.ts, surprise.ts): Robust is built on that kernel, not on a parallel one.
export const ROBUST = {
  /** default decision bound in spreads (mean absolute errors; 4 spreads ≈ 3σ for Gaussian
   * noise), the same unit and default as Agile's */
  deviations: 4,
  /** default decision threshold on the score: p ≈ 1e-7 under the series' own history
   * (Agile's calibration and NAB-optimal threshold) */
  threshold: 0.7,
  /** smoothing of the model's error unit (~100 samples) and the clip of errors fed into it,
   * in units (a burst may widen it, slowly) */
  scaleAlpha: 0.01,
  scaleClip: 6,
  /** exceedance level of the model error's tail model (in its own units) */
  tailLevel: 4,
  /** forgetting of the tail model: ~2,000 samples */
  tailDecay: 0.9995,
  /** residual model: window of clipped standardised errors it reconstructs */
  modelWidth: 16,
  /** error history kept for training (samples) */
  modelHistory: 512,
  /** first training and retraining period (samples) */
  modelFirstTrain: 512,
  modelRetrain: 2048,
  /** weight of the model's surprise (−log10 p) */
  modelWeight: 1,
  /** a window the model reconstructs with surprise below this (−log10 p: p > 1e-3 under its
   * own error history) is a familiar shape; NAB's standard score is flat from 2 to 4 */
  familiar: 3,
  /** factor on the statistical score of a familiar shape (0.9: an alarm at 0.78 falls under
   * the 0.7 threshold, a clear one at 0.9+ still passes) */
  familiarDamping: 0.9,
  /** samples before familiarity counts: the first training plus the memory of the model
   * error's tail (1 / (1 - tailDecay) = 2,000 samples), so its p-values are calibrated */
  familiarAfter: 512 + 2000,
  /** alarms recurring at the time of day (recurrence.ts): an alarm is a sample the kernel
   * finds anomalous; a counterpart within an hour of the same time on either of the two days
   * before makes it a scheduled event (a cron job's jitter is minutes; two days so one quiet
   * night does not reset it) */
  recurrence: { slackMs: 3_600_000, days: 2 },
  /** factor on a recurring alarm's score: 0.95 falls to 0.57, under every threshold the
   * sweeps choose (0.67-0.72), so a nightly job alarms on its first nights only */
  recurrenceDamping: 0.6,
  /** model calls per guarded call (one breaker outcome per block, none per sample) and per
   * timing check, and the time budget per call (µs). A failing model is benched by the
   * ml_inference breaker (inference-guard.ts), not by a count of samples here. */
  modelTimingEvery: 256,
  modelBudgetMicros: 50,
  /** model calls in a half-open probe: enough answers to trust it again, few enough that a
   * series sampled once a minute probes within a quarter of an hour */
  modelProbeCalls: 16,
} as const;
