// What the on-call and the SRE team are told while the node is degraded, as plain JSON: the
// alerts passed straight through at L3/L4 (no correlation, no incident) and the node's
// entering and leaving L4. Pure: the deliverer (webhook.ts) only posts these.
import { stableId, type AnomalyEvent, type Direction, type Labels, type Severity, type Tier } from '../../protocols/index.ts';
import { CAPABILITIES, LEVEL_NAMES, type Level } from '../../supervisors/index.ts';

/** Who hears it: the on-call (L3 and L4 alerts) and the SRE team (L4 alerts, L4 entered/left). */
export type Audience = 'on_call' | 'sre';

/** The stages' face: where a degraded service sends what it finds instead of its correlator. */
export interface AlertNotifier {
  /** Anomalies found at `level` (L3, L4), straight to the notifier: no correlation, no incident. */
  passThrough(events: readonly AnomalyEvent[], level: Level): void;
}

export interface PassThroughAlert {
  /** the anomaly's id: a receiver deduplicates on it (delivery is at least once) */
  id: string;
  tenant: string;
  service: string;
  metric: string;
  labels: Labels;
  timestamp: number;
  value: number;
  expected: number;
  score: number;
  direction: Direction;
  tier: Tier;
  severity: Severity;
}

export interface AlertsNotice {
  type: 'alerts';
  /** derived from the alerts' ids: the same alerts always make the same notice */
  id: string;
  level: Level;
  levelName: string;
  /** how the alerts were found: 'rule' (L2, L3) or 'static' (L4), see actors/service/rules.ts */
  detection: string;
  alerts: PassThroughAlert[];
}

export interface LevelNotice {
  type: 'level';
  id: string;
  node: string;
  level: Level;
  levelName: string;
  from: Level;
  at: number;
  cause: string;
  down: string[];
  /** the public status page (GET /status on the node) */
  statusPage: string;
}

export type Notice = AlertsNotice | LevelNotice;

/** A score at or above this is critical (the correlator's DEFAULT_CRITICAL_SCORE; a static limit scores 1). */
export const CRITICAL_SCORE = 0.99;

function digest(parts: readonly string[]): string {
  return stableId('nt', parts.join('\0'));
}

export function alertsNotice(events: readonly AnomalyEvent[], level: Level): AlertsNotice {
  const alerts = events.map((e): PassThroughAlert => ({
    id: e.id, tenant: e.tenant, service: e.service, metric: e.metric, labels: e.labels, timestamp: e.timestamp,
    value: e.value, expected: e.expected, score: e.score, direction: e.direction, tier: e.tier,
    severity: e.score >= CRITICAL_SCORE ? 'critical' : 'warning',
  }));
  return {
    type: 'alerts', id: digest(alerts.map((a) => a.id)), level, levelName: LEVEL_NAMES[level],
    detection: CAPABILITIES[level].detection, alerts,
  };
}

export function levelNotice(node: string, change: { from: Level; to: Level; at: number; cause: string; down: readonly string[] }, statusPage: string): LevelNotice {
  return {
    type: 'level', id: digest([node, String(change.from), String(change.to), String(change.at)]), node,
    level: change.to, levelName: LEVEL_NAMES[change.to], from: change.from, at: change.at, cause: change.cause,
    down: [...change.down], statusPage,
  };
}

/** Who is told of alerts at `level`: nobody below L3 (they go through correlation), the on-call at L3, both at L4. */
export function alertAudiences(level: Level): Audience[] {
  const who = CAPABILITIES[level].notify;
  return who === 'sre_team' ? ['on_call', 'sre'] : who === 'on_call' ? ['on_call'] : [];
}

/** The SRE team hears of a level change when it enters or leaves L4 (emergency). */
export function tellsSre(change: { from: Level; to: Level }): boolean {
  return CAPABILITIES[change.to].notify === 'sre_team' || CAPABILITIES[change.from].notify === 'sre_team';
}
