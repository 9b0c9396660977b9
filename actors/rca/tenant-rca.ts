// One tenant's RCA, the pure part of its actor (rca-actor.ts): it follows the incidents
// and the anomaly events, says when an incident is due to be ranked (debounced), which raw
// series the ranking wants read, and ranks from what was read. No I/O and no clock: the
// actor reads the topology and the series and passes the time in.
import type { AnomalyEvent, Incident, IncidentRca, RcaMethod, Topology } from '../../protocols/index.ts';
import { judgeAroundIncident, DEFAULT_BASELINE_MS, DEFAULT_LEAD_MS } from './baseline.ts';
import { anomaliesFromEvents } from './events.ts';
import { CallGraph } from './graph.ts';
import { rankRootCauses } from './rank.ts';
import { RecentEvents, DEFAULT_EVENT_MEMORY_MS, DEFAULT_MAX_EVENTS } from './recent-events.ts';
import { RcaSchedule, DEFAULT_RCA_MAX_WAIT_MS, DEFAULT_RCA_QUIET_MS } from './schedule.ts';
import type { RcaLevel, SeriesAnomaly, SeriesWindow } from './types.ts';

export interface RcaSettings {
  quietMs: number;
  maxWaitMs: number;
  memoryMs: number;
  maxEvents: number;
  /** causes kept in a result */
  limit: number;
  /** raw series read per ranking, at most (a 5,000-service closure must not read them all) */
  maxSeriesReads: number;
  /** normal operation: this much before the incident's lead */
  baselineMs: number;
  /** the window opens this long before the first alert */
  leadMs: number;
  /**
   * An incident opens on the first alert its correlator heard, which need not be the
   * earliest (services are detected by different actors): events on its services up to this
   * long before it count as its beginning (the correlation window's default).
   */
  lookbackMs: number;
  /** and closes this long after the last one (the peak may come later) */
  followMs: number;
}

export const DEFAULT_RCA_LIMIT = 10;
export const DEFAULT_MAX_SERIES_READS = 200;
export const DEFAULT_FOLLOW_MS = 10 * 60_000;
export const DEFAULT_LOOKBACK_MS = 5 * 60_000;

export const DEFAULT_RCA_SETTINGS: Readonly<RcaSettings> = Object.freeze({
  quietMs: DEFAULT_RCA_QUIET_MS,
  maxWaitMs: DEFAULT_RCA_MAX_WAIT_MS,
  memoryMs: DEFAULT_EVENT_MEMORY_MS,
  maxEvents: DEFAULT_MAX_EVENTS,
  limit: DEFAULT_RCA_LIMIT,
  maxSeriesReads: DEFAULT_MAX_SERIES_READS,
  baselineMs: DEFAULT_BASELINE_MS,
  leadMs: DEFAULT_LEAD_MS,
  lookbackMs: DEFAULT_LOOKBACK_MS,
  followMs: DEFAULT_FOLLOW_MS,
});

export const METHOD_OF: Readonly<Record<RcaLevel, RcaMethod>> = Object.freeze({ L0: 'causal', L1: 'correlation', L2: 'rule' });

/** One raw series the ranking wants: judged against its own past before the incident. */
export interface SeriesRead {
  service: string;
  metric: string;
  /** the harmful side, as the tenant's detectors reported this metric */
  direction: 'up' | 'down';
  from: number;
  to: number;
}

export interface ReadSeries {
  read: SeriesRead;
  samples: ReadonlyArray<[number, number]>;
}

export class TenantRca {
  private readonly settings: RcaSettings;
  private readonly schedule: RcaSchedule;
  private readonly events: RecentEvents;
  /** open incidents' latest states */
  private readonly incidents = new Map<string, Incident>();
  /** what each incident looked like when last ranked (or scheduled): its services and alert count */
  private readonly ranked = new Map<string, string>();

  constructor(readonly tenant: string, settings: Partial<RcaSettings> = {}) {
    this.settings = { ...DEFAULT_RCA_SETTINGS, ...settings };
    this.schedule = new RcaSchedule(this.settings);
    this.events = new RecentEvents(this.settings);
  }

  onAnomalies(events: readonly AnomalyEvent[]): void {
    this.events.add(events.filter((e) => e.tenant === this.tenant));
  }

  /** An incident changed; true when it is (still) due to be ranked. Only new alerts or services call for a new ranking. */
  onIncident(inc: Incident, now: number): boolean {
    if (inc.tenant !== this.tenant) return false;
    if (inc.status === 'resolved') {
      this.incidents.delete(inc.id);
      this.ranked.delete(inc.id);
      this.schedule.drop(inc.id);
      return false;
    }
    this.incidents.set(inc.id, inc);
    const shape = `${inc.alertIds.length}\u0000${inc.services.join('\u0000')}`;
    if (this.ranked.get(inc.id) === shape) return this.schedule.has(inc.id);
    this.ranked.set(inc.id, shape);
    this.schedule.touch(inc.id, now);
    return true;
  }

