// GET /v1/series: read back the raw samples of one (service, metric), newest `limit`; with
// `step`, the newest `limit` buckets of that width (raw below a minute, else a rollup).
// GET /v1/series/band: the same raw samples with the detector's expected value, score and
// band per sample (series-band.ts says what the band is).
import type { FastifyInstance } from 'fastify';
import { VigilError } from '../protocols/index.ts';
import { errorSchema, MAX_SERIES_LIMIT, seriesQuerySchema, seriesSamplesSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { seriesQuery, type RawQuery } from './query.ts';
import { BAND_DEVIATIONS, detectorBand } from './series-band.ts';

const { step: _step, ...bandParams } = seriesQuerySchema.properties;
const bandQuerySchema = { ...seriesQuerySchema, properties: bandParams };

const bandSchema = {
  type: 'object',
  required: ['points', 'sigma', 'deviations'],
  properties: {
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: ['t', 'value', 'expected', 'lower', 'upper', 'score'],
        properties: {
          t: { type: 'integer' }, value: { type: 'number' }, expected: { type: 'number', description: 'the detector\'s expected value for this sample' },
          lower: { type: 'number' }, upper: { type: 'number' }, score: { type: 'number', description: 'the detector\'s anomaly score for this sample, 0..1' },
        },
      },
    },
    sigma: { type: 'number', description: 'robust sigma (1.4826 × MAD) of value − expected over the answered samples, at least 1% of the median |expected|' },
    deviations: { type: 'number', description: 'lower/upper = expected ∓ deviations × sigma' },
  },
} as const;

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

  app.get<{ Querystring: RawQuery & { service: string; metric: string } }>('/v1/series/band', {
    config: { auth: 'tenant' },
    schema: {
      summary: 'Raw samples of one service metric with the detector\'s expected value, score and band per sample (newest `limit`, time order)',
      description: `The band is expected ∓ ${BAND_DEVIATIONS} robust sigma of the detector's residuals (value − expected) over the answered samples; `
        + 'the store keeps a score and an expected value per sample, no bounds. Samples the detector has not judged (none stored) are left out.',
      querystring: bandQuerySchema, response: { 200: bandSchema, '4xx': errorSchema },
    },
  }, async (request) => {
    if (!engine.scoredSamples) throw new VigilError('NOT_FOUND', 'this node keeps no detector scores');
    const q = seriesQuery(request.query, MAX_SERIES_LIMIT);
    return detectorBand(await engine.scoredSamples(request.tenant, q));
  });
}
