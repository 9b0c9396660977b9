// The HTTP client of runbook steps (node:http/https). Its lookup checks every address a listed
// host name resolves to (destinations.ts), at connect time, so a name cannot be pointed at an
// internal host after the allow-list admitted it. Redirects are not followed (a redirect could
// lead anywhere); a 3xx is an answer the step reports. The answer's body is read up to a limit.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { VigilError } from '../../protocols/index.ts';
import { HttpStatusError } from '../../supervisors/index.ts';
import { addressAllowed } from './destinations.ts';
import type { OutgoingRequest } from './run.ts';
import type { JsonValue } from './runbook.ts';

/** The bytes of an answer kept for the run's record and for later steps (steps.<id>.body). */
export const MAX_ANSWER_BYTES = 16 * 1024;
/** Past this the answer is cut off (the rest is not read). */
export const MAX_DRAIN_BYTES = 1024 * 1024;
export const USER_AGENT = 'vigil-runbooks/1';

export interface WebhookAnswer {
  status: number;
  body?: JsonValue;
}

/** Sends one request; resolves with a 2xx answer, rejects with HttpStatusError for any other status. */
export type SendRequest = (req: OutgoingRequest, signal: AbortSignal) => Promise<WebhookAnswer>;

/** A name that resolves only to internal addresses (FORBIDDEN: not retried, not the destination's fault). */
export class DestinationRefused extends VigilError {
  constructor(host: string, address: string) {
    super('FORBIDDEN', `${host} resolves to ${address}, an internal address; list the address itself to allow it`);
    this.name = 'DestinationRefused';
  }
}

/** The resolver a sender asks (node:dns's lookup; tests give one that answers for names of their own). */
export type Resolve = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const guardedLookup = (resolve: Resolve): LookupFunction => (hostname, options, callback) => {
  resolve(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, '', 0);
      return;
    }
    const ok = addresses.filter((a) => addressAllowed(hostname, a.address));
    if (ok.length === 0) {
      callback(new DestinationRefused(hostname, addresses[0]?.address ?? 'nothing') as unknown as NodeJS.ErrnoException, '', 0);
      return;
    }
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
    else callback(null, ok[0]!.address, ok[0]!.family);
  });
};

/** A sender over plain node:http(s) whose connections resolve names through `resolve`, guarded. */
export function httpSender(resolveName: Resolve = dnsLookup as Resolve): SendRequest {
  const lookup = guardedLookup(resolveName);
  return (req, signal) => send(req, signal, lookup);
}

/** The node's sender: node:dns, guarded. */
export const sendHttp: SendRequest = httpSender();

const send = (req: OutgoingRequest, signal: AbortSignal, lookup: LookupFunction): Promise<WebhookAnswer> => new Promise<WebhookAnswer>((resolve, reject) => {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    reject(new VigilError('BAD_REQUEST', `not a URL: ${req.url}`));
    return;
  }
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT };
  for (const [k, v] of req.headers) headers[k.toLowerCase()] = v;
  if (body) headers['content-length'] = String(body.length);
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const r = make(url, { method: req.method, headers, lookup, signal, agent: false }, (res) => {
    read(res).then((text) => {
      const answer = parseAnswer(res, text);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) resolve(answer);
      else reject(new HttpStatusError(status, answer.body));
    }, reject);
  });
  r.on('error', (err) => reject(signal.aborted && signal.reason ? signal.reason : err));
  r.end(body);
});

function read(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    res.on('data', (c: Buffer) => {
      seen += c.length;
      if (kept < MAX_ANSWER_BYTES) {
        const part = c.subarray(0, MAX_ANSWER_BYTES - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > MAX_DRAIN_BYTES) {
        res.destroy();
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function parseAnswer(res: IncomingMessage, text: string): WebhookAnswer {
  const status = res.statusCode ?? 0;
  if (text === '') return { status };
  if (/json/i.test(String(res.headers['content-type'] ?? ''))) {
    try {
      return { status, body: JSON.parse(text) as JsonValue };
    } catch {
      // cut off or not JSON after all: keep it as text
    }
  }
  return { status, body: text.length > 1024 ? `${text.slice(0, 1024)}…` : text };
}
