// A tenant's correlation: alerts in (raised from anomalies, or from the Alertmanager-compatible
// intake), incidents and notifications out. Pure: no I/O, no clock of its own (every call is
// given `now`, the node's clock), no timers; effects are returned as data for the hosting
// actor to carry out. The parts, each in its own file:
//   alerts.ts      fingerprints: one live alert per fingerprint, however often delivered
//   silences.ts    silenced alerts join no incident
//   inhibition.ts  inhibited alerts (a firing root alert mutes its symptoms) join no incident
//   topology.ts    which services are related (within k hops)
//   groups.ts      the incident lifecycle
//   notices.ts     group_wait / group_interval / repeat_interval
// Grouping, by the node's degradation level (supervisors/degradation: capabilities):
//   topology (L0, L1)  an alert joins an active incident close in time (its start within
//                      windowMs of the incident's span) that shares its groupBy label values,
//                      or holds a service within `hops` of the alert's service; a service the
//                      topology does not know joins by time, and an incident of unknown
//                      services only takes anything close in time (so a tenant without a
//                      topology gets time grouping);
//   time (L2)          it joins the active incident with the latest activity close in time;
//   none (L3, L4)      pass-through: each alert is its own incident, notified at once, no
//                      inhibition. Deduplication and silences hold at every level.
import type { Alert, AnomalyEvent, Incident, IncidentNotification, Severity } from '../../protocols/index.ts';
import { stableId } from '../../protocols/index.ts';
import { capabilities, type Level } from '../../supervisors/degradation/levels.ts';
import { anomalyInput, type AlertInput, type AlertView } from './alerts.ts';
import {
  acknowledge, incidentCopy, openGroup, recordAlert, reopen, resolve, restoredGroup, type Group, type LiveAlert,
} from './groups.ts';
import { Inhibitor } from './inhibition.ts';
import { noticeDue, noticeSent, type Timing } from './notices.ts';
import { fullSettings, type CorrelationSettings, type FullSettings } from './settings.ts';
import { SilenceBook, type Silence, type SilenceDraft, type SilenceView } from './silences.ts';
import { NO_TOPOLOGY, type TopologyView } from './topology.ts';

/** How many delivery ids to remember for de-duplication (alerts are delivered at least once). */
export const DEDUP_MEMORY = 10_000;
/** Alerts a notification lists (the rest are counted): a storm must not make one huge message (IncidentNotification in protocols). */
export const NOTIFY_ALERTS = 100;
/** An incident with at most this many alerts is written out on every change (its state is small). */
export const SMALL_INCIDENT = 100;

export type CorrelationEffect =
  | { type: 'alert'; alert: Alert }
  | { type: 'incident'; incident: Incident }
  | { type: 'notify'; notification: IncidentNotification };

export interface CorrelationOptions {
  /** the node's degradation level, read at each decision (default: always L0) */
  level?: () => Level;
  topology?: TopologyView;
  /** silences kept from before (the host persists them) */
  silences?: readonly Silence[];
  /** the node's clock at start: incidents taken over from the store wait autoResolveMs from here for news (default: their updatedAt) */
  now?: number;
}

export interface IntakeResult {
  effects: CorrelationEffect[];
  /** alerts refused because the tenant holds maxAlerts live alerts */
  refused: number;
}

export interface CorrelationStats {
  alerts: number;
  suppressed: number;
  incidents: number;
  silences: number;
  refused: number;
}

type Mode = 'topology' | 'time' | 'none';
const ZERO_TIMING: Timing = { groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 0 };

