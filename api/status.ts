// GET /v1/status: the node's degradation level and breakers. Any valid key may read it (a
// tenant's clients should know the node is degraded); the admin key also sees which
// dependencies are down, the override and the injected faults.
import type { FastifyInstance } from 'fastify';
import { errorSchema, statusSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { statusPageRoutes } from './status-page.ts';

export function statusRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/v1/status', {
    config: { auth: 'any' },
    schema: {
      summary: 'Degradation level (0 full .. 4 emergency) and the node\'s breakers; the admin key also sees dependencies, override and faults',
      response: { 200: statusSchema, '4xx': errorSchema },
    },
  }, async (request) => {
    const s = engine.status();
    if (request.caller === 'admin') return s;
    return { level: s.level, levelName: s.levelName, since: s.since, breakers: s.breakers };
  });
  statusPageRoutes(app, engine); // the public face of the same level
}
