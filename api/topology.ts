// The tenant's service topology: PUT replaces it whole, GET reads it back.
import type { FastifyInstance } from 'fastify';
import { errorSchema, topologyBodySchema, topologyPutResultSchema, topologySchema } from '../protocols/schemas.ts';
import type { Topology } from '../protocols/index.ts';
import type { Engine } from './engine.ts';

export function topologyRoutes(app: FastifyInstance, engine: Engine): void {
  app.put<{ Body: Topology }>('/v1/topology', {
    config: { auth: 'tenant' },
    schema: { summary: 'Replace the service topology', body: topologyBodySchema, response: { 200: topologyPutResultSchema, '4xx': errorSchema } },
  }, async (request) => {
    await engine.putTopology(request.tenant, request.body, request.caller);
    let dependencies = 0;
    for (const s of request.body.services) dependencies += s.dependsOn.length;
    return { services: request.body.services.length, dependencies };
  });

  app.get('/v1/topology', {
    config: { auth: 'tenant' },
    schema: { summary: 'The service topology', response: { 200: topologySchema, '4xx': errorSchema } },
  }, async (request) => engine.getTopology(request.tenant));
}
