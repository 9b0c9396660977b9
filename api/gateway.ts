// The HTTP/WebSocket gateway of a node: fastify routes over the Engine face, the live
// stream on the same server, one error shape, and a request id on every request.
import type { AddressInfo } from 'node:net';
import fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_MAX_SERIES_PER_TENANT, DEFAULT_MAX_SERVICES_PER_TENANT, type VigilConfig } from '../cluster/index.ts';
import { VigilError } from '../protocols/index.ts';
import { errorSchema } from '../protocols/schemas.ts';
import type { Engine } from './engine.ts';
import { adminRoutes } from './admin.ts';
import { dashboardRoutes } from './dashboard.ts';
import { installAuth, type Access } from './auth.ts';
import { sendError } from './errors.ts';
import { requestIds } from './request-id.ts';
import { RefusalFront } from './refusals/index.ts';
import { earlyRefusal, serverWithFirstLook, type EarlyAnswer } from './early-refusal.ts';
import { clientError, frameworkError, MAX_PARAM_LENGTH, RouteMethods, unmatched } from './framework-errors.ts';
import { eventRoutes } from './events.ts';
import { faultRoutes } from './faults.ts';
import { healthRoutes } from './health.ts';
import { incidentRoutes } from './incidents.ts';
import { silenceRoutes } from './silences.ts';
import { alertmanagerRoutes } from './alertmanager.ts';
import { rcaRoutes } from './rca.ts';
import { runbookRoutes } from './runbooks.ts';
import { INGEST_PATH, ingestRoutes } from './ingest.ts';
import { REMOTE_WRITE_PATH, remoteWriteRoutes } from './remote-write.ts';
import { createHttpMetrics } from './http-metrics.ts';
import { addJsonParser } from './json.ts';
import type { KeyRing } from './keys.ts';
import { OpenApiDoc } from './openapi.ts';
import { addProtobufParser } from './protobuf.ts';
import { lazyChild } from './lazy-logger.ts';
import { redactingLogger } from './redaction.ts';
import { seriesRoutes } from './series.ts';
import { statusRoutes } from './status.ts';
import { DEFAULT_STREAM_OPTIONS, LiveStream, STREAM_PATH, type StreamOptions } from './stream.ts';
import { topologyRoutes } from './topology.ts';
import { Tenancy, tenancyRoutes, type GatewayTenancy } from './tenancy/index.ts';

export const API_VERSION = '1.0.0';

export type GatewayConfig = Pick<VigilConfig, 'http' | 'auth' | 'tenants' | 'ingest' | 'remoteWrite'> & Partial<Pick<VigilConfig, 'limits'>>;

export interface GatewayOptions {
  stream?: Partial<StreamOptions>;
  /** tenant configuration and quotas (api/tenancy); absent: the config's tenants, no file, no quotas */
  tenancy?: GatewayTenancy;
  /** how long a client may take (tests shorten them); DEFAULT_TIMEOUTS otherwise */
  timeouts?: Partial<Timeouts>;
  /**
   * A process of its own answers the connections of tenants over their quota (api/refusals),
   * started at the first such refusal; the node turns it on for gateway nodes (http.refusalProcess).
   * Default off.
   */
  refusalProcess?: boolean;
  /** how a refusal process starved at SCHED_IDLE is raised (RefusalFrontDeps.raise); default raiseFromIdle */
  refusalRaise?: (pid: number) => Promise<boolean>;
}

/** Time limits on a client, so a slow or silent one cannot hold a socket for long. */
export interface Timeouts {
  /** the request line and headers must arrive within this (a silent connection is closed after it) */
  headersMs: number;
  /** the whole request, body included */
  requestMs: number;
  /** how often Node checks the two above (its default, 30 s, would add up to 30 s to each) */
  checkIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { headersMs: 10_000, requestMs: 60_000, checkIntervalMs: 1_000 };

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Every route the router holds (method, url, access) as registered: the isolation matrix test reads it. */
  routes(): readonly RegisteredRoute[];
  /** fastify's in-process request (no socket): the fuzz suite's fast way in. */
  inject: FastifyInstance['inject'];
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  /** the route's declared access (auth.ts); undeclared means 'tenant' */
  readonly access: Access | undefined;
}