export class TenantCorrelation {
  private readonly s: FullSettings;
  private readonly level: () => Level;
  private topology: TopologyView;
  private readonly alerts = new Map<string, LiveAlert>();
  private readonly active = new Map<string, Group>();
  /** resolved within reopenMs, by id; and which of them each fingerprint would reopen */
  private readonly recent = new Map<string, Group>();
  private readonly reopenBy = new Map<string, string>();
  private readonly seen = new Set<string>();
  /** alert ids the restored incidents list: a redelivery goes back to its incident quietly */
  private readonly known = new Map<string, string>();
  /** firing alerts held back by a silence or an inhibition: looked at again when those change */
  private readonly suppressed = new Set<string>();
  private readonly silences: SilenceBook;
  private readonly inhibitor: Inhibitor;
  private suppressionDirty = false;
  private nextSilenceChange = Infinity;
  private lastLevel: Level = 0;
  private refusedTotal = 0;
  /** groups whose notification may be due (others are looked at by tick) */
  private readonly noticeQueue = new Set<Group>();
  // effects of the call in progress
  private out: CorrelationEffect[] = [];
  /** incidents whose alerts changed: out at once while small, then at most once per incidentUpdateMs (a storm writes a few states, not thousands) */
  private readonly touched = new Set<Group>();
  /** incidents whose status changed (opened, resolved, reopened): out at once */
  private readonly urgent = new Set<Group>();

  constructor(
    readonly tenant: string,
    settings: CorrelationSettings,
    unresolved: Incident[] = [],
    options: CorrelationOptions = {},
  ) {
    this.s = fullSettings(settings);
    this.level = options.level ?? (() => 0);
    this.topology = options.topology ?? NO_TOPOLOGY;
    this.silences = new SilenceBook(this.s.maxSilences, options.silences ?? []);
    this.inhibitor = new Inhibitor(this.s.inhibitRules);
    // A restarted correlator picks up where the store says it was.
    for (const inc of unresolved) {
      if (inc.tenant !== tenant || inc.status === 'resolved') continue;
      const g = restoredGroup(inc, options.now ?? inc.updatedAt);
      this.countUnknown(g);
      this.active.set(inc.id, g);
      for (const id of inc.alertIds) this.known.set(id, inc.id);
    }
    this.nextSilenceChange = this.silences.nextChange(-Infinity);
  }

  // ---- intake -------------------------------------------------------------------------

  /** One anomaly; `now` defaults to its own time (data time). */
  onAnomaly(a: AnomalyEvent, now = a.timestamp): CorrelationEffect[] {
    return this.onAnomalies([a], now).effects;
  }

  onAnomalies(events: readonly AnomalyEvent[], now: number): IntakeResult {
    let refused = 0;
    for (const a of events) {
      if (a.tenant !== this.tenant || a.score < this.s.minAlertScore) continue;
      if (!this.take(anomalyInput(a, this.severity(a.score)), now)) refused++;
    }
    return this.finish(now, refused);
  }

  /** Alerts from the Alertmanager-compatible intake (alertmanagerInput builds them). */
  onAlerts(inputs: readonly AlertInput[], now: number): IntakeResult {
    let refused = 0;
    for (const inp of inputs) if (!this.take(inp, now)) refused++;
    return this.finish(now, refused);
  }

  // ---- operators ----------------------------------------------------------------------

  /**
   * Ack or resolve; the caller publishes the incident it returns (flush() then gives the
   * notification a resolve may owe). Undefined when the incident is not active here.
   */
  setStatus(id: string, status: 'acknowledged' | 'resolved', now: number): Incident | undefined {
    const g = this.active.get(id);
    if (!g) return undefined;
    if (g.incident.status !== status) {
      if (status === 'acknowledged') acknowledge(g, now);
      else this.resolveGroup(g, now);
      this.touched.delete(g); // the caller publishes this state
      this.urgent.delete(g);
      g.emittedAt = now;
    }
    return incidentCopy(g);
  }

  /** What is owed now (notifications due, alerts no longer suppressed), without waiting for a tick. */
  flush(now: number): CorrelationEffect[] {
    return this.finish(now, 0).effects;
  }

  /** Creates or replaces a silence; alerts it no longer covers may join incidents now. */
  putSilence(draft: SilenceDraft, now: number, newId: () => string): { silence: Silence; effects: CorrelationEffect[] } {
    const silence = this.silences.put(draft, now, newId);
    this.suppressionDirty = true;
    return { silence, effects: this.finish(now, 0).effects };
  }

  expireSilence(id: string, now: number): { silence: Silence; effects: CorrelationEffect[] } {
    const silence = this.silences.expire(id, now);
    this.suppressionDirty = true;
    return { silence, effects: this.finish(now, 0).effects };
  }

