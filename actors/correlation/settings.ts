// A correlator's settings and their defaults (the node's `correlation.*` keys). The four
// first fields were the time-based correlator's; the rest are optional so a caller that
// names only those gets the defaults below.
import type { InhibitRule } from './inhibition.ts';

export interface CorrelationSettings {
  /** alerts this close (data time) to an incident's last activity may join it */
  windowMs: number;
  /** an alert raised from anomalies clears when its series has had none for this long */
  autoResolveMs: number;
  /** anomalies scoring below this raise no alert */
  minAlertScore: number;
  /** alerts at or above this score are critical, the rest warnings */
  criticalScore: number;
  /** topology grouping: services within this many hops of an incident's services join it */
  hops?: number;
  /** label grouping: alerts with equal values of these labels join one incident (none: off) */
  groupBy?: string[];
  /** a new incident's first notification waits this long, so the burst of one fault goes out together */
  groupWaitMs?: number;
  /** after a notification, changes (alerts joining or clearing) wait at least this long for the next */
  groupIntervalMs?: number;
  /** an open, unacknowledged incident with no change is notified again after this long */
  repeatIntervalMs?: number;
  /** an Alertmanager alert sent without endsAt clears after this long unless sent again */
  resolveTimeoutMs?: number;
  /** a resolved incident reopens when one of its alerts fires again within this long */
  reopenMs?: number;
  /** root alerts that mute their symptoms */
  inhibitRules?: InhibitRule[];
  /** an incident of more than 100 alerts whose alerts change is written out at most this often (status changes, and small incidents, at once) */
  incidentUpdateMs?: number;
  /** live alerts a tenant may hold; new ones beyond are refused */
  maxAlerts?: number;
  /** silences a tenant may hold (expired ones count until their retention ends) */
  maxSilences?: number;
}

export type FullSettings = Required<CorrelationSettings>;

export const DEFAULT_CRITICAL_SCORE = 0.99;
export const DEFAULT_HOPS = 2;
/** Alertmanager's defaults for group_wait, group_interval, repeat_interval and resolve_timeout. */
export const DEFAULT_GROUP_WAIT_MS = 30_000;
export const DEFAULT_GROUP_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 3600_000;
export const DEFAULT_RESOLVE_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_REOPEN_MS = 3600_000;
/** Incident states a storm writes: one a second per incident rather than one per alert. */
export const DEFAULT_INCIDENT_UPDATE_MS = 1_000;
/** Enough for a storm of 10,000 alerts with room to spare; a few KB each. */
export const DEFAULT_MAX_ALERTS = 50_000;
export const DEFAULT_MAX_SILENCES = 1_000;

export function fullSettings(s: CorrelationSettings): FullSettings {
  return {
    windowMs: s.windowMs,
    autoResolveMs: s.autoResolveMs,
    minAlertScore: s.minAlertScore,
    criticalScore: s.criticalScore,
    hops: s.hops ?? DEFAULT_HOPS,
    groupBy: s.groupBy ?? [],
    groupWaitMs: s.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS,
    groupIntervalMs: s.groupIntervalMs ?? DEFAULT_GROUP_INTERVAL_MS,
    repeatIntervalMs: s.repeatIntervalMs ?? DEFAULT_REPEAT_INTERVAL_MS,
    resolveTimeoutMs: s.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS,
    reopenMs: s.reopenMs ?? DEFAULT_REOPEN_MS,
    inhibitRules: s.inhibitRules ?? [],
    incidentUpdateMs: s.incidentUpdateMs ?? DEFAULT_INCIDENT_UPDATE_MS,
    maxAlerts: s.maxAlerts ?? DEFAULT_MAX_ALERTS,
    maxSilences: s.maxSilences ?? DEFAULT_MAX_SILENCES,
  };
}