export async function startGateway(engine: Engine, config: GatewayConfig, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const tenancy = options.tenancy ?? await defaultTenancy(engine, config, logger);
  const log = redactingLogger(logger); // no key or Authorization header in a log line
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const keys: KeyRing = tenancy.tenancy.registry.keys;
  const requestId = requestIds();
  let early: EarlyAnswer | undefined; // set once the metrics it counts in exist

  const app = fastify({
    serverFactory: serverWithFirstLook(() => early),
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }), // per-request lines go out at debug in onResponse
    childLoggerFactory: (logger, bindings, opts) => lazyChild(logger as Logger, bindings, opts), // made at a request's first line
    bodyLimit: config.http.bodyLimitBytes,
    requestTimeout: timeouts.requestMs,
    // passed to http.createServer: a client that sends headers slowly (or nothing) is cut after headersMs
    http: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: timeouts.checkIntervalMs },
    return503OnClosing: true,
    genReqId: requestId,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err, request, reply) => sendError(request, reply, frameworkError(err)),
    clientErrorHandler: clientError,
    // Bodies are validated as sent: no coercion ("12" is not a number), unknown fields refused.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  }) as unknown as FastifyInstance;

  const docs = new OpenApiDoc();
  docs.collect(app);
  const routeMethods = new RouteMethods();
  app.addHook('onRoute', (route) => routeMethods.add(route));
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registered.push(Object.freeze({ method, url: route.url, access: route.config?.auth }));
  });
  app.removeContentTypeParser('text/plain');
  addJsonParser(app);
  addProtobufParser(app, config.http.bodyLimitBytes);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installAuth(app, keys);
  const stream = new LiveStream(app.server, engine, keys, log, { ...DEFAULT_STREAM_OPTIONS, ...options.stream });
  const httpMetrics = createHttpMetrics(engine.metrics, () => stream.connections());
  app.addHook('onResponse', async (request, reply) => {
    httpMetrics.observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    // the query string may carry api_key (WebSocket clients): never log it
    request.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: reply.elapsedTime }, 'request');
  });
  let front: RefusalFront | undefined;
  if (tenancy.quotas) {
    const paths = [INGEST_PATH, REMOTE_WRITE_PATH];
    const observe = (route: string, method: string, status: number, seconds: number): void => httpMetrics.observe(route, method, status, seconds);
    if (options.refusalProcess) {
      front = new RefusalFront({
        server: app.server, paths, sizedPaths: [INGEST_PATH], keys, quotas: tenancy.quotas, engine, observe, log,
        onKeysChange: (listener) => tenancy.tenancy.registry.onChange(listener),
        timeouts: { ...timeouts, keepAliveMs: app.server.keepAliveTimeout }, bodyLimitBytes: config.http.bodyLimitBytes,
        offFirstCpu: config.http.refusalOffFirstCpu === true,
        ...(options.refusalRaise ? { raise: options.refusalRaise } : {}),
      });
    }
    early = earlyRefusal({ paths, keys, quotas: tenancy.quotas, engine, requestId, log, observe, ...(front ? { front } : {}) });
  }
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, unmatched(routeMethods, request, reply)));

  healthRoutes(app, engine, keys);
  ingestRoutes(app, engine, config.ingest, tenancy.quotas);
  remoteWriteRoutes(app, engine, config, tenancy.quotas);
  tenancyRoutes(app, tenancy);
  seriesRoutes(app, engine);
  eventRoutes(app, engine);
  incidentRoutes(app, engine);
  silenceRoutes(app, engine);
  alertmanagerRoutes(app, engine);
  rcaRoutes(app, engine);
  runbookRoutes(app, engine);
  topologyRoutes(app, engine);
  adminRoutes(app, engine);
  statusRoutes(app, engine);
  faultRoutes(app, engine);
  dashboardRoutes(app);
  // A plain GET on the stream path (no upgrade) documents it and says what to do.
  app.get(STREAM_PATH, {
    config: { auth: 'tenant' },
    schema: {
      summary: 'WebSocket: live anomalies, alerts and incident changes (JSON LiveEvent per message); key in Authorization or ?api_key=',
      querystring: { type: 'object', properties: { api_key: { type: 'string' } } },
      response: { 101: { description: 'Switching Protocols: the stream starts', type: 'null' }, '4xx': errorSchema },
    },
  }, async (_request, reply) => reply.code(426).header('upgrade', 'websocket')
    .send({ error: { code: 'BAD_REQUEST', message: 'this endpoint needs a WebSocket upgrade' } }));
  app.get('/docs/openapi.json', { config: { auth: 'public' }, schema: { summary: 'This document' } }, async () => docs.document(API_VERSION));

  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    // e.g. the port is taken: release what was set up, then say so
    await front?.close();
    await stream.close();
    await app.close();
    httpMetrics.release();
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new VigilError('UNAVAILABLE', `cannot listen on ${config.http.host}:${config.http.port} (${why})`, { cause: err });
  }
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${clientHost(config.http.host)}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    routes: () => [...registered],
    inject: app.inject.bind(app) as FastifyInstance['inject'],
    close: () => (closing ??= (async () => {
      await front?.close();
      await stream.close();
      await closeServing(app);
      httpMetrics.release();
    })()),
  };
}

/** How often a closing gateway ends the keep-alive connections that have gone idle. */
const CLOSE_SWEEP_MS = 50;

/**
 * Closes the server and waits for the requests in flight. Node ends the connections idle when
 * close begins; one whose request was in flight then stays open after its answer until the
 * keep-alive timeout (Fastify's 72 s): a node stopped while its own demo asked for an RCA took
 * 70 s to exit. So the idle ones are ended again until the server has closed.
 */
async function closeServing(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), CLOSE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}

/** Without a composition root's tenancy: the config's tenants on the engine's clock, no file, no quotas. */
async function defaultTenancy(engine: Engine, config: GatewayConfig, log: Logger): Promise<GatewayTenancy> {
  const clock = { now: () => engine.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: object) => clearTimeout(h as NodeJS.Timeout) };
  const tenancy = await Tenancy.open({ nodeConfig: config, clock, log, watch: false });
  return { tenancy, limits: config.limits ?? { maxSeriesPerTenant: DEFAULT_MAX_SERIES_PER_TENANT, maxServicesPerTenant: DEFAULT_MAX_SERVICES_PER_TENANT } };
}

/** The address a client on this machine dials for a listen host. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