  silence(id: string, now: number): SilenceView | undefined {
    return this.silences.get(id, now);
  }

  silenceList(now: number): SilenceView[] {
    return this.silences.list(now);
  }

  /** Every silence as stored, for the host to persist. */
  savedSilences(): Silence[] {
    return this.silences.all();
  }

  /** A new topology (the tenant changed it, or it was loaded). */
  setTopology(view: TopologyView): void {
    this.topology = view;
    for (const g of this.active.values()) this.countUnknown(g);
  }

  // ---- time ---------------------------------------------------------------------------

  /**
   * Alerts past their end clear; an incident whose alerts have all cleared resolves (one
   * taken over from the store, whose alerts are unknown, after autoResolveMs without news
   * since it was taken over);
   * suppressed alerts are looked at again; due notifications go out.
   */
  tick(now: number): CorrelationEffect[] {
    const ended: LiveAlert[] = [];
    for (const al of this.alerts.values()) if (al.endsAt <= now) ended.push(al);
    for (const al of ended) this.endAlert(al, now);
    const timing = this.timing();
    for (const g of [...this.active.values()]) {
      if (g.live.size === 0 && now - g.heardAt >= this.s.autoResolveMs) {
        this.resolveGroup(g, now);
        continue;
      }
      const due = noticeDue(g.notice, g.incident.status, timing);
      if (due && due.at <= now) this.noticeQueue.add(g); // repeats are found here only
    }
    for (const [id, g] of this.recent) {
      if (g.incident.resolvedAt! + this.s.reopenMs > now) continue;
      this.recent.delete(id);
      for (const fp of g.fingerprints) if (this.reopenBy.get(fp) === id) this.reopenBy.delete(fp);
    }
    return this.finish(now, 0).effects;
  }

  // ---- reads --------------------------------------------------------------------------

  /** True while time can change something here (alerts to end, incidents to resolve or notify, silences to start or end). */
  busy(): boolean {
    return this.alerts.size > 0 || this.active.size > 0 || this.recent.size > 0 || this.noticeQueue.size > 0 || this.touched.size > 0 || this.nextSilenceChange < Infinity;
  }

  activeCount(): number {
    return this.active.size;
  }

  /** The live alerts, newest first, with whether each is suppressed and by what. */
  alertViews(now: number): AlertView[] {
    const out = [...this.alerts.values()].map((al) => this.view(al, now));
    return out.sort((a, b) => b.startsAt - a.startsAt || (a.fingerprint < b.fingerprint ? -1 : 1));
  }

  stats(): CorrelationStats {
    return { alerts: this.alerts.size, suppressed: this.suppressed.size, incidents: this.active.size, silences: this.silences.size, refused: this.refusedTotal };
  }

  // ---- inside ------------------------------------------------------------------------

