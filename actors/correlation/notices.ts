// When an incident's notification is due: Alertmanager's three timers, applied to incidents.
//   group_wait      a new (or reopened) incident is first notified this long after it opened,
//                   so the alerts of one fault that arrive in a burst go out in one message;
//   group_interval  after a notification, a change (an alert joining or clearing) is notified
//                   no sooner than this long after the last one;
//   repeat_interval an open, unacknowledged incident with no change is notified again after
//                   this long (an acknowledged one is not repeated: someone is on it).
// A resolution is notified at once, if the incident had been notified at all (an incident
// that resolved within group_wait was a blip nobody was told about, and is not).
// Incident state changes themselves (the store, the live stream, RCA) are never delayed:
// these timers only pace notifications.
import type { IncidentStatus, NotifyReason } from '../../protocols/index.ts';

export type { NotifyReason };

export interface Timing {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export interface Notice {
  /** when the incident opened or reopened (node clock) */
  since: number;
  first: 'opened' | 'reopened';
  notifiedAt?: number;
  /** changed since the last notification */
  dirty: boolean;
  /** resolved and not yet told */
  resolvedPending: boolean;
}

export function freshNotice(now: number, first: Notice['first']): Notice {
  return { since: now, first, dirty: false, resolvedPending: false };
}

/** The next notification of an incident: when, and why; undefined when none is coming. */
export function noticeDue(n: Notice, status: IncidentStatus, t: Timing): { at: number; reason: NotifyReason } | undefined {
  if (status === 'resolved') return n.resolvedPending && n.notifiedAt !== undefined ? { at: -Infinity, reason: 'resolved' } : undefined;
  if (n.notifiedAt === undefined) return { at: n.since + t.groupWaitMs, reason: n.first };
  if (n.dirty) return { at: n.notifiedAt + t.groupIntervalMs, reason: 'updated' };
  if (status === 'open') return { at: n.notifiedAt + t.repeatIntervalMs, reason: 'repeat' };
  return undefined;
}

export function noticeSent(n: Notice, now: number): void {
  n.notifiedAt = now;
  n.dirty = false;
  n.resolvedPending = false;
}
