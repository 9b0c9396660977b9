// Alertmanager's API v2 shapes (postableAlert, gettableAlert, postableSilence, gettableSilence)
// as JSON schemas, and the mapping between them and Vigil's: times are RFC 3339 text there
// and Unix ms here; Go's zero time ("0001-01-01T00:00:00Z") means "not set".
import { VigilError, type AlertView } from '../protocols/index.ts';
import type { ExternalAlert, Silence, SilenceDraft, SilenceView } from '../actors/correlation/index.ts';
import { matcherSchema } from './silences.ts';

/** Alerts one POST may carry (Prometheus sends at most 64 per request by default). */
export const MAX_POSTED_ALERTS = 10_000;
/** The receiver every alert is listed with: Vigil itself. */
export const RECEIVER = 'vigil';

const labelSet = {
  type: 'object',
  maxProperties: 64,
  propertyNames: { maxLength: 128, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: { type: 'string', maxLength: 4096 },
} as const;
const time = { type: 'string', maxLength: 64, description: 'RFC 3339 date-time' } as const;

export const postableAlertsSchema = {
  type: 'array',
  maxItems: MAX_POSTED_ALERTS,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['labels'],
    properties: {
      labels: { ...labelSet, minProperties: 1 },
      annotations: labelSet,
      startsAt: time,
      endsAt: time,
      generatorURL: { type: 'string', maxLength: 4096 },
    },
  },
} as const;

const statusOf = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['active', 'suppressed', 'unprocessed'] },
    silencedBy: { type: 'array', items: { type: 'string' } },
    inhibitedBy: { type: 'array', items: { type: 'string' } },
    mutedBy: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const gettableAlertsSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
      startsAt: { type: 'string' }, endsAt: { type: 'string' }, updatedAt: { type: 'string' },
      generatorURL: { type: 'string' }, fingerprint: { type: 'string' },
      receivers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
      status: statusOf,
    },
  },
} as const;

const bool = { type: 'string', enum: ['true', 'false'] } as const;
const filter = {
  anyOf: [{ type: 'string', maxLength: 2000 }, { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 2000 } }],
  description: 'a matcher, e.g. alertname="X" (repeat for more)',
} as const;

export const alertsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { active: bool, silenced: bool, inhibited: bool, unprocessed: bool, filter, receiver: { type: 'string', maxLength: 200 } },
} as const;

export const silencesQuerySchema = { type: 'object', additionalProperties: false, properties: { filter } } as const;

export const postableSilenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['matchers', 'startsAt', 'endsAt', 'createdBy', 'comment'],
  properties: {
    id: { type: 'string', maxLength: 200 },
    matchers: { type: 'array', minItems: 1, maxItems: 64, items: matcherSchema },
    startsAt: time, endsAt: time,
    createdBy: { type: 'string', maxLength: 200 },
    comment: { type: 'string', maxLength: 1000 },
  },
} as const;

export const gettableSilenceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'object', properties: { state: { type: 'string', enum: ['expired', 'active', 'pending'] } } },
    updatedAt: { type: 'string' },
    matchers: { type: 'array', items: matcherSchema },
    startsAt: { type: 'string' }, endsAt: { type: 'string' },
    createdBy: { type: 'string' }, comment: { type: 'string' },
  },
} as const;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface PostableSilence {
  id?: string;
  matchers: Array<{ name: string; value: string; isRegex?: boolean; isEqual?: boolean }>;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** RFC 3339 text → Unix ms; undefined for absent or Go's zero time; BAD_REQUEST for anything else. */
export function parseTime(text: string | undefined, where: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const t = Date.parse(text);
  if (!Number.isFinite(t) || !/^\d{4}-\d\d-\d\dT/.test(text)) throw new VigilError('BAD_REQUEST', `${where}: ${JSON.stringify(text)} is not an RFC 3339 date-time`);
  return t <= 0 ? undefined : t; // before 1970: Go's zero time, "not set"
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function externalAlerts(body: readonly PostableAlert[]): ExternalAlert[] {
  return body.map((a, i) => {
    const startsAt = parseTime(a.startsAt, `[${i}].startsAt`);
    const endsAt = parseTime(a.endsAt, `[${i}].endsAt`);
    return {
      labels: a.labels,
      annotations: a.annotations ?? {},
      ...(startsAt !== undefined ? { startsAt } : {}),
      ...(endsAt !== undefined ? { endsAt } : {}),
      ...(a.generatorURL !== undefined ? { generatorURL: a.generatorURL } : {}),
    };
  });
}

export function gettableAlert(v: AlertView): Record<string, unknown> {
  return {
    labels: v.labels, annotations: v.annotations,
    startsAt: iso(v.startsAt), endsAt: iso(v.endsAt), updatedAt: iso(v.updatedAt),
    generatorURL: v.generatorURL ?? '', fingerprint: v.fingerprint,
    receivers: [{ name: RECEIVER }],
    status: { state: v.state, silencedBy: v.silencedBy, inhibitedBy: v.inhibitedBy, mutedBy: [] },
  };
}

export function silenceDraft(s: PostableSilence): SilenceDraft {
  const startsAt = parseTime(s.startsAt, 'startsAt');
  const endsAt = parseTime(s.endsAt, 'endsAt');
  if (endsAt === undefined) throw new VigilError('BAD_REQUEST', 'endsAt: a silence needs an end');
  return {
    ...(s.id !== undefined && s.id !== '' ? { id: s.id } : {}),
    matchers: s.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex ?? false, isEqual: m.isEqual ?? true })),
    ...(startsAt !== undefined ? { startsAt } : {}),
    endsAt,
    createdBy: s.createdBy,
    comment: s.comment,
  };
}

export function gettableSilence(s: SilenceView | (Silence & { state: string })): Record<string, unknown> {
  return {
    id: s.id, status: { state: s.state }, updatedAt: iso(s.updatedAt),
    matchers: s.matchers, startsAt: iso(s.startsAt), endsAt: iso(s.endsAt), createdBy: s.createdBy, comment: s.comment,
  };
}
