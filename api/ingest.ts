// POST /v1/metrics: JSON or protobuf, validated whole, then handed to the engine in one
// call. Nothing is logged per request at info level: this is the hot path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptedSchema, errorSchema, metricsBodySchema } from '../protocols/schemas.ts';
import { sampleCount, VigilError, type SeriesInput } from '../protocols/index.ts';
import type { VigilConfig } from '../cluster/index.ts';
import type { Engine } from './engine.ts';
import { checkSamples } from './samples-check.ts';
import { sendError } from './errors.ts';
import type { QuotaGate } from './tenancy/index.ts';

export const INGEST_PATH = '/v1/metrics';

export function ingestRoutes(app: FastifyInstance, engine: Engine, ingest: VigilConfig['ingest'], quotas?: QuotaGate): void {
  app.post<{ Body: { series: SeriesInput[] } }>(INGEST_PATH, {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Ingest samples (application/json or application/x-protobuf MetricBatch)',
      body: metricsBodySchema,
      response: { 202: acceptedSchema, '4xx': errorSchema },
    },
    onRequest: refuseBeforeBody(engine, quotas),
  }, async (request, reply) => {
    const series = request.body.series;
    checkSamples(series, { now: engine.now(), maxFutureSkewMs: ingest.maxFutureSkewMs, maxPastAgeMs: ingest.maxPastAgeMs });
    const ingestNow = () => engine.ingest(request.tenant, series);
    const { accepted } = quotas ? await quotas.admit(request.tenant, sampleCount(series), ingestNow) : await ingestNow();
    return reply.code(202).send({ accepted });
  });
}

/**
 * An ingest route's onRequest hook: after authentication (global onRequest hooks run first),
 * before the body is read, it answers 503 to an overloaded node and 429 to a tenant whose
 * bucket is known to be empty, so neither costs a body read and decode. Over a socket the 429
 * mostly comes earlier still, from the server's listener (early-refusal.ts); this hook gives
 * it to what comes without one (inject) or slips past there.
 */
export function refuseBeforeBody(engine: Engine, quotas: QuotaGate | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const busy = engine.overloaded(request.tenant);
    if (busy !== undefined) throw new VigilError('UNAVAILABLE', busy);
    const refusal = quotas?.refusalBeforeBody(request.tenant);
    return refusal ? sendError(request, reply, refusal) : undefined;
  };
}
