// GET /v1/anomalies and /v1/alerts: newest first, filtered, paged by an opaque cursor.
import type { FastifyInstance } from 'fastify';
import { alertsPageSchema, anomaliesPageSchema, errorSchema, eventQuerySchema, MAX_PAGE_LIMIT } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { eventQuery, type RawQuery } from './query.ts';

/** Alerts filter by incident too (the id an alert joined). */
const alertQuerySchema = {
  ...eventQuerySchema,
  properties: { ...eventQuerySchema.properties, incident: { type: 'string', minLength: 1, maxLength: 200, description: 'only the alerts that joined this incident' } },
} as const;

export function eventRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Querystring: RawQuery }>('/v1/anomalies', {
    config: { auth: 'tenant' },
    schema: { summary: 'Anomalies of the caller\'s tenant', querystring: eventQuerySchema, response: { 200: anomaliesPageSchema, '4xx': errorSchema } },
  }, async (request) => {
    const page = await engine.anomalies(request.tenant, eventQuery(request.query, MAX_PAGE_LIMIT));
    return { anomalies: page.items, next: page.next };
  });

  app.get<{ Querystring: RawQuery }>('/v1/alerts', {
    config: { auth: 'tenant' },
    schema: { summary: 'Alerts of the caller\'s tenant (`incident`: those of one incident)', querystring: alertQuerySchema, response: { 200: alertsPageSchema, '4xx': errorSchema } },
  }, async (request) => {
    const page = await engine.alerts(request.tenant, eventQuery(request.query, MAX_PAGE_LIMIT));
    return { alerts: page.items, next: page.next };
  });
}
