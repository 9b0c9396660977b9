// GET /v1/series: read back the raw samples of one (service, metric), newest `limit`.
import type { FastifyInstance } from 'fastify';
import { errorSchema, MAX_SERIES_LIMIT, seriesQuerySchema, seriesSamplesSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { seriesQuery, type RawQuery } from './query.ts';

export function seriesRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Querystring: RawQuery & { service: string; metric: string } }>('/v1/series', {
    config: { auth: 'tenant' },
    schema: { summary: 'Samples of one service metric (all label sets merged, time order)', querystring: seriesQuerySchema, response: { 200: seriesSamplesSchema, '4xx': errorSchema } },
  }, async (request) => ({ samples: await engine.series(request.tenant, seriesQuery(request.query, MAX_SERIES_LIMIT)) }));
}
