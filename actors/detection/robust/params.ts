// Constants of the Robust tier, each with the reason for its value. They are principled
// defaults for streaming operations data (5-minute to hourly samples), chosen on the whole
// NAB dev split at once, never per file.
export const ROBUST = {
  /** default decision bound in spreads (mean absolute residuals; 4 spreads ≈ 3σ for Gaussian
   * noise), the same unit and default as Agile's */
  deviations: 4,
  /** default decision threshold on the score: p ≈ 6e-8 under the series' own history. A new
   * extreme by a hair scores 0.632 and does not alert alone; NAB's swept optimum sits just
   * above that (it rewards early, liberal detection) */
  threshold: 0.7,
  /** positive timestamp steps used to learn the sampling interval */
  cadenceSamples: 64,
  /** a daily cycle is modelled when it spans this many samples (fewer: too coarse; more: too much state) */
  minPeriod: 4,
  maxPeriod: 2016,
  /** trend smoothing: ~50 samples of memory, enough to ride out noise, quick enough to follow drift */
  levelAlpha: 0.02,
  /** per-phase seasonal smoothing: ~10 cycles of memory */
  seasonAlpha: 0.1,
  /** scale (mean absolute residual) smoothing: ~100 samples */
  scaleAlpha: 0.01,
  /** Huber clip of residuals fed back into level and season, in scales: long anomalies move the
   * baseline by at most clip·alpha·scale per sample, so the baseline stays put through them */
  clip: 3,
  /** clip of residuals fed into the scale, in scales (a burst may widen the scale, slowly) */
  scaleClip: 6,
  /** short window (samples) of standardised residuals for the mean-shift and variance channels */
  window: 16,
  /** exceedance level of each channel's tail model (in its own units, ~ scales) */
  tailLevel: 4,
  /** forgetting of the tail models: ~2,000 samples */
  tailDecay: 0.9995,
  /** samples before the tail models start learning (the scale is still settling) */
  tailFrom: 100,
  /** samples before any score is emitted (0 before: nothing is known yet) */
  warmup: 150,
  /** samples before new extremes count (the range needs a few cycles to be explored) */
  extremesFrom: 300,
  /** surprise (−log10 p) of a value outside every value seen so far (Numenta's spatial anomaly) */
  extremeSurprise: 6,
  /** surprise ↔ score: score = 1 − exp(−surprise / surpriseScale); 0.632 at p = 1e-6 */
  surpriseScale: 6,
  /** an episode starts at this score; for `episodeSpan` samples only a larger score passes
   * undamped, so one incident yields one alarm (NAB and on-call both count the first) */
  episodeLevel: 0.5,
  episodeSpan: 400,
  episodeDamping: 0.5,
  /** how far above the episode's peak a score must go to pass as an escalation */
  episodeEscalation: 0.05,
  /** residual model: window of clipped standardised residuals it reconstructs */
  modelWidth: 16,
  /** residual history kept for training (samples) */
  modelHistory: 512,
  /** first training and retraining period (samples) */
  modelFirstTrain: 512,
  modelRetrain: 2048,
  /** weight of the model's surprise against the statistical channels */
  modelWeight: 1,
  /** after a model failure or overrun, samples scored statistically (L1) before retrying */
  modelCooldown: 1024,
  /** model calls per timing check, and the time budget per call (µs) */
  modelTimingEvery: 256,
  modelBudgetMicros: 50,
} as const;
