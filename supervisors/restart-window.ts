// Restart intensity: how many restarts happened within the sliding period. More than
// `intensity` of them means restarting is not helping, and the supervisor escalates.

export class RestartWindow {
  private readonly times: number[] = [];

  constructor(readonly intensity: number, readonly periodMs: number) {}

  /** Records a restart at `now`; returns how many fall in (now - periodMs, now], this one included. */
  record(now: number): number {
    this.prune(now);
    this.times.push(now);
    return this.times.length;
  }

  /** Restarts counted in the window at `now`, without recording one. */
  count(now: number): number {
    this.prune(now);
    return this.times.length;
  }

  /** True once the recorded count is past the allowed intensity. */
  exceeded(count: number): boolean {
    return count > this.intensity;
  }

  private prune(now: number): void {
    const horizon = now - this.periodMs;
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= horizon) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}
