// One error shape for every refusal: {"error": {"code", "message"}} with the status
// HTTP_STATUS gives the code. Fastify's own errors (body parsing, schema validation,
// body limit) are translated to the same shape with a reason a client can act on.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HTTP_STATUS, VigilError, type ErrorCode } from '../protocols/index.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE', 414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE', 431: 'HEADERS_TOO_LARGE', 429: 'QUOTA_EXCEEDED', 503: 'UNAVAILABLE', 504: 'TIMEOUT',
};

interface ValidationIssue {
  instancePath: string;
  propertyName?: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "/series/0/samples/3/1" → "series[0].samples[3][1]" */
export function jsonPath(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[0-9]+$/.test(key) ? `[${key}]` : out ? `.${key}` : key;
  }
  return out;
}

function describeIssue(part: string, issue: ValidationIssue): string {
  // Body paths read as the client wrote them ("series[0].samples[3]"); others name their part.
  const path = jsonPath(issue.instancePath);
  const where = part === 'body' ? path || 'body' : path ? `${part}.${path}` : part;
  if (issue.keyword === 'additionalProperties') return `${where}: unknown field '${String(issue.params.additionalProperty)}'`;
  if (issue.keyword === 'required') return `${where}: missing field '${String(issue.params.missingProperty)}'`;
  if (issue.propertyName !== undefined) return `${where}: invalid key '${issue.propertyName}' (${issue.message ?? issue.keyword})`;
  if (issue.keyword === 'propertyNames') return `${where}: invalid key '${String(issue.params.propertyName)}'`;
  // ajv's "number" also refuses NaN and ±Infinity (a protobuf body can carry them).
  if (issue.keyword === 'type' && (issue.params.type === 'number' || issue.params.type === 'integer')) return `${where}: must be a finite ${String(issue.params.type)}`;
  return `${where}: ${issue.message ?? issue.keyword}`;
}

/** Maps any thrown error to a status and the JSON error body. */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (VigilError.is(err)) return { status: HTTP_STATUS[err.code], body: { error: { code: err.code, message: err.message } } };
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation) && fe.validation.length > 0) {
    const message = describeIssue(fe.validationContext ?? 'request', fe.validation[0]!);
    return { status: 400, body: { error: { code: 'BAD_REQUEST', message } } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the node accepts (http.bodyLimitBytes); send smaller batches' } } };
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported Content-Type: send application/json (or application/x-protobuf to POST /v1/metrics)' } } };
  }
  if (status >= 400 && status < 500) {
    const code = CODE_BY_STATUS[status] ?? 'BAD_REQUEST';
    return { status, body: { error: { code, message: fe.message ?? code } } };
  }
  // Internals are logged, not shown.
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = toErrorReply(err);
  // A VigilError is a decision (bad input, overload, missing incident): debug, no stack.
  // Anything else reaching here is a bug and is logged as one.
  if (status >= 500 && !(VigilError.is(err) && err.code !== 'INTERNAL')) request.log.error({ err }, 'request failed');
  else request.log.debug({ status, code: body.error.code, reason: body.error.message }, 'request refused');
  // Overload and quota refusals are temporary: tell the client when to come back.
  // A quota refusal knows when its bucket will hold enough (api/tenancy): it says so.
  const retryAfter = (err as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  if (status === 503 || status === 429) reply.header('retry-after', typeof retryAfter === 'number' ? String(retryAfter) : '1');
  return reply.code(status).type('application/json').send(body);
}
