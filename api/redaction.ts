// Secrets never reach a log line: the node's root logger (cli/log.ts, and startNode's default)
// censors the Authorization header and every field that names a key (LOG_REDACTION), so every
// child (actors, cluster, stores, the gateway) does too; the gateway's logger also logs a
// request's URL without the `api_key` a WebSocket client may put there. No line logs a header
// or a key today (test/security-limits.test.ts checks a trace-level run); this keeps it so when
// someone logs `{ headers }` or `{ key }` tomorrow.
import type { Logger } from 'pino';

export const REDACTED = '[redacted]';

const SECRET_FIELDS = ['key', 'apiKey', 'api_key', 'adminKey', 'password', 'secret', 'credentials', 'authorization'];
const SECRET_HEADERS = ['headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'headers["proxy-authorization"]'];

/** pino `redact` paths: secret fields at the top and one level down; secret headers up to two levels down. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
  ...SECRET_HEADERS.flatMap((h) => [h, `*.${h}`, `*.*.${h}`]),
];

/** pino's `redact` option for a root logger: every line of the process, children included. */
export const LOG_REDACTION: { paths: string[]; censor: string } = { paths: [...REDACT_PATHS], censor: REDACTED };

/** A URL with the values of key-carrying query parameters censored. */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return url.slice(0, q + 1) + url.slice(q + 1).replace(/(^|&)(api_key|apikey|key|token|access_token)=[^&]*/gi, `$1$2=${REDACTED}`);
}

/** The gateway's logger: the given one with secrets censored, and requests logged without their keys. */
export function redactingLogger(logger: Logger): Logger {
  return logger.child({}, {
    redact: LOG_REDACTION,
    serializers: {
      // fastify's own request serializer would log the URL with its query string
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method, url: req.url === undefined ? undefined : safeUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
      }),
    },
  });
}
