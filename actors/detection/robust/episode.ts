// One incident, one alarm: once a score reaches `episodeLevel`, for `episodeSpan` samples
// only scores clearly above the episode's peak pass unchanged (an escalation is news); the
// rest are damped. NAB counts one detection per window and charges every extra one outside it, and an
// on-call engineer wants the first page, not fifty.
import { ROBUST } from './params.ts';

export class Episode {
  /** samples since the episode started (≥ span: none running) */
  age: number = ROBUST.episodeSpan;
  peak = 0;

  apply(score: number): number {
    if (this.age < ROBUST.episodeSpan) {
      this.age++;
      if (score > this.peak + ROBUST.episodeEscalation) {
        this.peak = score;
        return score;
      }
      return score * ROBUST.episodeDamping;
    }
    if (score >= ROBUST.episodeLevel) {
      this.age = 0;
      this.peak = score;
    }
    return score;
  }

  state(): number[] {
    return [this.age, this.peak];
  }

  restore(s: readonly number[]): this {
    [this.age, this.peak] = s as [number, number];
    return this;
  }
}