  /** Takes one delivery; false when refused (the tenant holds too many live alerts). */
  private take(inp: AlertInput, now: number): boolean {
    if (inp.deliveryId !== undefined) {
      if (this.seen.has(inp.deliveryId)) return true;
      this.remember(inp.deliveryId);
    }
    const cur = this.alerts.get(inp.fingerprint);
    if (cur) {
      if (inp.startsAt <= cur.endsAt) {
        this.refresh(cur, inp, now);
        return true;
      }
      this.endAlert(cur, now); // it had ended; this is a new firing of the same alert
    }
    const anomaly = inp.source === 'anomaly';
    // An anomaly's alert ends autoResolveMs after the last anomaly of its series arrived (the
    // node's clock: for live data the same as data time; a backfill's alerts do not end the
    // moment they are raised). Grouping, by contrast, goes by data time (startsAt, lastSeen).
    const endsAt = anomaly ? now + this.s.autoResolveMs : inp.endsAt ?? now + this.s.resolveTimeoutMs;
    // An Alertmanager alert already resolved when first seen changes nothing. (Anomalies are
    // in data time: a backfilled one still raises its alert, which clears at the next tick.)
    if (!anomaly && endsAt <= now) return true;
    if (this.alerts.size >= this.s.maxAlerts) {
      this.refusedTotal++;
      return false;
    }
    const al: LiveAlert = {
      id: stableId('al', inp.deliveryId ?? `${inp.fingerprint}:${inp.startsAt}`),
      fingerprint: inp.fingerprint, source: inp.source, service: inp.service, name: inp.name,
      labels: inp.labels, annotations: inp.annotations, startsAt: inp.startsAt, endsAt, updatedAt: now,
      severity: inp.severity, score: inp.score, lastSeen: inp.startsAt, closed: false,
    };
    if (inp.generatorURL !== undefined) al.generatorURL = inp.generatorURL;
    if (inp.deliveryId !== undefined) al.deliveryId = inp.deliveryId;
    // Every alert that joins an incident is stored, whichever way it came (GET /v1/alerts lists both).
    al.record = inp.anomaly ? alertRecord(inp.anomaly, al) : externalRecord(this.tenant, al);
    this.alerts.set(al.fingerprint, al);
    if (this.inhibitor.firing(al.fingerprint, al.labels)) this.suppressionDirty = true;
    // The store already lists this alert under an incident taken over at start: back it goes.
    const back = this.known.get(al.id);
    const g = back !== undefined ? this.active.get(back) : undefined;
    if (g) {
      this.known.delete(al.id);
      this.attach(g, al, false);
    } else {
      this.place(al, now);
    }
    return true;
  }

  private refresh(cur: LiveAlert, inp: AlertInput, now: number): void {
    if (inp.source === 'anomaly') {
      cur.lastSeen = Math.max(cur.lastSeen, inp.startsAt);
      cur.endsAt = Math.max(cur.endsAt, now + this.s.autoResolveMs);
    } else {
      const endsAt = inp.endsAt ?? now + this.s.resolveTimeoutMs;
      // A redelivery says the alert still fires (its end moves), not that something new
      // happened: its incident's activity, and so grouping, stay as they were.
      cur.endsAt = endsAt <= now ? endsAt : Math.max(cur.endsAt, endsAt);
      cur.annotations = inp.annotations;
      if (inp.generatorURL !== undefined) cur.generatorURL = inp.generatorURL;
    }
    cur.updatedAt = now;
    if (cur.endsAt <= now && inp.source !== 'anomaly') {
      this.endAlert(cur, now);
      return;
    }
    const g = cur.incidentId !== undefined && !cur.closed ? this.active.get(cur.incidentId) : undefined;
    if (!g) return;
    g.lastActivity = Math.max(g.lastActivity, cur.lastSeen);
    if (inp.score > cur.score) cur.score = inp.score;
    if (inp.score > g.incident.peakScore) {
      g.incident.peakScore = inp.score;
      g.incident.updatedAt = Math.max(g.incident.updatedAt, g.lastActivity);
      this.touched.add(g);
    }
  }

  /** A new (or no longer suppressed) alert finds its incident, reopens one, or opens one. */
  private place(al: LiveAlert, now: number): void {
    const mode = this.mode();
    if (this.silences.silencing(al.labels, now).length > 0 || (mode !== 'none' && this.inhibitor.inhibitedBy(al.fingerprint, al.labels).length > 0)) {
      this.suppressed.add(al.fingerprint);
      return;
    }
    this.suppressed.delete(al.fingerprint);
    const again = this.reopenBy.get(al.fingerprint);
    let g = again !== undefined ? this.recent.get(again) : undefined;
    if (g) {
      this.recent.delete(g.incident.id);
      for (const fp of g.fingerprints) if (this.reopenBy.get(fp) === g.incident.id) this.reopenBy.delete(fp);
      reopen(g, now);
      this.active.set(g.incident.id, g);
      this.urgent.add(g);
    } else {
      g = this.choose(al, mode);
    }
    if (!g) {
      g = openGroup(this.tenant, al, this.groupKey(al), now);
      this.active.set(g.incident.id, g);
      this.urgent.add(g);
      this.attach(g, al, true, true);
    } else {
      this.attach(g, al, true);
    }
    this.noticeQueue.add(g);
  }