  /** Not ranked now (the level allows no RCA): due again a quiet period from `now`. */
  defer(id: string, now: number): void {
    if (!this.incidents.has(id)) return;
    this.schedule.drop(id);
    this.schedule.touch(id, now);
  }

  /** When the next ranking is due, if any. */
  nextDue(): number | undefined {
    return this.schedule.next();
  }

  /** Incidents due at `now`, earliest first (taken off the schedule). */
  takeDue(now: number): Incident[] {
    return this.schedule.takeDue(now).flatMap((id) => {
      const inc = this.incidents.get(id);
      return inc ? [inc] : [];
    });
  }

  /** Open incidents followed (for tests and introspection). */
  openCount(): number {
    return this.incidents.size;
  }

  /**
   * The raw series worth reading for `inc`: every metric the detectors reported in the
   * incident's window, on every candidate (alerts first, then services with events, then
   * the rest nearest first), at most maxSeriesReads.
   */
  plan(inc: Incident, topology: Topology): SeriesRead[] {
    const { candidates, from, to, events } = this.caseOf(inc, topology);
    const votes = new Map<string, number>();
    for (const e of events) votes.set(e.metric, (votes.get(e.metric) ?? 0) + (e.direction === 'up' ? 1 : -1));
    const metrics = [...votes].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const withEvents = new Set(events.map((e) => e.service));
    const alerting = new Set(inc.services);
    const order = [...candidates].sort((x, y) => tierOf(x) - tierOf(y)); // stable: BFS order within a tier
    function tierOf(s: string): number {
      return alerting.has(s) ? 0 : withEvents.has(s) ? 1 : 2;
    }
    const reads: SeriesRead[] = [];
    for (const service of order) {
      for (const [metric, vote] of metrics) {
        if (reads.length >= this.settings.maxSeriesReads) return reads;
        reads.push({ service, metric, direction: vote < 0 ? 'down' : 'up', from: from - this.settings.baselineMs, to });
      }
    }
    return reads;
  }

  /**
   * Ranks `inc` at `level` from the raw series read for it (judged against their own past)
   * and, for series not read, the detectors' events.
   */
  explain(inc: Incident, topology: Topology, level: RcaLevel, read: readonly ReadSeries[], now: number): IncidentRca {
    const { start, from, events } = this.caseOf(inc, topology);
    const judged: SeriesAnomaly[] = [];
    const windows: SeriesWindow[] = [];
    for (const { read: r, samples } of read) {
      const a = judgeAroundIncident(
        { service: r.service, metric: r.metric, direction: r.direction, samples },
        { start, baselineMs: this.settings.baselineMs, leadMs: this.settings.leadMs },
      );
      if (!a) continue;
      judged.push(a);
      if (level === 'L1') windows.push({ service: r.service, metric: r.metric, samples: samples.filter(([ts]) => ts >= from) });
    }
    const seen = new Set(judged.map((a) => `${a.service}\u0000${a.metric}`));
    const fromEvents = anomaliesFromEvents(events.filter((e) => !seen.has(`${e.service}\u0000${e.metric}`)));
    const result = rankRootCauses(
      { topology, alerts: inc.services, anomalies: [...judged, ...fromEvents], ...(windows.length > 0 ? { windows } : {}) },
      { level, limit: this.settings.limit },
    );
    return {
      tenant: this.tenant, incidentId: inc.id, level, method: METHOD_OF[level], computedAt: now,
      alerts: [...inc.services], incidentUpdatedAt: inc.updatedAt, candidates: result.candidates, causes: result.causes,
      evidence: { rawSeries: judged.length, eventSeries: fromEvents.length },
    };
  }

  /** The incident's candidates, its beginning (`start`), its window [from, to] and the events in it. */
  private caseOf(inc: Incident, topology: Topology): { candidates: string[]; start: number; from: number; to: number; events: AnomalyEvent[] } {
    const g = CallGraph.of(topology, inc.services);
    const candidates = g.closure(inc.services.map((s) => g.index.get(s)!)).map((i) => g.names[i]!);
    let start = inc.openedAt;
    for (const e of this.events.within(new Set(inc.services), inc.openedAt - this.settings.lookbackMs, inc.openedAt)) start = Math.min(start, e.timestamp);
    const from = start - this.settings.leadMs;
    const to = Math.max(inc.updatedAt, start) + this.settings.followMs;
    return { candidates, start, from, to, events: this.events.within(new Set(candidates), from, to) };
  }
}
