// Liveness, readiness and the Prometheus scrape. These are public: an orchestrator and
// a scraper carry no tenant key. /metrics holds tenant ids as label values only.
import type { FastifyInstance } from 'fastify';
import type { Engine } from './engine.ts';

export function healthRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/healthz', { config: { auth: 'public' }, schema: { summary: 'Liveness: 200 while the process serves' } },
    async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'public' }, schema: { summary: 'Readiness: 200 when the node takes traffic, else 503' } },
    async (_request, reply) => {
      const ready = engine.ready();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
    });

  app.get('/metrics', { config: { auth: 'public' }, schema: { summary: 'Prometheus metrics (text exposition)' } },
    async (_request, reply) => {
      const text = await engine.metrics.metrics();
      return reply.type(engine.metrics.contentType).send(text);
    });
}
