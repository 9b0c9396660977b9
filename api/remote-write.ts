// POST /api/v1/write: Prometheus remote-write 1.0 into the same ingest path as POST
// /v1/metrics (same key, same sample checks, same back-pressure). Prometheus retries on 5xx
// and 429 and drops a batch on any other 4xx (remote-write spec 1.0, "Retries & Backoff"),
// so what a retry can cure is 503/429 and bad data is 400/413/415.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { DEFAULT_MAX_KNOWN_SERIES, type VigilConfig } from '../cluster/index.ts';
import {
  DEFAULT_REMOTE_WRITE_MAPPING, readRemoteWrite, RecentSeries, VigilError, type DroppedCounts, type RemoteWriteMapping,
} from '../protocols/index.ts';
import { errorSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { refuseBeforeBody } from './ingest.ts';
import { checkSamples } from './samples-check.ts';
import type { QuotaGate } from './tenancy/index.ts';

export const REMOTE_WRITE_PATH = '/api/v1/write';
export const REMOTE_WRITE_TYPE = 'application/x-protobuf';
/** Remote-write 2.0's count of written samples; 1.0 senders ignore it, tests and benches read it. */
export const SAMPLES_WRITTEN_HEADER = 'x-prometheus-remote-write-samples-written';

export interface RemoteWriteOptions extends RemoteWriteMapping {
  /** largest uncompressed WriteRequest in bytes; default http.bodyLimitBytes */
  maxDecodedBytes?: number;
  /** Prometheus label sets remembered per tenant (mapping, last sample for the order checks) */
  maxKnownSeries: number;
}

export const DEFAULT_REMOTE_WRITE_OPTIONS: Readonly<RemoteWriteOptions> = Object.freeze({
  ...DEFAULT_REMOTE_WRITE_MAPPING,
  maxKnownSeries: DEFAULT_MAX_KNOWN_SERIES,
});

export type RemoteWriteConfig = Pick<VigilConfig, 'http' | 'ingest'> & { remoteWrite?: Partial<RemoteWriteOptions> };

const DROP_REASONS: Array<[keyof DroppedCounts, string]> = [
  ['nonFinite', 'non_finite'], ['duplicate', 'duplicate'], ['outOfOrder', 'out_of_order'], ['unmapped', 'unmapped'],
];

export function remoteWriteRoutes(app: FastifyInstance, engine: Engine, config: RemoteWriteConfig, quotas?: QuotaGate): void {
  const options: RemoteWriteOptions = { ...DEFAULT_REMOTE_WRITE_OPTIONS, ...config.remoteWrite };
  const maxDecoded = options.maxDecodedBytes ?? config.http.bodyLimitBytes;
  // per tenant, so one tenant's series never push another's out
  const memories = new Map<string, RecentSeries>();
  const memoryOf = (tenant: string) => {
    let m = memories.get(tenant);
    if (!m) memories.set(tenant, (m = new RecentSeries(options.maxKnownSeries)));
    return m;
  };
  const metrics = remoteWriteMetrics(engine.metrics, engine.tenantMetrics);

  // Its own scope: this route takes any body as raw bytes (Prometheus' receiver even
  // accepts a missing Content-Type), while the other routes keep their JSON/protobuf parsers.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.http.bodyLimitBytes }, (_req, body, done) => done(null, body));
    scope.post(REMOTE_WRITE_PATH, {
      config: { auth: 'tenant' },
      schema: {
        summary: 'Prometheus remote-write 1.0: snappy-compressed prometheus.WriteRequest (Content-Encoding: snappy)',
        description: 'job (or service) → service, __name__ → metric, other labels → series labels. 204 when accepted.',
        response: { 204: { description: 'accepted', type: 'null' }, '4xx': errorSchema },
      },
      onRequest: refuseBeforeBody(engine, quotas), // as POST /v1/metrics; Prometheus retries a 429
    }, async (request, reply) => {
      checkHeaders(request);
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      const batch = readRemoteWrite(body, maxDecoded, options, memoryOf(request.tenant));
      if (batch.samples > 0) {
        checkSamples(batch.series, { now: engine.now(), maxFutureSkewMs: config.ingest.maxFutureSkewMs, maxPastAgeMs: config.ingest.maxPastAgeMs });
        const ingestNow = () => engine.ingest(request.tenant, batch.series);
        await (quotas ? quotas.admit(request.tenant, batch.samples, ingestNow) : ingestNow());
        batch.commit();
      }
      metrics.accepted.inc(batch.samples);
      for (const [field, reason] of DROP_REASONS) {
        const n = batch.dropped[field];
        if (n === 0) continue;
        metrics.dropped.inc({ reason }, n);
        metrics.tenantDropped.inc({ tenant: request.tenant, reason }, n);
      }
      return reply.code(204).header(SAMPLES_WRITTEN_HEADER, String(batch.samples)).send();
    });
  });
}

/** Content-Type application/x-protobuf (remote-write 1.0's message) and snappy, or none (as Prometheus' receiver). */
function checkHeaders(request: FastifyRequest): void {
  const type = request.headers['content-type'];
  if (type !== undefined) {
    const [media, ...params] = type.split(';').map((p) => p.trim().toLowerCase());
    const proto = params.find((p) => p.startsWith('proto='))?.slice('proto='.length);
    if (media !== REMOTE_WRITE_TYPE || (proto !== undefined && proto !== 'prometheus.writerequest')) {
      throw new VigilError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${type} is not accepted: send ${REMOTE_WRITE_TYPE} (remote-write 1.0, prometheus.WriteRequest)`);
    }
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'snappy') {
    throw new VigilError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${encoding} is not accepted: send snappy (block format)`);
  }
}

interface RemoteWriteMetrics {
  accepted: Counter;
  dropped: Counter<'reason'>;
  tenantDropped: Counter<'tenant' | 'reason'>;
}

const DROPPED_HELP = 'Remote-write samples of accepted requests left out: non_finite (NaN, staleness markers, ±Inf), duplicate, '
  + 'out_of_order (drop mode), unmapped (no service or metric label, labels over the limits)';

/** Node figures in the public registry, per-tenant ones beside the other vigil_tenant_* series;
 * a second gateway over the same engine reuses them. */
function remoteWriteMetrics(node: Registry, byTenant: Registry): RemoteWriteMetrics {
  const reuse = <T>(registry: Registry, name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    accepted: reuse(node, 'vigil_remote_write_samples_total', () => new Counter({
      name: 'vigil_remote_write_samples_total', help: 'Samples accepted through Prometheus remote write', registers: [node],
    })),
    dropped: reuse(node, 'vigil_remote_write_dropped_samples_total', () => new Counter({
      name: 'vigil_remote_write_dropped_samples_total', help: DROPPED_HELP, labelNames: ['reason'], registers: [node],
    })),
    tenantDropped: reuse(byTenant, 'vigil_tenant_remote_write_dropped_samples_total', () => new Counter({
      name: 'vigil_tenant_remote_write_dropped_samples_total', help: `${DROPPED_HELP}, by tenant`, labelNames: ['tenant', 'reason'], registers: [byTenant],
    })),
  };
}
