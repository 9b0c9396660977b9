// Liveness, readiness and the Prometheus scrape. These are public: an orchestrator and
// a scraper carry no tenant key. /metrics shows node-level figures to anyone; the same
// counts by tenant (`vigil_tenant_*`) only to a scraper that sends the admin key.
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { authorize } from './auth.ts';
import { bearerKey, type KeyRing } from './keys.ts';
import type { Engine } from './engine.ts';

export function healthRoutes(app: FastifyInstance, engine: Engine, keys: KeyRing): void {
  app.get('/healthz', { config: { auth: 'public' }, schema: { summary: 'Liveness: 200 while the process serves' } },
    async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'public' }, schema: { summary: 'Readiness: 200 when the node takes traffic, else 503' } },
    async (_request, reply) => {
      const ready = engine.ready();
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
    });

  app.get('/metrics', {
    config: { auth: 'public' },
    schema: { summary: 'Prometheus metrics (text exposition); with the admin key (Authorization: Bearer) also the per-tenant series' },
  }, async (request, reply) => {
    const key = bearerKey(request.headers.authorization);
    // a key that is sent must be the admin's: a scraper with a wrong one should find out
    const admin = key !== undefined && authorize(keys, key, 'admin') !== undefined;
    const registry = admin ? Registry.merge([engine.metrics, engine.tenantMetrics]) : engine.metrics;
    const text = await registry.metrics();
    return reply.type(engine.metrics.contentType).send(text);
  });
}
