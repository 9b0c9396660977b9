// A tenant over its quota, answered before Fastify sees the request. An ingest request whose
// key names a tenant with an empty bucket (QuotaGate.refusalBeforeBody) gets its 429 from the
// server's own request listener: no routing, no hooks, no reply object. A flooding tenant's
// refusals share the event loop with every other tenant's requests, and in bench:tenancy
// answering them here trimmed B's worst rounds under A's flood (pooled p99 0.86-0.92 of the
// answer through Fastify in two paired runs; api/tenancy/MEASURED.md, thirty-first session). The answer is the one Fastify gives (the same error body, Retry-After,
// x-request-id, the same /metrics counts). Anything else goes on to Fastify: other routes, no
// key or a key it must refuse, a node too busy (its 503 says why), a bucket not known empty.
// The routes' onRequest hook (ingest.ts) still refuses an empty bucket for what comes without
// a socket (inject) or slips past here.
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import type { Engine } from './engine.ts';
import { toErrorReply } from './errors.ts';
import { bearerKey, type KeyRing } from './keys.ts';
import type { RefusalFront } from './refusals/index.ts';
import type { QuotaError, QuotaGate } from './tenancy/index.ts';

export interface EarlyRefusalDeps {
  /** the ingest routes' paths (POST only), as registered */
  paths: readonly string[];
  keys: KeyRing;
  quotas: QuotaGate;
  engine: Pick<Engine, 'overloaded'>;
  /** the request id Fastify would have given the request */
  requestId(req: IncomingMessage): string;
  /** the gateway's request metrics (http-metrics.ts) */
  observe(route: string, method: string, status: number, seconds: number): void;
  log: Logger;
  /** the refusal process's front (api/refusals), where the gateway runs one */
  front?: Pick<RefusalFront, 'ready' | 'fromProcess' | 'wanted'>;
}

/** A request listener's first look: true when it answered the request itself. */
export type EarlyAnswer = (req: IncomingMessage, res: ServerResponse) => boolean;

export function earlyRefusal(deps: EarlyRefusalDeps): EarlyAnswer {
  const paths = new Set(deps.paths);
  return (req, res) => {
    const path = ingestPost(req, paths);
    if (path === undefined || !deps.quotas.blocksAny()) return false; // no key hashed twice while no one is blocked
    const key = bearerKey(req.headers.authorization);
    const caller = key === undefined ? undefined : deps.keys.resolve(key);
    if (caller?.kind !== 'tenant') return false;
    if (deps.engine.overloaded(caller.tenant) !== undefined) return false;
    const refusal = deps.quotas.refusalBeforeBody(caller.tenant);
    if (!refusal) return false;
    const started = performance.now();
    const id = deps.requestId(req);
    const { status, body, text, headers } = refusalAnswer(refusal, id);
    const answer = (close: boolean): void => {
      res.writeHead(status, close ? { ...headers, connection: 'close' } : headers);
      res.end(text);
      deps.observe(path, 'POST', status, (performance.now() - started) / 1000);
    };
    const front = deps.front;
    front?.wanted();
    // With a refusal process up, the connection is closed after this answer, so the client's
    // next one is looked at first and goes there; the body is read to its end before the
    // answer, so the close loses the client nothing (an unread body would reset the connection).
    if (front?.ready() && !front.fromProcess(req.socket)) req.once('end', () => answer(true));
    else answer(false);
    req.resume(); // the body is read and dropped, so the connection can carry the next request
    if (deps.log.isLevelEnabled('debug')) {
      deps.log.debug({ reqId: id, tenant: caller.tenant, status, code: body.error.code, reason: body.error.message }, 'request refused');
    }
    return true;
  };
}

/** The path of an ingest request (`paths`, POST only; its query string dropped), or undefined for any other. */
export function ingestPost(req: IncomingMessage, paths: ReadonlySet<string>): string | undefined {
  if (req.method !== 'POST') return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return paths.has(path) ? path : undefined;
}

/** An error as Fastify's error path would send it, for a raw response: status, body, its text and headers (`extra` first). */
export function errorAnswer(err: unknown, extra: Record<string, string>) {
  const { status, body } = toErrorReply(err);
  const text = JSON.stringify(body);
  const headers = { ...extra, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) };
  return { status, body, text, headers };
}

/** A quota refusal as Fastify's error path would send it: status, body, its text and headers. */
export function refusalAnswer(refusal: QuotaError, requestId: string) {
  return errorAnswer(refusal, { 'x-request-id': requestId, 'retry-after': String(refusal.retryAfterSeconds) });
}

/** The settings Fastify gives the HTTP/1 server it makes (fastify.js's defaults applied). */
interface ServerSettings {
  http?: ServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/**
 * Fastify's HTTP/1 server as Fastify would make it, with a first look at each request:
 * `first()` is read per request, since the answer needs what is built after Fastify (its metrics).
 */
export function serverWithFirstLook(first: () => EarlyAnswer | undefined): FastifyServerFactory {
  return (handler, opts) => {
    const o = opts as ServerSettings;
    const server = createServer(o.http ?? {}, (req, res) => {
      if (!first()?.(req, res)) handler(req, res);
    });
    if (o.keepAliveTimeout !== undefined) server.keepAliveTimeout = o.keepAliveTimeout;
    if (o.requestTimeout !== undefined) server.requestTimeout = o.requestTimeout;
    if (o.connectionTimeout !== undefined) server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket !== undefined && o.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };
}
