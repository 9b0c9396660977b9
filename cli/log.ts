// The node's logger: pino JSON lines, or pino-pretty when the output is a terminal.
// Every JSON line carries tenant, actor and reqId (null outside such a context), so a
// line can always be filtered by them; child loggers (the gateway per request, the
// runtime per actor) bind the real values. Readable lines leave the nulls out. Secrets are
// censored at the root (api/redaction.ts), so no child can log one.
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { VigilConfig } from '../cluster/config.ts';
import { LOG_REDACTION } from '../api/index.ts';

export interface LogOptions {
  level: VigilConfig['log']['level'];
  /** 1 = stdout (default), 2 = stderr */
  fd?: 1 | 2;
  /** pretty-print; default: when that fd is a terminal */
  pretty?: boolean;
  /** this node's id, on every line */
  node?: string;
}

const CONTEXT_KEYS = ['tenant', 'actor', 'reqId'] as const;

export function createLogger(o: LogOptions): Logger {
  const fd = o.fd ?? 1;
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const readable = o.pretty ?? isTty === true;
  let stream: DestinationStream;
  if (readable) {
    stream = pretty({ destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
  } else {
    // buffered for speed; flushed on exit so the last lines (often the reason) are not lost
    const dest = pino.destination({ fd, sync: false });
    process.once('exit', () => dest.flushSync());
    stream = dest;
  }
  return pino({
    level: o.level,
    base: { pid: process.pid },
    redact: LOG_REDACTION, // no key or Authorization header on any line of the process
    // Fill the context keys a line lacks; bindings and the line's own fields win (a key
    // set twice would be written twice).
    mixin(merge, _level, logger) {
      const bound = logger.bindings();
      const out: Record<string, string | null> = {};
      if (o.node !== undefined && !('node' in bound) && !('node' in merge)) out.node = o.node;
      if (!readable) for (const k of CONTEXT_KEYS) if (!(k in bound) && !(k in merge)) out[k] = null;
      return out;
    },
  }, stream);
}
