// After a detection, the same episode keeps producing surprising samples; NAB (and an
// on-call engineer) counts only the first. For `spanMs` of data time after a score reached
// `level`, scores are damped by `damping`, so one episode yields one alarm. The span is
// time, not a sample count: a series sampled every 10 s and one sampled hourly get the same
// quiet period, and a gap in the data uses it up as time passes. Samples whose timestamp
// cannot be read fall back to counting (`spanSamples`).

export interface RefractoryParams {
  /** score at which an episode starts */
  level: number;
  /** data time the damping lasts (ms) */
  spanMs: number;
  /** samples the damping lasts when a timestamp is unreadable (and for pre-time snapshots) */
  spanSamples: number;
  /** factor applied to scores during the span */
  damping: number;
}

export class Refractory {
  /** samples left in a counted span (0: none) */
  left = 0;
  /** data time (ms) until which scores are damped (-Infinity: none) */
  until = -Infinity;

  constructor(readonly params: RefractoryParams) {}

  apply(score: number, timestamp: number): number {
    const timed = Number.isFinite(timestamp);
    let damped = timed && timestamp < this.until;
    if (this.left > 0) {
      this.left--;
      damped = true;
    }
    if (damped) return score * this.params.damping;
    if (score >= this.params.level) {
      if (timed) this.until = timestamp + this.params.spanMs;
      else this.left = this.params.spanSamples;
    }
    return score;
  }

  /** [left, until] with no span stored as until 0 (JSON has no -Infinity). */
  state(): [number, number] {
    return [this.left, Number.isFinite(this.until) ? this.until : 0];
  }

  restore(left: number, until = 0): this {
    this.left = left;
    this.until = until === 0 ? -Infinity : until;
    return this;
  }
}
