// Refusals that happen before a route runs, in Vigil's error shape like every other:
// - a path parameter past the router's length limit (fastify's 414) or a malformed URL;
// - a known path with a method it does not take: 405 with an Allow header (fastify would
//   say 404, which sends a client looking for a route that exists);
// - what Node's HTTP parser refuses before fastify sees a request (a request line or
//   headers over the size limit: 431; garbage: 400; a client too slow: 408).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { VigilError, type ErrorCode } from '../protocols/index.ts';

/** fastify's `routerOptions.maxParamLength`: ids are at most 200 characters (schemas). */
export const MAX_PARAM_LENGTH = 256;

export function frameworkError(err: FastifyError): VigilError {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new VigilError('URI_TOO_LONG', `a path segment is longer than ${MAX_PARAM_LENGTH} characters`, { cause: err });
  }
  return new VigilError('BAD_REQUEST', 'the URL is malformed (bad percent-encoding?)', { cause: err });
}

/** The methods each route pattern takes, to tell 405 from 404. */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const source = route.url.split('/').map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : escape(seg))).join('/');
    const pattern = new RegExp(`^${source}$`);
    let entry = this.routes.find((r) => r.pattern.source === pattern.source);
    if (!entry) this.routes.push((entry = { pattern, methods: new Set() }));
    for (const m of methods) entry.methods.add(m.toUpperCase());
  }

  /** The methods `path` takes (empty when no route has that path). */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const r of this.routes) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
    return [...out].sort();
  }
}

/** The not-found handler: 405 with Allow for a known path, else 404. */
export function unmatched(routes: RouteMethods, request: FastifyRequest, reply: FastifyReply): VigilError {
  const path = request.url.split('?')[0]!;
  const allowed = routes.allowed(path);
  if (allowed.length > 0) {
    reply.header('allow', allowed.join(', '));
    return new VigilError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`);
  }
  return new VigilError('NOT_FOUND', `no route ${request.method} ${path}`);
}

/** Node's clientError: answer in the error shape, then close (as Node itself does). */
export function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code: ErrorCode = 'BAD_REQUEST';
  let message = 'the request is not valid HTTP';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'HEADERS_TOO_LARGE';
    message = 'the request line and headers exceed the size limit (16 KB); shorten the URL or headers';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'TIMEOUT';
    message = 'the request was not received in time';
  }
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `Content-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
