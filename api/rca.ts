// GET /v1/incidents/:id/rca: an incident's ranked root causes (actors/rca), tenant-scoped.
// 200 {status: "ready", ...IncidentRca} once computed; 200 {status: "pending", reason} while
// not (yet): the ranking runs a few seconds after alerts stop joining, and not at all at L3/L4;
// 404 for an incident the caller's tenant does not have.
import type { FastifyInstance } from 'fastify';
import { errorSchema, idParamsSchema } from '../protocols/schemas.ts';
import { VigilError, type Incident, type IncidentRca } from '../protocols/index.ts';
import type { Engine } from './engine.ts';

export type IncidentRcaView =
  | ({ status: 'ready' } & IncidentRca)
  | { status: 'pending'; tenant: string; incidentId: string; reason: string };

const evidenceSchema = {
  type: 'object',
  properties: {
    metric: { type: 'string' }, direction: { type: 'string', enum: ['up', 'down'] }, onset: { type: 'number' },
    peakAt: { type: 'number' }, deviation: { type: 'number' }, score: { type: 'number' },
  },
} as const;

export const incidentRcaSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['status', 'tenant', 'incidentId'],
  properties: {
    status: { type: 'string', enum: ['ready', 'pending'], description: 'ready: ranked; pending: not ranked yet (see reason)' },
    tenant: { type: 'string' }, incidentId: { type: 'string' },
    reason: { type: 'string', description: 'pending only: why there is no ranking yet' },
    level: { type: 'string', enum: ['L0', 'L1', 'L2'] },
    method: { type: 'string', enum: ['causal', 'correlation', 'rule'] },
    computedAt: { type: 'number' },
    alerts: { type: 'array', items: { type: 'string' }, description: 'the alerting services the ranking explains' },
    incidentUpdatedAt: { type: 'number' },
    candidates: { type: 'integer', description: 'services the alerts depend on, themselves included' },
    causes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          service: { type: 'string' }, rank: { type: 'integer' }, score: { type: 'number' }, onAnomalousPath: { type: 'boolean' },
          evidence: { type: 'array', items: evidenceSchema },
        },
      },
    },
    evidence: { type: 'object', properties: { rawSeries: { type: 'integer' }, eventSeries: { type: 'integer' } } },
  },
} as const;

/** Why an incident has no ranking yet, in words a caller can act on. */
export function pendingReason(incident: Incident, level: number, levelName: string): string {
  if (level >= 3) return `RCA is off at degradation level L${level} (${levelName}); the incident is ranked once the level is L2 or better`;
  if (incident.status === 'resolved') return 'the incident was resolved before it was ranked';
  return 'not ranked yet: ranking runs a few seconds after alerts stop joining the incident (at most 10 s after the first change)';
}

export function rcaRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Params: { id: string } }>('/v1/incidents/:id/rca', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'An incident\'s ranked root causes with their evidence (status "pending" until computed)',
      params: idParamsSchema,
      response: { 200: incidentRcaSchema, '4xx': errorSchema },
    },
  }, async (request): Promise<IncidentRcaView> => {
    const { id } = request.params;
    const found = await engine.incidentRca(request.tenant, id);
    if (!found) throw new VigilError('NOT_FOUND', `incident ${id} not found`);
    if (found.rca) return { status: 'ready', ...found.rca };
    const { level, levelName } = engine.status();
    return { status: 'pending', tenant: request.tenant, incidentId: id, reason: pendingReason(found.incident, level, levelName) };
  });
}
