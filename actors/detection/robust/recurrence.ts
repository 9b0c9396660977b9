// Alarms that recur at the same time of day. A scheduled job (a nightly backup, a cron
// batch) makes the same excursion every day at about the same hour, with a jitter of minutes
// that no per-phase season can learn: each phase sees the spike only now and then, so the
// season never absorbs it and the statistical chain alarms every night. This memory keeps,
// for each hour of the day (time, not samples: any sampling step), when an alarm last fell
// in it; an alarm that had a counterpart about a day earlier within `slackMs` is a familiar
// event, not news.
export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BUCKETS = 24;

export interface RecurrenceParams {
  /** how far from exactly one day earlier a counterpart may lie (ms) */
  slackMs: number;
  /** earlier days checked (1: yesterday; 2: yesterday or the day before) */
  days: number;
}

export class RecurrenceMemory {
  /** data time of the last alarm in each hour of the day (NaN: none) */
  private readonly last = new Float64Array(BUCKETS).fill(NaN);
  /** the one before it, for a check two days back */
  private readonly before = new Float64Array(BUCKETS).fill(NaN);

  constructor(readonly params: RecurrenceParams) {}

  /** Judges a sample at `timestamp` that the kernel found anomalous (`alarm`; its decision, not
   * its score alone: a new daily high of clean noise scores as a new extreme without passing
   * the deviation bound): was there an alarm about a day earlier? Records it either way.
   * Other samples and unreadable times: false. */
  recurs(alarm: boolean, timestamp: number): boolean {
    if (!alarm || !Number.isFinite(timestamp)) return false;
    const b = Math.floor((((timestamp % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
    const span = Math.ceil(this.params.slackMs / HOUR_MS);
    let seen = false;
    for (let k = -span; k <= span && !seen; k++) {
      const i = (b + k + BUCKETS) % BUCKETS;
      seen = this.near(this.last[i] as number, timestamp) || this.near(this.before[i] as number, timestamp);
    }
    if (!(timestamp - (this.last[b] as number) < HOUR_MS)) this.before[b] = this.last[b] as number;
    this.last[b] = timestamp;
    return seen;
  }

  private near(then: number, now: number): boolean {
    if (!Number.isFinite(then)) return false;
    const ago = now - then;
    for (let d = 1; d <= this.params.days; d++) if (Math.abs(ago - d * DAY_MS) <= this.params.slackMs) return true;
    return false;
  }

  state(): number[] {
    return [...this.last, ...this.before].map((x) => (Number.isFinite(x) ? x : 0));
  }

  restore(s: readonly number[] | undefined): this {
    if (s === undefined || s.length !== 2 * BUCKETS) return this;
    for (let i = 0; i < BUCKETS; i++) {
      this.last[i] = s[i] === 0 ? NaN : (s[i] as number);
      this.before[i] = s[BUCKETS + i] === 0 ? NaN : (s[BUCKETS + i] as number);
    }
    return this;
  }
}
