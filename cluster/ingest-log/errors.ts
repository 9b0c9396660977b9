// Typed failures of the ingest log. The code says what a client can do (UNAVAILABLE: retry
// later, the gateway answers 503 with Retry-After); the reason says why, for logs and operators.
import { VigilError, type ErrorCode } from '../../protocols/errors.ts';

export type IngestLogReason =
  | 'disk-full'      // ENOSPC / EDQUOT: frees up when space is made; retry
  | 'not-writable'   // EROFS / EACCES / EPERM: an operator must fix the folder
  | 'io-error'       // EIO or a failed fsync: the log stops taking appends until reopened
  | 'closed'         // the log was closed (node shutting down)
  | 'in-use'         // another live process (or instance) has the folder open
  | 'corrupt'        // a damaged record inside the log (not a torn tail): needs an operator
  | 'bad-input'      // shard, id or size out of range
  | 'jetstream';     // the JetStream server refused or did not answer

export class IngestLogError extends VigilError {
  readonly reason: IngestLogReason;

  constructor(code: ErrorCode, reason: IngestLogReason, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IngestLogError';
    this.reason = reason;
  }
}

/** Maps a file-system failure to the error a client can act on. */
export function diskError(what: string, path: string, err: unknown): IngestLogError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new IngestLogError('UNAVAILABLE', 'disk-full', `ingest log: disk full (${code}) while ${what} ${path}`, { cause: err });
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
    case 'ENOTDIR':
      return new IngestLogError('UNAVAILABLE', 'not-writable', `ingest log: ${path} is not writable (${code}) while ${what}`, { cause: err });
    default:
      return new IngestLogError('UNAVAILABLE', 'io-error', `ingest log: ${code ?? 'I/O error'} while ${what} ${path}`, { cause: err });
  }
}

export function closedError(): IngestLogError {
  return new IngestLogError('UNAVAILABLE', 'closed', 'ingest log: closed');
}

export function badInput(message: string): IngestLogError {
  return new IngestLogError('BAD_REQUEST', 'bad-input', `ingest log: ${message}`);
}