  private choose(al: LiveAlert, mode: Mode): Group | undefined {
    if (mode === 'none') return undefined;
    const w = this.s.windowMs;
    const ts = al.startsAt;
    const key = this.groupKey(al);
    const near = mode === 'topology' && this.topology.has(al.service) ? this.topology.near(al.service, this.s.hops) : undefined;
    let best: Group | undefined;
    for (const g of this.active.values()) {
      if (ts - g.lastActivity > w || ts < g.incident.openedAt - w) continue;
      if (mode === 'topology' && !this.related(g, al.service, key, near)) continue;
      if (!best || g.lastActivity > best.lastActivity) best = g;
    }
    return best;
  }

  /**
   * Label grouping, or topology: within k hops of one of its services. What the topology does
   * not know, time decides: an unknown service joins by time, and so does anything joining an
   * incident of unknown services only; a known service never joins through an unknown one.
   */
  private related(g: Group, service: string, key: string, near: ReadonlySet<string> | undefined): boolean {
    if (this.s.groupBy.length > 0 && g.groupKey === key) return true;
    if (!near || g.unknown === g.services.size || g.services.has(service)) return true;
    if (near.size <= g.services.size) {
      for (const s of near) if (g.services.has(s)) return true;
    } else {
      for (const s of g.services) if (near.has(s)) return true;
    }
    return false;
  }

  private attach(g: Group, al: LiveAlert, news: boolean, opened = false): void {
    al.incidentId = g.incident.id;
    al.closed = false;
    g.live.add(al.fingerprint);
    g.fingerprints.add(al.fingerprint);
    g.lastActivity = Math.max(g.lastActivity, al.lastSeen);
    const knownService = g.services.has(al.service);
    if (!news) {
      if (!knownService) g.services.add(al.service);
      return;
    }
    if (recordAlert(g, al, opened)) {
      if (!knownService && !this.topology.has(al.service)) g.unknown++;
      if (al.record) this.out.push({ type: 'alert', alert: { ...al.record, incidentId: g.incident.id } });
      this.touched.add(g);
      g.notice.dirty = true;
    }
  }

  private endAlert(al: LiveAlert, now: number): void {
    this.alerts.delete(al.fingerprint);
    this.suppressed.delete(al.fingerprint);
    if (this.inhibitor.resolved(al.fingerprint, al.labels)) this.suppressionDirty = true;
    if (al.incidentId === undefined || al.closed) return;
    const g = this.active.get(al.incidentId);
    if (!g || !g.live.delete(al.fingerprint)) return;
    g.notice.dirty = true;
    this.noticeQueue.add(g);
    if (g.live.size === 0) this.resolveGroup(g, now);
  }

  private resolveGroup(g: Group, now: number): void {
    resolve(g, now);
    if (this.known.size > 0) for (const id of g.incident.alertIds) if (this.known.get(id) === g.incident.id) this.known.delete(id);
    this.active.delete(g.incident.id);
    this.recent.set(g.incident.id, g);
    for (const fp of g.fingerprints) this.reopenBy.set(fp, g.incident.id);
    // Alerts still firing (an operator resolved it) are absorbed until they end at the source.
    for (const fp of g.live) {
      const al = this.alerts.get(fp);
      if (al) al.closed = true;
    }
    g.live.clear();
    this.urgent.add(g);
    this.noticeQueue.add(g);
  }

  /** Ends a call: suppression looked at again if anything it depends on changed, incidents and notifications out. */
  private finish(now: number, refused: number): IntakeResult {
    const level = this.level();
    if (level !== this.lastLevel) {
      this.lastLevel = level;
      this.suppressionDirty = true;
    }
    if (now >= this.nextSilenceChange) this.suppressionDirty = true;
    if (this.suppressionDirty && this.suppressed.size > 0) {
      this.suppressionDirty = false;
      for (const fp of [...this.suppressed]) {
        const al = this.alerts.get(fp);
        if (al) this.place(al, now);
      }
    }
    this.suppressionDirty = false;
    this.nextSilenceChange = this.silences.nextChange(now);
    for (const g of this.urgent) this.touched.add(g);
    for (const g of this.touched) {
      const small = g.incident.alertIds.length <= SMALL_INCIDENT;
      if (!this.urgent.has(g) && !small && now - g.emittedAt < this.s.incidentUpdateMs) continue;
      this.touched.delete(g);
      g.emittedAt = now;
      this.out.push({ type: 'incident', incident: incidentCopy(g) });
    }
    this.urgent.clear();
    this.notify(now);
    const effects = this.out;
    this.out = [];
    return { effects, refused };
  }

