// Incidents: list, one by id, and the two status changes an SRE makes.
import type { FastifyInstance } from 'fastify';
import {
  errorSchema, idParamsSchema, incidentQuerySchema, incidentSchema, incidentsPageSchema, MAX_PAGE_LIMIT,
} from '../protocols/schemas.ts';
import { VigilError, type Incident } from '../protocols/index.ts';
import type { Engine } from './engine.ts';
import { incidentQuery, type RawQuery } from './query.ts';

type IdParams = { Params: { id: string } };

function found(id: string, incident: Incident | undefined): Incident {
  if (!incident) throw new VigilError('NOT_FOUND', `incident ${id} not found`);
  return incident;
}

export function incidentRoutes(app: FastifyInstance, engine: Engine): void {
  const one = { 200: incidentSchema, '4xx': errorSchema };

  app.get<{ Querystring: RawQuery }>('/v1/incidents', {
    config: { auth: 'tenant' },
    schema: { summary: 'Incidents of the caller\'s tenant', querystring: incidentQuerySchema, response: { 200: incidentsPageSchema, '4xx': errorSchema } },
  }, async (request) => {
    const page = await engine.incidents(request.tenant, incidentQuery(request.query, MAX_PAGE_LIMIT));
    return { incidents: page.items, next: page.next };
  });

  app.get<IdParams>('/v1/incidents/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'One incident', params: idParamsSchema, response: one },
  }, async (request) => found(request.params.id, await engine.incident(request.tenant, request.params.id)));

  app.post<IdParams>('/v1/incidents/:id/ack', {
    config: { auth: 'tenant' },
    schema: { summary: 'Acknowledge an incident', params: idParamsSchema, response: one },
  }, async (request) => found(request.params.id, await engine.setIncidentStatus(request.tenant, request.params.id, 'acknowledged', request.caller)));

  app.post<IdParams>('/v1/incidents/:id/resolve', {
    config: { auth: 'tenant' },
    schema: { summary: 'Resolve an incident', params: idParamsSchema, response: one },
  }, async (request) => found(request.params.id, await engine.setIncidentStatus(request.tenant, request.params.id, 'resolved', request.caller)));
}
