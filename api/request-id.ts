// Request ids: a client may bring its own (for tracing across systems) if it is tame;
// otherwise a prefix of the process's own and a counter. The gateway and its refusal process
// (api/refusals) each number their own, under prefixes of their own.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function requestIds(prefix = randomBytes(3).toString('hex')): (req: IncomingMessage) => string {
  let seq = 0;
  return (req) => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : `${prefix}-${(++seq).toString(36)}`;
  };
}
