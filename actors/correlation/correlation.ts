// Time-based correlation (the simple form the foundation needs; the correlation issue adds
// topology): alerts of one tenant whose anomalies lie within `windowMs` of an active
// incident's last activity join it; otherwise they open a new incident. Pure: no I/O, no
// clock of its own; effects are returned as data for the hosting actor to carry out.
import { seriesId, stableId } from '../../protocols/index.ts';
import type { Alert, AnomalyEvent, Incident, Severity } from '../../protocols/index.ts';

export interface CorrelationSettings {
  windowMs: number;
  autoResolveMs: number;
  /** anomalies scoring below this raise no alert */
  minAlertScore: number;
  /** alerts at or above this score are critical, the rest warnings */
  criticalScore: number;
}

export const DEFAULT_CRITICAL_SCORE = 0.99;
/** How many alert ids to remember for de-duplication (alerts are delivered at least once). */
export const DEDUP_MEMORY = 10_000;

export type CorrelationEffect =
  | { type: 'alert'; alert: Alert }
  | { type: 'incident'; incident: Incident };

interface Active {
  incident: Incident;
  /** data time of the newest alert that touched it */
  lastActivity: number;
  alertedSeries: Set<string>;
  /** the alert the title names: the earliest (then the strongest) so far */
  lead: { timestamp: number; score: number };
}

function titleOf(a: AnomalyEvent): string {
  return `${a.service}: ${a.metric} anomalous (${a.direction})`;
}

export class TenantCorrelation {
  private readonly active = new Map<string, Active>();
  private readonly seen = new Set<string>();

  constructor(
    readonly tenant: string,
    private readonly settings: CorrelationSettings,
    unresolved: Incident[] = [],
  ) {
    // A restarted correlator picks up where the store says it was.
    for (const inc of unresolved) {
      this.active.set(inc.id, {
        incident: { ...inc }, lastActivity: inc.updatedAt, alertedSeries: new Set(), lead: { timestamp: inc.openedAt, score: inc.peakScore },
      });
      for (const id of inc.alertIds) this.remember(id);
    }
  }

  onAnomaly(a: AnomalyEvent): CorrelationEffect[] {
    if (a.tenant !== this.tenant || a.score < this.settings.minAlertScore) return [];
    const alertId = stableId('al', a.id);
    if (this.seen.has(alertId)) return [];
    this.remember(alertId);

    const seriesKey = seriesId(a);
    let act = this.findActive(a.timestamp);
    let opened = false;
    if (!act) {
      act = this.open(a);
      opened = true;
    } else if (act.alertedSeries.has(seriesKey)) {
      // The same series again within its incident: activity, not a new alert.
      act.lastActivity = Math.max(act.lastActivity, a.timestamp);
      if (a.score > act.incident.peakScore) {
        act.incident.peakScore = a.score;
        act.incident.updatedAt = act.lastActivity;
        return [{ type: 'incident', incident: { ...act.incident } }];
      }
      return [];
    }

    const alert: Alert = {
      id: alertId,
      tenant: a.tenant,
      service: a.service,
      metric: a.metric,
      labels: a.labels,
      timestamp: a.timestamp,
      score: a.score,
      severity: this.severity(a.score),
      tier: a.tier,
      anomalyId: a.id,
      incidentId: act.incident.id,
    };
    const inc = act.incident;
    act.alertedSeries.add(seriesKey);
    act.lastActivity = Math.max(act.lastActivity, a.timestamp);
    inc.alertIds = [...inc.alertIds, alert.id];
    if (!inc.services.includes(a.service)) inc.services = [...inc.services, a.service];
    inc.peakScore = Math.max(inc.peakScore, a.score);
    if (!opened) inc.updatedAt = Math.max(inc.updatedAt, a.timestamp);
    // Series are detected by different actors, so alerts arrive in no particular order:
    // the title follows the earliest evidence, not the first message.
    if (a.timestamp < act.lead.timestamp || (a.timestamp === act.lead.timestamp && a.score > act.lead.score)) {
      act.lead = { timestamp: a.timestamp, score: a.score };
      inc.title = titleOf(a);
    }
    return [{ type: 'alert', alert }, { type: 'incident', incident: { ...inc } }];
  }

  /** Operator changes (ack, resolve). Returns undefined when the incident is not active here. */
  setStatus(id: string, status: 'acknowledged' | 'resolved', now: number): Incident | undefined {
    const act = this.active.get(id);
    if (!act) return undefined;
    const inc = act.incident;
    if (inc.status === status) return { ...inc };
    inc.status = status;
    inc.updatedAt = now;
    if (status === 'acknowledged') inc.acknowledgedAt = now;
    if (status === 'resolved') {
      inc.resolvedAt = now;
      this.active.delete(id);
    }
    return { ...inc };
  }

  /** Resolves incidents quiet for autoResolveMs (measured against `now`, data-time based). */
  tick(now: number): CorrelationEffect[] {
    const out: CorrelationEffect[] = [];
    for (const act of this.active.values()) {
      if (now - act.lastActivity >= this.settings.autoResolveMs) {
        const inc = this.setStatus(act.incident.id, 'resolved', now);
        if (inc) out.push({ type: 'incident', incident: inc });
      }
    }
    return out;
  }

  activeCount(): number {
    return this.active.size;
  }

  private findActive(ts: number): Active | undefined {
    let best: Active | undefined;
    for (const act of this.active.values()) {
      const near = ts - act.lastActivity <= this.settings.windowMs && ts >= act.incident.openedAt - this.settings.windowMs;
      if (near && (!best || act.lastActivity > best.lastActivity)) best = act;
    }
    return best;
  }

  private open(a: AnomalyEvent): Active {
    const incident: Incident = {
      id: stableId('inc', `${a.tenant}:${a.id}`),
      tenant: a.tenant,
      status: 'open',
      title: titleOf(a),
      services: [],
      alertIds: [],
      openedAt: a.timestamp,
      updatedAt: a.timestamp,
      peakScore: a.score,
    };
    const act: Active = { incident, lastActivity: a.timestamp, alertedSeries: new Set(), lead: { timestamp: a.timestamp, score: a.score } };
    this.active.set(incident.id, act);
    return act;
  }

  private severity(score: number): Severity {
    return score >= this.settings.criticalScore ? 'critical' : 'warning';
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > DEDUP_MEMORY) {
      // Sets iterate in insertion order: drop the oldest.
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
