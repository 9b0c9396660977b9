// Query strings arrive as text; the schemas allow digit strings only where a number is
// meant, and these turn them into the engine's query shapes.
import { VigilError } from '../protocols/index.ts';
import { MAX_SERIES_STEP_MS } from '../protocols/schemas.ts';
import type { IncidentStatus } from '../protocols/index.ts';
import type { EventQuery, IncidentQuery, SeriesQuery } from './engine.ts';

export const DEFAULT_LIMIT = 100;

export interface RawQuery {
  service?: string;
  metric?: string;
  status?: string;
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
  step?: string;
  incident?: string;
}

function int(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : Number(raw);
}

function limit(raw: string | undefined, max: number, dflt: number): number {
  const n = int(raw) ?? dflt;
  if (n < 1 || n > max) throw new VigilError('BAD_REQUEST', `querystring.limit: must be between 1 and ${max}`);
  return n;
}

/** The latest time a JavaScript Date holds; the schema's 16 digits reach past it (and past 2^53, which the store refuses with an error). */
export const MAX_TIME_MS = 8_640_000_000_000_000;

function time(raw: string | undefined, name: 'from' | 'to'): number | undefined {
  const n = int(raw);
  if (n !== undefined && n > MAX_TIME_MS) throw new VigilError('BAD_REQUEST', `querystring.${name}: must be a Unix ms time up to ${MAX_TIME_MS}`);
  return n;
}

function range(q: RawQuery): { from?: number; to?: number } {
  const from = time(q.from, 'from');
  const to = time(q.to, 'to');
  if (from !== undefined && to !== undefined && from > to) throw new VigilError('BAD_REQUEST', 'querystring: from is after to');
  return { from, to };
}

export function eventQuery(q: RawQuery, max: number): EventQuery {
  const query: EventQuery = { ...range(q), service: q.service, metric: q.metric, limit: limit(q.limit, max, DEFAULT_LIMIT), cursor: q.cursor };
  if (q.incident !== undefined) query.incident = q.incident;
  return query;
}

export function incidentQuery(q: RawQuery, max: number): IncidentQuery {
  return {
    ...range(q), status: q.status as IncidentStatus | undefined, service: q.service,
    limit: limit(q.limit, max, DEFAULT_LIMIT), cursor: q.cursor,
  };
}

export function seriesQuery(q: RawQuery & { service: string; metric: string }, max: number): SeriesQuery {
  const query: SeriesQuery = { ...range(q), service: q.service, metric: q.metric, limit: limit(q.limit, max, max) };
  const step = int(q.step);
  if (step !== undefined) {
    if (step < 1 || step > MAX_SERIES_STEP_MS) throw new VigilError('BAD_REQUEST', `querystring.step: must be a bucket width in ms between 1 and ${MAX_SERIES_STEP_MS}`);
    query.step = step;
  }
  return query;
}
