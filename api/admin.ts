// Admin routes for `vigil ctl`: the supervision tree, restarting one actor, the audit log.
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../protocols/index.ts';
import { errorSchema, restartBodySchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';

const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tenant: { type: 'string', minLength: 1, maxLength: 200, description: 'one tenant\'s entries; "-" for node-level entries only' },
    from: { type: 'string', pattern: '^[0-9]{1,15}$' },
    to: { type: 'string', pattern: '^[0-9]{1,15}$' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

export function adminRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/v1/admin/tree', {
    config: { auth: 'admin' },
    schema: { summary: 'Supervision tree snapshot (admin key)', response: { '4xx': errorSchema } },
  }, async () => engine.tree());

  app.post<{ Body: { path: string } }>('/v1/admin/restart', {
    config: { auth: 'admin' },
    schema: { summary: 'Restart the actor at a path (admin key)', body: restartBodySchema, response: { '4xx': errorSchema } },
  }, async (request) => {
    await engine.restart(request.body.path, request.caller);
    return { restarted: request.body.path };
  });

  app.get<{ Querystring: { tenant?: string; from?: string; to?: string; limit?: string; cursor?: string } }>('/v1/audit', {
    config: { auth: 'admin' },
    schema: {
      summary: 'The audit log, newest first (admin key): acks, resolves, topology changes, restarts; who, what, when, before and after',
      querystring: auditQuerySchema, response: { '4xx': errorSchema },
    },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw new VigilError('BAD_REQUEST', 'querystring.limit: must be between 1 and 1000');
    const page = await engine.audit({
      ...(q.tenant === undefined ? {} : { tenant: q.tenant === '-' ? null : q.tenant }),
      ...(q.from === undefined ? {} : { from: Number(q.from) }),
      ...(q.to === undefined ? {} : { to: Number(q.to) }),
      limit, ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    return { entries: page.items, ...(page.next ? { next: page.next } : {}) };
  });
}
