// GET /v1/series: read back the raw samples of one (service, metric), newest `limit`; with
// `step`, the newest `limit` buckets of that width (raw below a minute, else a rollup).
import type { FastifyInstance } from 'fastify';
import { errorSchema, MAX_SERIES_LIMIT, seriesQuerySchema, seriesSamplesSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { seriesQuery, type RawQuery } from './query.ts';

export function seriesRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Querystring: RawQuery & { service: string; metric: string } }>('/v1/series', {
    config: { auth: 'tenant' },
    schema: { summary: 'Samples of one service metric (all label sets merged, time order), raw or in step buckets', querystring: seriesQuerySchema, response: { 200: seriesSamplesSchema, '4xx': errorSchema } },
  }, async (request) => {
    const q = seriesQuery(request.query, MAX_SERIES_LIMIT);
    const answer = await engine.series(request.tenant, q);
    if (q.step === undefined) return { samples: answer.points }; // the raw shape, as before steps existed
    return { samples: answer.points, resolution: answer.resolution, step: answer.step ?? q.step, buckets: answer.buckets ?? [] };
  });
}
