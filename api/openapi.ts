// /docs/openapi.json, an OpenAPI 3.1 document built from the routes as they are
// registered (fastify's onRoute hook) and the schemas they validate with, so every
// route is listed and the docs say what the gateway enforces.
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Access } from './auth.ts';
import { PROTOBUF_TYPE } from './protobuf.ts';
import { REMOTE_WRITE_PATH } from './remote-write.ts';

type Json = Record<string, unknown>;

declare module 'fastify' {
  interface FastifySchema {
    /** One line for the OpenAPI document. */
    summary?: string;
    description?: string;
    /** Leave the route out of the document. */
    hide?: boolean;
  }
}

interface RouteDoc {
  method: string;
  url: string;
  access: Access;
  schema: Json;
}

export class OpenApiDoc {
  private readonly routes: RouteDoc[] = [];
  private cached: Json | undefined;

  /** Call before any route is added. */
  collect(app: FastifyInstance): void {
    app.addHook('onRoute', (r: RouteOptions) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const method of methods) {
        if (method === 'HEAD' || r.schema?.hide === true) continue;
        this.routes.push({ method: method.toLowerCase(), url: r.url, access: r.config?.auth ?? 'tenant', schema: (r.schema ?? {}) as Json });
      }
      this.cached = undefined;
    });
  }

  document(version: string): Json {
    if (this.cached) return this.cached;
    const paths: Record<string, Json> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      (paths[path] ??= {})[r.method] = operation(r);
    }
    this.cached = {
      openapi: '3.1.0',
      info: { title: 'Vigil API', version, description: 'Vigil AIOps engine: ingest, anomalies, alerts, incidents, topology, live stream.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key, or the admin key for /v1/admin routes' } } },
      paths,
    };
    return this.cached;
  }
}

function parameters(schema: unknown, where: 'query' | 'path'): Json[] {
  const s = schema as { properties?: Record<string, Json>; required?: string[] } | undefined;
  if (!s?.properties) return [];
  return Object.entries(s.properties).map(([name, p]) => ({
    name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: p,
  }));
}

function operation(r: RouteDoc): Json {
  const op: Json = {
    summary: r.schema.summary ?? '',
    security: r.access === 'public' ? [] : [{ apiKey: [] }],
    parameters: [...parameters(r.schema.params, 'path'), ...parameters(r.schema.querystring, 'query')],
  };
  if (r.schema.description) op.description = r.schema.description;
  if (r.schema.body) {
    const content: Json = { 'application/json': { schema: r.schema.body } };
    if (r.url === '/v1/metrics') content[PROTOBUF_TYPE] = { schema: { type: 'string', contentMediaType: PROTOBUF_TYPE, description: 'vigil.v1.MetricBatch (protocols/proto/vigil.proto)' } };
    op.requestBody = { required: true, content };
  }
  if (r.url === REMOTE_WRITE_PATH) op.requestBody = { required: true, content: { [PROTOBUF_TYPE]: { schema: { type: 'string', contentMediaType: PROTOBUF_TYPE, description: 'prometheus.WriteRequest (protocols/proto/remote.proto), snappy block-compressed: Content-Encoding: snappy' } } } };
  const responses: Json = {};
  for (const [status, schema] of Object.entries((r.schema.response ?? {}) as Record<string, Json>)) {
    const code = status.toUpperCase();
    if (code === '101') {
      responses[code] = { description: String(schema.description ?? 'Switching Protocols') };
      continue;
    }
    responses[code] = { description: code === '4XX' ? 'refused: {"error": {"code", "message"}}' : 'success', content: { 'application/json': { schema } } };
  }
  if (!Object.keys(responses).some((c) => c.startsWith('2') || c === '101')) responses['200'] = { description: 'success' };
  op.responses = responses;
  return op;
}
