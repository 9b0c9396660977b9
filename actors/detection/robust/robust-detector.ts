// First working version: robust running location/scale (EWMA of value and absolute deviation)
// with a z-score squashed into [0, 1]. Replaced by the seasonal-trend + residual model next.
import type { Detector, DetectorSnapshot, Sensitivity } from '../detector.ts';

export type RobustState = DetectorSnapshot & {
  tier: 'robust';
  version: 1;
  sensitivity: Sensitivity;
  n: number;
  mean: number;
  dev: number;
};

const ALPHA = 0.02;

export class RobustDetector implements Detector {
  readonly tier = 'robust' as const;
  anomalous = false;
  expected = 0;
  private n = 0;
  private mean = 0;
  private dev = 0;

  constructor(private readonly sensitivity: Sensitivity) {}

  static restore(state: RobustState): RobustDetector {
    const d = new RobustDetector(state.sensitivity);
    d.n = state.n;
    d.mean = state.mean;
    d.dev = state.dev;
    return d;
  }

  update(_timestamp: number, value: number): number {
    this.anomalous = false;
    if (!Number.isFinite(value)) return 0;
    this.expected = this.n === 0 ? value : this.mean;
    const err = value - this.expected;
    const z = this.n < 2 || this.dev === 0 ? 0 : err / (1.4826 * this.dev);
    if (this.n === 0) this.mean = value;
    this.mean += ALPHA * (value - this.mean);
    this.dev += ALPHA * (Math.abs(err) - this.dev);
    this.n++;
    const dir = this.sensitivity.direction ?? 'both';
    const signed = dir === 'up' ? Math.max(0, z) : dir === 'down' ? Math.max(0, -z) : Math.abs(z);
    const score = 1 - Math.exp(-signed / 4);
    this.anomalous = signed >= (this.sensitivity.deviations ?? 4);
    return score;
  }

  snapshot(): RobustState {
    return { tier: 'robust', version: 1, sensitivity: this.sensitivity, n: this.n, mean: this.mean, dev: this.dev };
  }
}
