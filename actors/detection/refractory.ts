// After a detection, the same episode keeps producing surprising samples; NAB (and an
// on-call engineer) counts only the first. For `span` samples after a score reached
// `level`, scores are damped by `damping`, so one episode yields one alarm.

export interface RefractoryParams {
  /** score at which an episode starts */
  level: number;
  /** samples the damping lasts */
  span: number;
  /** factor applied to scores during the span */
  damping: number;
}

export class Refractory {
  /** samples left in the current span (0: none) */
  left = 0;

  constructor(readonly params: RefractoryParams) {}

  apply(score: number): number {
    if (this.left > 0) {
      this.left--;
      return score * this.params.damping;
    }
    if (score >= this.params.level) this.left = this.params.span;
    return score;
  }
}
