// The first request's head of a new connection, read from its first bytes: enough to tell
// whether the connection is a tenant's over its quota (api/refusals/front.ts). A look, not a
// parser: anything it does not find plainly (no complete head, an odd line, a header twice)
// gives undefined, and the connection goes to the gateway's own HTTP server, whose parser
// then answers whatever is wrong with it. What it does find is checked again by Node's parser
// in the refusal process before anything is refused.

/** Node's default limit on a request head (--max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface RequestHead {
  method: string;
  /** the target without its query string */
  path: string;
  /** the Authorization header's value, if sent once */
  authorization: string | undefined;
}

const REQUEST_LINE = /^([A-Z]{1,16}) (\/[^ ?]*)(?:\?[^ ]*)? HTTP\/1\.[01]$/;

/** The head of the request that starts `bytes`, or undefined (incomplete, too long, or not plain). */
export function requestHead(bytes: Buffer): RequestHead | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0 || end > MAX_HEAD_BYTES) return undefined;
  const lines = bytes.toString('latin1', 0, end).split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]!);
  if (!line) return undefined;
  let authorization: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const h = lines[i]!;
    if (h.length > 14 && h[13] === ':' && h.slice(0, 13).toLowerCase() === 'authorization') {
      if (authorization !== undefined) return undefined; // twice: let the server decide
      authorization = h.slice(14).trim();
    } else if (h[0] === ' ' || h[0] === '\t') {
      return undefined; // a folded line: obsolete, and not ours to interpret
    }
  }
  return { method: line[1]!, path: line[2]!, authorization };
}
