// POST /v1/metrics: JSON or protobuf, validated whole, then handed to the engine in one
// call. Nothing is logged per request at info level: this is the hot path.
import type { FastifyInstance } from 'fastify';
import { acceptedSchema, errorSchema, metricsBodySchema } from '../protocols/schemas.ts';
import { VigilError, type SeriesInput } from '../protocols/index.ts';
import type { VigilConfig } from '../cluster/index.ts';
import type { Engine } from './engine.ts';
import { checkSamples } from './samples-check.ts';

export function ingestRoutes(app: FastifyInstance, engine: Engine, ingest: VigilConfig['ingest']): void {
  app.post<{ Body: { series: SeriesInput[] } }>('/v1/metrics', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Ingest samples (application/json or application/x-protobuf MetricBatch)',
      body: metricsBodySchema,
      response: { 202: acceptedSchema, '4xx': errorSchema },
    },
    // after authentication (global onRequest hooks run first), before the body is read
    onRequest: async (request) => {
      if (engine.overloaded(request.tenant)) throw new VigilError('UNAVAILABLE', `tenant ${request.tenant} has too many samples waiting; retry later`);
    },
  }, async (request, reply) => {
    const series = request.body.series;
    checkSamples(series, { now: engine.now(), maxFutureSkewMs: ingest.maxFutureSkewMs, maxPastAgeMs: ingest.maxPastAgeMs });
    const { accepted } = await engine.ingest(request.tenant, series);
    return reply.code(202).send({ accepted });
  });
}
