// The incidents of one tenant as runbooks see them: the incident itself, plus what its
// alerts say (labels, the worst severity) and what RCA ranked first. Fed from the node's
// effects (incident changes, alerts, RCA results), which may come in any order. Bounded:
// resolved incidents are forgotten oldest first past `maxResolved`.
import type { Alert, Incident, Severity } from '../../protocols/index.ts';
import type { IncidentView } from './context.ts';

/** What RCA gives (protocols' IncidentRca fits): the causes, most likely first. */
export interface RootCauses {
  tenant: string;
  incidentId: string;
  causes: ReadonlyArray<{ service: string }>;
}

/** Label pairs kept per incident (a flood of label variety must not grow without bound). */
export const MAX_LABEL_PAIRS = 256;
export const DEFAULT_MAX_RESOLVED = 1_000;

interface Entry {
  incident?: Incident;
  severity?: Severity;
  labels: Array<[string, string]>;
  rootCause?: string;
}

export class IncidentViews {
  private readonly entries = new Map<string, Entry>();
  private readonly resolved: string[] = [];

  constructor(
    private readonly tenant: string,
    /** the score from which an incident counts as critical when none of its alerts was seen */
    private readonly criticalScore: number,
    private readonly maxResolved = DEFAULT_MAX_RESOLVED,
  ) {}

  /** Takes an incident's new state; returns its view. */
  incident(inc: Incident): IncidentView {
    const e = this.entry(inc.id);
    const wasResolved = e.incident?.status === 'resolved';
    e.incident = inc;
    if (inc.status === 'resolved' && !wasResolved) this.forgetLater(inc.id);
    return this.view(inc.id)!;
  }

  alert(a: Alert): void {
    const e = this.entry(a.incidentId);
    if (e.severity !== 'critical') e.severity = a.severity;
    for (const pair of Object.entries(a.labels)) {
      if (e.labels.length >= MAX_LABEL_PAIRS) break;
      if (!e.labels.some(([k, v]) => k === pair[0] && v === pair[1])) e.labels.push(pair);
    }
  }

  /** Takes an RCA ranking; returns the view when the top cause changed and the incident is known. */
  rootCause(r: RootCauses): IncidentView | undefined {
    const e = this.entry(r.incidentId);
    const top = r.causes[0]?.service;
    if (top === e.rootCause) return undefined;
    if (top === undefined) delete e.rootCause;
    else e.rootCause = top;
    return this.view(r.incidentId);
  }

  view(id: string): IncidentView | undefined {
    const e = this.entries.get(id);
    const inc = e?.incident;
    if (!e || !inc) return undefined;
    const v: IncidentView = {
      id: inc.id, tenant: this.tenant, title: inc.title, status: inc.status, services: [...inc.services],
      severity: e.severity ?? (inc.peakScore >= this.criticalScore ? 'critical' : 'warning'),
      labels: e.labels.map(([k, x]) => [k, x]), peakScore: inc.peakScore, openedAt: inc.openedAt, alertCount: inc.alertIds.length,
    };
    if (e.rootCause !== undefined) v.rootCause = e.rootCause;
    return v;
  }

  size(): number {
    return this.entries.size;
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) this.entries.set(id, (e = { labels: [] }));
    return e;
  }

  private forgetLater(id: string): void {
    this.resolved.push(id);
    while (this.resolved.length > this.maxResolved) {
      const old = this.resolved.shift()!;
      if (this.entries.get(old)?.incident?.status === 'resolved') this.entries.delete(old);
    }
  }
}
