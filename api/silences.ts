// Silences of the caller's tenant (Vigil's own shape: times in Unix ms): list, one, create,
// replace, expire. An active silence's matching alerts join no incident and are in no
// notification (actors/correlation/silences.ts). Every change is in the audit log.
// Alertmanager's shape of the same silences is at /api/v2/silences (api/alertmanager.ts).
import type { FastifyInstance } from 'fastify';
import { errorSchema, idParamsSchema } from '../protocols/schemas.ts';
import { VigilError } from '../protocols/index.ts';
import { MAX_MATCHER_VALUE, MAX_MATCHERS, type Matcher, type SilenceDraft, type SilenceView } from '../actors/correlation/index.ts';
import type { Engine } from './engine.ts';

const LABEL_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';
const ms = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000, description: 'Unix ms' } as const;

export const matcherSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: LABEL_NAME },
    value: { type: 'string', maxLength: MAX_MATCHER_VALUE },
    isRegex: { type: 'boolean', description: 'value is a regex matching the whole label value (default false)' },
    isEqual: { type: 'boolean', description: 'false negates: != or !~ (default true)' },
  },
} as const;

const matchersSchema = { type: 'array', minItems: 1, maxItems: MAX_MATCHERS, items: matcherSchema } as const;

export const silenceBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['matchers', 'endsAt'],
  properties: {
    matchers: matchersSchema,
    startsAt: { ...ms, description: 'Unix ms; default now (a time in the past means now)' },
    endsAt: ms,
    createdBy: { type: 'string', maxLength: 200, description: 'default: the caller (a key\'s hash prefix)' },
    comment: { type: 'string', maxLength: 1000 },
  },
} as const;

export const silenceSchema = {
  type: 'object',
  required: ['id', 'matchers', 'startsAt', 'endsAt', 'state'],
  properties: {
    id: { type: 'string' },
    matchers: { type: 'array', items: matcherSchema },
    startsAt: { type: 'integer' }, endsAt: { type: 'integer' }, updatedAt: { type: 'integer' },
    createdBy: { type: 'string' }, comment: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'active', 'expired'] },
  },
} as const;

const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { state: { type: 'string', enum: ['pending', 'active', 'expired'] } },
} as const;

interface SilenceBody {
  matchers: Array<Partial<Matcher> & { name: string; value: string }>;
  startsAt?: number;
  endsAt: number;
  createdBy?: string;
  comment?: string;
}

export function draftOf(body: SilenceBody, caller: string, id?: string): SilenceDraft {
  return {
    ...(id !== undefined ? { id } : {}),
    matchers: body.matchers.map((m) => ({ name: m.name, value: m.value, isRegex: m.isRegex ?? false, isEqual: m.isEqual ?? true })),
    ...(body.startsAt !== undefined ? { startsAt: body.startsAt } : {}),
    endsAt: body.endsAt,
    createdBy: body.createdBy ?? caller,
    comment: body.comment ?? '',
  };
}

function found(id: string, s: SilenceView | undefined): SilenceView {
  if (!s) throw new VigilError('NOT_FOUND', `silence ${id} not found`);
  return s;
}

export function silenceRoutes(app: FastifyInstance, engine: Engine): void {
  const one = { 200: silenceSchema, '4xx': errorSchema };
  type Id = { Params: { id: string } };

  app.get<{ Querystring: { state?: string } }>('/v1/silences', {
    config: { auth: 'tenant' },
    schema: { summary: 'Silences of the caller\'s tenant (expired ones stay listed for 5 days)', querystring: listQuerySchema, response: { 200: { type: 'object', required: ['silences'], properties: { silences: { type: 'array', items: silenceSchema } } }, '4xx': errorSchema } },
  }, async (request) => {
    const all = await engine.correlation.silences(request.tenant);
    const state = request.query.state;
    return { silences: state === undefined ? all : all.filter((s) => s.state === state) };
  });

  app.post<{ Body: SilenceBody }>('/v1/silences', {
    config: { auth: 'tenant' },
    schema: { summary: 'Create a silence: alerts its matchers all match join no incident until endsAt', body: silenceBodySchema, response: { 201: silenceSchema, '4xx': errorSchema } },
  }, async (request, reply) => reply.code(201).send(await engine.correlation.putSilence(request.tenant, draftOf(request.body, request.caller), request.caller)));

  app.get<Id>('/v1/silences/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'One silence', params: idParamsSchema, response: one },
  }, async (request) => found(request.params.id, await engine.correlation.silence(request.tenant, request.params.id)));

  app.put<Id & { Body: SilenceBody }>('/v1/silences/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'Change a pending or active silence (an active one keeps its start)', params: idParamsSchema, body: silenceBodySchema, response: one },
  }, async (request) => engine.correlation.putSilence(request.tenant, draftOf(request.body, request.caller, request.params.id), request.caller));

  app.delete<Id>('/v1/silences/:id', {
    config: { auth: 'tenant' },
    schema: { summary: 'Expire a silence now (it stays listed as expired)', params: idParamsSchema, response: one },
  }, async (request) => engine.correlation.expireSilence(request.tenant, request.params.id, request.caller));
}
