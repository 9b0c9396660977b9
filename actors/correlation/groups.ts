// An incident as the correlator holds it: the record every reader sees, plus what grouping
// and notifying need (its services as a set, its live alerts, its timers). Pure helpers for
// the lifecycle: open → acknowledged → resolved, and resolved → open again (reopen).
import { stableId } from '../../protocols/index.ts';
import type { Alert, Incident } from '../../protocols/index.ts';
import type { AlertInput, AlertSource } from './alerts.ts';
import { freshNotice, type Notice } from './notices.ts';

/** A live alert: one per fingerprint while it fires. */
export interface LiveAlert {
  id: string;
  fingerprint: string;
  source: AlertSource;
  service: string;
  name: string;
  labels: AlertInput['labels'];
  annotations: AlertInput['annotations'];
  startsAt: number;
  endsAt: number;
  updatedAt: number;
  generatorURL?: string;
  severity: AlertInput['severity'];
  score: number;
  /** data time of its newest evidence: the latest anomaly of its series; an Alertmanager alert's start */
  lastSeen: number;
  /** the first delivery's id (an anomaly's), which names the alert and a new incident */
  deliveryId?: string;
  incidentId?: string;
  /** its incident was resolved by an operator while it fired: deliveries are absorbed until it ends */
  closed: boolean;
  /** the stored record (anomalies' and Alertmanager alerts' alike), out when it joins an incident */
  record?: Alert;
}

export interface Group {
  incident: Incident;
  /** values of the groupBy labels of the alert that opened it */
  groupKey: string;
  services: Set<string>;
  /** services the topology does not know (grouping falls back to time for them) */
  unknown: number;
  /** fingerprints of its alerts that fire now */
  live: Set<string>;
  /** every fingerprint it ever held: one of them firing again reopens it */
  fingerprints: Set<string>;
  /** the record's alertIds as a set */
  ids: Set<string>;
  /** data time of the newest alert activity */
  lastActivity: number;
  /** the alert the title names: the earliest (then the strongest) so far */
  lead: { timestamp: number; score: number };
  notice: Notice;
  /** when its state last left the correlator (node clock) */
  emittedAt: number;
  /** when it was opened or taken over from the store (node clock): one with no known alert resolves autoResolveMs after */
  heardAt: number;
}

export function titleOf(al: LiveAlert): string {
  if (al.source === 'anomaly' && Object.hasOwn(al.annotations, 'summary')) return al.annotations.summary!;
  const summary = Object.hasOwn(al.annotations, 'summary') ? al.annotations.summary! : al.name;
  return `${al.service}: ${summary}`;
}

export function openGroup(tenant: string, al: LiveAlert, groupKey: string, now: number): Group {
  const incident: Incident = {
    id: stableId('inc', `${tenant}:${al.deliveryId ?? al.id}`),
    tenant,
    status: 'open',
    title: titleOf(al),
    services: [],
    alertIds: [],
    openedAt: al.startsAt,
    updatedAt: al.startsAt,
    peakScore: al.score,
  };
  return {
    incident, groupKey, services: new Set(), unknown: 0, live: new Set(), fingerprints: new Set(), ids: new Set(),
    lastActivity: al.lastSeen, lead: { timestamp: al.startsAt, score: al.score }, notice: freshNotice(now, 'opened'), emittedAt: -Infinity, heardAt: now,
  };
}

/** A group taken over from the store after a restart: its alerts are not known until they are delivered again. */
export function restoredGroup(inc: Incident, now: number): Group {
  const notice = freshNotice(now, 'opened');
  notice.notifiedAt = now; // it was live before the restart: do not announce it again as new
  return {
    incident: structuredClone(inc), groupKey: '', services: new Set(inc.services), unknown: 0, live: new Set(), fingerprints: new Set(), ids: new Set(inc.alertIds),
    lastActivity: inc.updatedAt, lead: { timestamp: inc.openedAt, score: inc.peakScore }, notice, emittedAt: -Infinity, heardAt: now,
  };
}

/** Adds a new alert to the incident record; false when the record already lists it (no news). */
export function recordAlert(g: Group, al: LiveAlert, opened: boolean): boolean {
  const inc = g.incident;
  if (g.ids.has(al.id)) return false;
  // In place: what leaves the correlator is a copy (incidentCopy), so this stays cheap in a storm.
  g.ids.add(al.id);
  inc.alertIds.push(al.id);
  if (!g.services.has(al.service)) {
    g.services.add(al.service);
    inc.services.push(al.service);
  }
  inc.peakScore = Math.max(inc.peakScore, al.score);
  if (!opened) inc.updatedAt = Math.max(inc.updatedAt, al.startsAt);
  // Alerts arrive in no particular order: the title follows the earliest evidence.
  if (al.startsAt < g.lead.timestamp || (al.startsAt === g.lead.timestamp && al.score > g.lead.score)) {
    g.lead = { timestamp: al.startsAt, score: al.score };
    inc.title = titleOf(al);
  }
  return true;
}

/** The record as it leaves the correlator: its own arrays, so later changes do not reach it. */
export function incidentCopy(g: Group): Incident {
  return { ...g.incident, services: [...g.incident.services], alertIds: [...g.incident.alertIds] };
}

export function acknowledge(g: Group, now: number): void {
  g.incident.status = 'acknowledged';
  g.incident.acknowledgedAt = now;
  g.incident.updatedAt = now;
}

export function resolve(g: Group, now: number): void {
  g.incident.status = 'resolved';
  g.incident.resolvedAt = now;
  g.incident.updatedAt = Math.max(g.incident.updatedAt, now);
  g.notice.resolvedPending = true;
}

export function reopen(g: Group, now: number): void {
  const inc = g.incident;
  inc.status = 'open';
  delete inc.resolvedAt;
  delete inc.acknowledgedAt;
  inc.updatedAt = Math.max(inc.updatedAt, now);
  g.notice = freshNotice(now, 'reopened');
}
