// Does an incident match a runbook's trigger? Every field given must match; a trigger on
// the root cause waits for RCA (an incident without one does not match it yet).
import { stableId } from '../../protocols/index.ts';
import type { IncidentView } from './context.ts';
import type { Runbook, Trigger } from './runbook.ts';

const SEVERITY_RANK = { warning: 0, critical: 1 } as const;

export function triggerMatches(t: Trigger, incident: IncidentView): boolean {
  if (incident.status === 'resolved') return false;
  if (t.services && !t.services.some((s) => incident.services.includes(s))) return false;
  if (t.severity && SEVERITY_RANK[incident.severity] < SEVERITY_RANK[t.severity]) return false;
  if (t.labels && !t.labels.every(([k, v]) => incident.labels.some(([ik, iv]) => ik === k && iv === v))) return false;
  if (t.rootCause && (incident.rootCause === undefined || !t.rootCause.includes(incident.rootCause))) return false;
  return true;
}

/** The runbooks an incident's current state starts: enabled, matching, and not run for it yet. */
export function dueRunbooks(runbooks: Iterable<Runbook>, incident: IncidentView, ranFor: (runbookId: string) => boolean): Runbook[] {
  const out: Runbook[] = [];
  for (const rb of runbooks) if (rb.enabled && triggerMatches(rb.trigger, incident) && !ranFor(rb.id)) out.push(rb);
  return out;
}

/**
 * A triggered run's id, derived from what started it: the same incident never starts the same
 * runbook twice, whatever the order or repetition of the events that led there.
 */
export function triggeredRunId(tenant: string, runbookId: string, incidentId: string): string {
  return stableId('run', `${tenant}\u0000${runbookId}\u0000${incidentId}`);
}
