// Admin routes of resilience: fault injection (tests, the simulator, chaos engineers), the
// operator's level override and breaker commands (`vigil ctl degrade`, `vigil ctl breaker`).
import type { FastifyInstance } from 'fastify';
import {
  breakerCommandBodySchema, breakerNameParamsSchema, degradeBodySchema, errorSchema, faultBodySchema, statusSchema,
} from '../protocols/schemas.ts';
import type { Engine, FaultRequest } from './engine.ts';

export function faultRoutes(app: FastifyInstance, engine: Engine): void {
  app.post<{ Body: FaultRequest }>('/v1/admin/faults', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Inject a fault into a dependency for durationMs (admin key): its calls fail, slow down or hang, and the node degrades as for a real outage',
      body: faultBodySchema, response: { 200: statusSchema, '4xx': errorSchema },
    },
  }, async (request) => engine.injectFault(request.body, request.caller));

  app.delete('/v1/admin/faults', {
    config: { auth: 'admin' },
    schema: { summary: 'End every injected fault now (admin key); the level recovers by itself after its dwell', response: { '4xx': errorSchema } },
  }, async (request) => ({ cleared: await engine.clearFaults(request.caller) }));

  app.post<{ Body: { level: number; durationMs: number } }>('/v1/admin/degrade', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Hold the degradation level at least at `level` for durationMs (admin key); level 0 drops the override',
      body: degradeBodySchema, response: { 200: statusSchema, '4xx': errorSchema },
    },
  }, async (request) => engine.degrade(request.body.level, request.body.durationMs, request.caller));

  app.post<{ Params: { name: string }; Body: { command: string } }>('/v1/admin/breakers/:name', {
    config: { auth: 'admin' },
    schema: {
      summary: 'Force a node breaker open, close it, or disable it (admin key)',
      params: breakerNameParamsSchema, body: breakerCommandBodySchema, response: { '4xx': errorSchema },
    },
  }, async (request) => ({ name: request.params.name, state: await engine.commandBreaker(request.params.name, request.body.command, request.caller) }));
}
