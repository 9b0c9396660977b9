// Admin routes for `vigil ctl`: the supervision tree and restarting one actor.
import type { FastifyInstance } from 'fastify';
import { errorSchema, restartBodySchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';

export function adminRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/v1/admin/tree', {
    config: { auth: 'admin' },
    schema: { summary: 'Supervision tree snapshot (admin key)', response: { '4xx': errorSchema } },
  }, async () => engine.tree());

  app.post<{ Body: { path: string } }>('/v1/admin/restart', {
    config: { auth: 'admin' },
    schema: { summary: 'Restart the actor at a path (admin key)', body: restartBodySchema, response: { '4xx': errorSchema } },
  }, async (request) => {
    await engine.restart(request.body.path);
    return { restarted: request.body.path };
  });
}
