// Typed errors with a code a client can act on. Every layer throws these; the gateway
// maps `code` to an HTTP status and the CLI prints `message` and exits 2.

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  QUOTA_EXCEEDED: 429,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  CONFIG_INVALID: 400,
  INTERNAL: 500,
};

export class VigilError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
  }

  static is(err: unknown, code?: ErrorCode): err is VigilError {
    return err instanceof VigilError && (code === undefined || err.code === code);
  }
}

/** 429: a tenant over one of its quotas, with the Retry-After the refusal knows (api/errors.ts
 * sends it): an ingestion bucket (api/tenancy), its unfinished runbook runs (actors/automation). */
export class QuotaError extends VigilError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('QUOTA_EXCEEDED', message);
  }
}
