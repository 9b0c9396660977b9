// A runbook as Vigil holds it once its YAML is checked (schema.ts): when it fires (the
// trigger) and what it does (steps). Labels and headers are lists of pairs, never plain
// objects indexed by a client's string, so a label called `__proto__` is just a label.
import type { JsonValue, Severity } from '../../protocols/index.ts';

export type { JsonValue };

/** An incident matches when every field given matches (fields absent match anything). */
export interface Trigger {
  /** one of these services is among the incident's */
  services?: string[];
  /** each pair is carried by at least one of the incident's alerts */
  labels?: Array<[string, string]>;
  /** at least this severe: `warning` matches every incident, `critical` only critical ones */
  severity?: Severity;
  /** the top-ranked root cause (RCA) is one of these services */
  rootCause?: string[];
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** A request a step sends; url, header values and string leaves of body may hold {{templates}}. */
export interface RequestTemplate {
  method: HttpMethod;
  url: string;
  headers: Array<[string, string]>;
  body?: JsonValue;
}

/** What a condition tests: a field of the run's context against a value. */
export type Predicate =
  | { all: Predicate[] }
  | { any: Predicate[] }
  | { not: Predicate }
  | { field: string; op: CompareOp; value: JsonValue };

export type CompareOp = 'equals' | 'notEquals' | 'in' | 'notIn' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';
export const COMPARE_OPS: readonly CompareOp[] = ['equals', 'notEquals', 'in', 'notIn', 'contains', 'gt', 'gte', 'lt', 'lte', 'exists'];

interface StepBase {
  /** unique in the runbook; `steps.<id>` in templates and conditions names it */
  id: string;
  /** needs an operator's approval before it runs */
  destructive: boolean;
  /** a failure of this step does not end the run */
  continueOnError: boolean;
}

/**
 * The kinds of step. `scale` and `restart` are webhooks with a fixed body (the platform that
 * scales or restarts is behind the URL); `notify` without a URL goes to the live stream only.
 */
export type Step = StepBase & (
  | { kind: 'webhook'; request: RequestTemplate }
  | { kind: 'scale'; request: RequestTemplate }
  | { kind: 'restart'; request: RequestTemplate }
  | { kind: 'notify'; message: string; request?: RequestTemplate }
  | { kind: 'wait'; ms: number }
  | { kind: 'condition'; when: Predicate; otherwise: 'stop' | 'fail' }
);

export type StepKind = Step['kind'];
export const STEP_KINDS: readonly StepKind[] = ['webhook', 'notify', 'wait', 'condition', 'scale', 'restart'];

export interface Runbook {
  id: string;
  tenant: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** every run only describes what it would do */
  dryRun: boolean;
  trigger: Trigger;
  steps: Step[];
  /** 1 on create, +1 on every update (a run names the version it ran) */
  version: number;
  updatedAt: number;
  /** the YAML as given (what GET answers, comments included) */
  source: string;
}

/** Does this step send an HTTP request? */
export function requestOf(step: Step): RequestTemplate | undefined {
  switch (step.kind) {
    case 'webhook':
    case 'scale':
    case 'restart':
      return step.request;
    case 'notify':
      return step.request;
    default:
      return undefined;
  }
}
