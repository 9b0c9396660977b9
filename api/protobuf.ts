// The application/x-protobuf body parser for POST /v1/metrics. Fastify reads the body as
// a Buffer under the route's body limit (413 beyond it); a body protobufjs cannot decode
// is a 400, never a crash. The batch's `tenant` field is ignored: the key decides.
import type { FastifyInstance } from 'fastify';
import { decodeMetricBatch, VigilError } from '../protocols/index.ts';

export const PROTOBUF_TYPE = 'application/x-protobuf';
export const PROTOBUF_ROUTE = '/v1/metrics';

export function addProtobufParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(PROTOBUF_TYPE, { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    if (req.routeOptions.url !== PROTOBUF_ROUTE) {
      done(new VigilError('UNSUPPORTED_MEDIA_TYPE', `${PROTOBUF_TYPE} is only for POST ${PROTOBUF_ROUTE}; send application/json`), undefined);
      return;
    }
    try {
      const { series } = decodeMetricBatch(body as Buffer);
      done(null, { series });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      done(new VigilError('BAD_REQUEST', `body is not a valid MetricBatch: ${why}`), undefined);
    }
  });
}
