// POST /v1/metrics: JSON or protobuf, validated whole, then handed to the engine in one
// call. Nothing is logged per request at info level: this is the hot path.
import type { FastifyInstance } from 'fastify';
import { acceptedSchema, errorSchema, metricsBodySchema } from '../protocols/schemas.ts';
import { VigilError, type SeriesInput } from '../protocols/index.ts';
import type { VigilConfig } from '../cluster/index.ts';
import type { Engine } from './engine.ts';
import { checkSamples } from './samples-check.ts';
import type { QuotaGate } from './tenancy/index.ts';

export function ingestRoutes(app: FastifyInstance, engine: Engine, ingest: VigilConfig['ingest'], quotas?: QuotaGate): void {
  app.post<{ Body: { series: SeriesInput[] } }>('/v1/metrics', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Ingest samples (application/json or application/x-protobuf MetricBatch)',
      body: metricsBodySchema,
      response: { 202: acceptedSchema, '4xx': errorSchema },
    },
    // after authentication (global onRequest hooks run first), before the body is read
    onRequest: async (request) => {
      const busy = engine.overloaded(request.tenant);
      if (busy !== undefined) throw new VigilError('UNAVAILABLE', busy);
      quotas?.precheck(request.tenant); // a tenant whose bucket is empty is refused before its body is read
    },
  }, async (request, reply) => {
    const series = request.body.series;
    checkSamples(series, { now: engine.now(), maxFutureSkewMs: ingest.maxFutureSkewMs, maxPastAgeMs: ingest.maxPastAgeMs });
    const ingestNow = () => engine.ingest(request.tenant, series);
    const { accepted } = quotas ? await quotas.admit(request.tenant, sampleCount(series), ingestNow) : await ingestNow();
    return reply.code(202).send({ accepted });
  });
}

export function sampleCount(series: readonly SeriesInput[]): number {
  let n = 0;
  for (const s of series) n += s.samples.length;
  return n;
}
