// The face every detection tier implements. Kernels are pure: no I/O, no actors, no
// clock of their own (time comes with each sample). One sample in, one score out.
import type { Tier } from '../../protocols/types.ts';

export type Sensitivity = {
  /** bound in (robust) deviations beyond which a sample is anomalous; default per tier */
  deviations?: number;
  /** which side counts: 'up', 'down' or 'both' (default) */
  direction?: 'up' | 'down' | 'both';
  /** score threshold for the decision (calibrated scores: one threshold serves all series) */
  threshold?: number;
  /** also flag a slow drift of the level: a day's move far beyond the series' usual ones (a
   * leak, a disk filling); default off (drift.ts says why) */
  drift?: boolean;
};

export interface Detector {
  readonly tier: Tier;
  /** Feeds one sample (causal: only the past is used) and returns its anomaly score in [0, 1]. */
  update(timestamp: number, value: number): number;
  /**
   * After update(): that sample's score before the one-alarm-per-episode damping that
   * update() applies. What an alert weighs: a damped score would hide a real fault that
   * follows a harmless alarm within the refractory span.
   */
  readonly rawScore: number;
  /** After update(): was that sample an anomaly under the sensitivity and direction? */
  readonly anomalous: boolean;
  /** After update(): the model's expectation for that sample (for the event's `expected`). */
  readonly expected: number;
  /** Compact, JSON-serialisable state; restoreDetector(snapshot()) continues with identical scores. */
  snapshot(): DetectorSnapshot;
}

export interface DetectorSnapshot {
  tier: Tier;
  version: number;
  [field: string]: unknown;
}
