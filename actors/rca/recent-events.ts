// The tenant's recent anomaly events, which an incident's ranking draws its evidence from
// (which metrics went wrong, where, when). Bounded by data time and by count, so a storm
// cannot grow it without limit.
import type { AnomalyEvent } from '../../protocols/index.ts';

export interface RecentEventsSettings {
  /** events older than the newest by more than this are forgotten (data time) */
  memoryMs: number;
  maxEvents: number;
}

/** An incident's evidence reaches back to its first alert: hours, for a long one. */
export const DEFAULT_EVENT_MEMORY_MS = 6 * 3_600_000;
export const DEFAULT_MAX_EVENTS = 50_000;

export class RecentEvents {
  private events: AnomalyEvent[] = [];
  private newest = -Infinity;

  constructor(private readonly settings: RecentEventsSettings) {}

  add(events: readonly AnomalyEvent[]): void {
    for (const e of events) {
      this.events.push(e);
      if (e.timestamp > this.newest) this.newest = e.timestamp;
    }
    // compact in steps (a quarter over the bound), not on every event
    if (this.events.length > this.settings.maxEvents * 1.25) this.compact();
  }

  get size(): number {
    return this.events.length;
  }

  /** Events on `services` with a timestamp in [from, to]. */
  within(services: ReadonlySet<string>, from: number, to: number): AnomalyEvent[] {
    const horizon = this.newest - this.settings.memoryMs;
    return this.events.filter((e) => e.timestamp >= from && e.timestamp <= to && e.timestamp >= horizon && services.has(e.service));
  }

  private compact(): void {
    const horizon = this.newest - this.settings.memoryMs;
    const kept = this.events.filter((e) => e.timestamp >= horizon);
    this.events = kept.length > this.settings.maxEvents ? kept.slice(kept.length - this.settings.maxEvents) : kept;
  }
}
