// When to rank an incident again: once alerts have stopped joining it for `quietMs`, and
// no later than `maxWaitMs` after the first change not yet ranked. A storm of alerts is
// ranked a few times, not once per alert, and a long storm still shows progress. Pure:
// the caller passes the time and sets its own timer from next().

export interface ScheduleSettings {
  quietMs: number;
  maxWaitMs: number;
}

/** Alerts of one fault arrive within seconds of each other (one detection step apart). */
export const DEFAULT_RCA_QUIET_MS = 2_000;
/** A storm that never pauses is still ranked this often. */
export const DEFAULT_RCA_MAX_WAIT_MS = 10_000;

interface Pending {
  first: number;
  last: number;
}

export class RcaSchedule {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly settings: ScheduleSettings) {}

  /** Something changed about `id` at `now`. */
  touch(id: string, now: number): void {
    const p = this.pending.get(id);
    if (p) p.last = Math.max(p.last, now);
    else this.pending.set(id, { first: now, last: now });
  }

  drop(id: string): void {
    this.pending.delete(id);
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The earliest time something is due, if anything is pending. */
  next(): number | undefined {
    let at: number | undefined;
    for (const p of this.pending.values()) {
      const due = this.dueAt(p);
      if (at === undefined || due < at) at = due;
    }
    return at;
  }

  /** What is due at `now`, earliest first; taken off the schedule. */
  takeDue(now: number): string[] {
    const due: Array<[string, number]> = [];
    for (const [id, p] of this.pending) {
      const at = this.dueAt(p);
      if (at <= now) due.push([id, at]);
    }
    due.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (const [id] of due) this.pending.delete(id);
    return due.map(([id]) => id);
  }

  private dueAt(p: Pending): number {
    return Math.min(p.last + this.settings.quietMs, p.first + this.settings.maxWaitMs);
  }
}