  private timing(): Timing {
    return this.mode() === 'none' ? ZERO_TIMING : this.s;
  }

  /** Sends what is due among the queued groups; a group waiting only for a repeat leaves the queue (tick finds it). */
  private notify(now: number): void {
    const timing = this.timing();
    for (const g of this.noticeQueue) {
      const due = noticeDue(g.notice, g.incident.status, timing);
      if (!due || (due.reason === 'repeat' && due.at > now)) {
        this.noticeQueue.delete(g);
        continue;
      }
      if (due.at > now) continue;
      this.noticeQueue.delete(g);
      const alerts: AlertView[] = [];
      for (const fp of g.live) {
        const al = this.alerts.get(fp);
        if (al) {
          const v = this.view(al, now);
          if (v.state === 'active') alerts.push(v);
        }
      }
      // Every alert silenced or inhibited: a muted incident is not notified (a change is kept for later).
      if (due.reason !== 'resolved' && alerts.length === 0) continue;
      alerts.sort((a, b) => b.startsAt - a.startsAt);
      this.out.push({
        type: 'notify',
        notification: { tenant: this.tenant, reason: due.reason, at: now, incident: incidentCopy(g), alerts: alerts.slice(0, NOTIFY_ALERTS), firing: alerts.length },
      });
      noticeSent(g.notice, now);
    }
  }

  private view(al: LiveAlert, now: number): AlertView {
    const silencedBy = this.silences.silencing(al.labels, now);
    const inhibitedBy = this.mode() === 'none' ? [] : this.inhibitor.inhibitedBy(al.fingerprint, al.labels);
    const v: AlertView = {
      id: al.id, fingerprint: al.fingerprint, source: al.source, service: al.service, name: al.name,
      labels: { ...al.labels }, annotations: { ...al.annotations }, startsAt: al.startsAt, endsAt: al.endsAt, updatedAt: al.updatedAt,
      severity: al.severity, score: al.score,
      state: silencedBy.length > 0 || inhibitedBy.length > 0 ? 'suppressed' : 'active', silencedBy, inhibitedBy,
    };
    if (al.generatorURL !== undefined) v.generatorURL = al.generatorURL;
    if (al.incidentId !== undefined && !al.closed) v.incidentId = al.incidentId;
    return v;
  }

  private mode(): Mode {
    return capabilities(this.level()).correlation;
  }

  private groupKey(al: LiveAlert): string {
    return this.s.groupBy.map((n) => (Object.hasOwn(al.labels, n) ? al.labels[n] : '')).join('\u0000');
  }

  private countUnknown(g: Group): void {
    let n = 0;
    for (const s of g.services) if (!this.topology.has(s)) n++;
    g.unknown = n;
  }

  private severity(score: number): Severity {
    return score >= this.s.criticalScore ? 'critical' : 'warning';
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

/** The stored record of an alert raised from an anomaly (its incident set when it joins one). */
function alertRecord(a: AnomalyEvent, al: LiveAlert): Alert {
  return {
    id: al.id, tenant: a.tenant, service: a.service, metric: a.metric, labels: a.labels, timestamp: a.timestamp,
    score: a.score, severity: al.severity, tier: a.tier, anomalyId: a.id, incidentId: '',
  };
}

/** The stored record of an Alertmanager alert: the alertname as its metric, its whole label set, no tier, no anomaly. */
function externalRecord(tenant: string, al: LiveAlert): Alert {
  return {
    id: al.id, tenant, service: al.service, metric: al.name, labels: { ...al.labels }, timestamp: al.startsAt,
    score: al.score, severity: al.severity, anomalyId: '', incidentId: '',
  };
}
