// What a run knows when it fills a template or tests a condition: the incident as it is
// now, the run and runbook, and what earlier steps got back. Templates are `{{path}}` and
// nothing else: no expressions, no code, so a runbook cannot do more than read these fields.
import type { IncidentStatus, Severity } from '../../protocols/index.ts';
import type { JsonValue } from './runbook.ts';

/** An incident with what its alerts and its RCA add, as triggers and templates see it. */
export interface IncidentView {
  id: string;
  tenant: string;
  title: string;
  status: IncidentStatus;
  services: string[];
  /** the most severe of its alerts */
  severity: Severity;
  /** the label pairs its alerts carry */
  labels: Array<[string, string]>;
  /** the top-ranked root cause, once RCA has one */
  rootCause?: string;
  peakScore: number;
  openedAt: number;
  alertCount: number;
}

/** What one earlier step left for later ones. */
export interface StepOutput {
  outcome: string;
  /** an HTTP step's answer status */
  status?: number;
  /** an HTTP step's answer body (JSON when it was JSON, else text) */
  body?: JsonValue;
  /** a condition's result */
  result?: boolean;
}

export interface RunContext {
  incident: IncidentView;
  run: { id: string; dryRun: boolean };
  runbook: { id: string; name: string; version: number };
  steps: ReadonlyMap<string, StepOutput>;
}

const INCIDENT_FIELDS = ['id', 'tenant', 'title', 'status', 'services', 'severity', 'rootCause', 'peakScore', 'openedAt', 'alertCount'] as const;
const STEP_FIELDS = ['outcome', 'status', 'body', 'result'] as const;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Why `path` cannot be read by a runbook whose earlier steps are `earlier`, or undefined when it can. */
export function checkPath(path: string, earlier: ReadonlySet<string>): string | undefined {
  const parts = path.split('.');
  if (!parts.every((p) => SEGMENT.test(p))) return `"${path}" is not a field path (names of letters, digits, "_" or "-" joined by ".")`;
  const [root, a, b] = parts;
  switch (root) {
    case 'incident':
      if (a === 'labels') return parts.length === 3 ? undefined : `"${path}": name one label, e.g. incident.labels.env`;
      return parts.length === 2 && (INCIDENT_FIELDS as readonly string[]).includes(a!)
        ? undefined : `"${path}": incident has ${[...INCIDENT_FIELDS, 'labels.<name>'].join(', ')}`;
    case 'run':
      return parts.length === 2 && (a === 'id' || a === 'dryRun') ? undefined : `"${path}": run has id, dryRun`;
    case 'runbook':
      return parts.length === 2 && (a === 'id' || a === 'name' || a === 'version') ? undefined : `"${path}": runbook has id, name, version`;
    case 'steps':
      if (a === undefined || !earlier.has(a)) return `"${path}": steps.<id> must name an earlier step (${[...earlier].join(', ') || 'none before this one'})`;
      if (b === 'body') return undefined;
      return parts.length === 3 && (STEP_FIELDS as readonly string[]).includes(b!) ? undefined : `"${path}": a step has ${STEP_FIELDS.join(', ')} (body.<field> reads into a JSON answer)`;
    default:
      return `"${path}" must start with incident., run., runbook. or steps.`;
  }
}

/** The value at `path` (checked by checkPath), or undefined when it is not there (yet). */
export function resolvePath(path: string, ctx: RunContext): JsonValue | undefined {
  const parts = path.split('.');
  const [root, a, b] = parts;
  switch (root) {
    case 'incident': {
      if (a === 'labels') return ctx.incident.labels.find(([k]) => k === b)?.[1];
      const v = fieldOf(ctx.incident, a!);
      return v;
    }
    case 'run':
      return a === 'id' ? ctx.run.id : a === 'dryRun' ? ctx.run.dryRun : undefined;
    case 'runbook':
      return a === 'id' ? ctx.runbook.id : a === 'name' ? ctx.runbook.name : a === 'version' ? ctx.runbook.version : undefined;
    case 'steps': {
      const out = ctx.steps.get(a!);
      if (!out) return undefined;
      if (b === 'body') return walk(out.body, parts.slice(3));
      return b === 'outcome' ? out.outcome : b === 'status' ? out.status : b === 'result' ? out.result : undefined;
    }
    default:
      return undefined;
  }
}

function fieldOf(view: IncidentView, field: string): JsonValue | undefined {
  switch (field) {
    case 'id': return view.id;
    case 'tenant': return view.tenant;
    case 'title': return view.title;
    case 'status': return view.status;
    case 'services': return [...view.services];
    case 'severity': return view.severity;
    case 'rootCause': return view.rootCause;
    case 'peakScore': return view.peakScore;
    case 'openedAt': return view.openedAt;
    case 'alertCount': return view.alertCount;
    default: return undefined;
  }
}

/** Reads into a JSON value by own keys and array indexes only. */
function walk(v: JsonValue | undefined, path: string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = v;
  for (const key of path) {
    if (Array.isArray(cur)) cur = /^[0-9]+$/.test(key) ? cur[Number(key)] : undefined;
    else if (cur !== null && typeof cur === 'object') cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
    else return undefined;
  }
  return cur;
}
