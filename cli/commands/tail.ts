// `vigil tail`: a tenant's live anomalies, alerts and incident changes from a running node's
// WebSocket (GET /v1/stream), one readable line each (or one JSON object per line). After a
// lost connection it reconnects with backoff (the gap is not replayed: the REST routes have
// it), unless --no-reconnect, which ends with exit 0 when the stream ends.
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { SystemClock, type Clock } from '../../actors/runtime/index.ts';
import { VigilError, type ErrorCode } from '../../protocols/errors.ts';
import type { Alert, AnomalyEvent, Incident, LiveEvent } from '../../protocols/types.ts';
import { parse, showHelp, str, usageError } from '../args.ts';
import { untilSignal } from '../signals.ts';
import { DEFAULT_URL } from './ctl.ts';

const CMD = 'vigil tail';
export const STREAM_PATH = '/v1/stream';
/** How long the opening handshake may take before the node counts as unreachable. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Reconnect backoff: doubles from the first delay up to the last. */
export const DEFAULT_RECONNECT_MIN_MS = 1000;
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Incidents remembered to tell "opened" from "updated" (resolved ones are forgotten). */
export const DEFAULT_TRACKED_INCIDENTS = 10_000;

export const TAIL_HELP = `Usage: vigil tail [--url URL] [--api-key KEY] [--json] [--no-reconnect]

Prints the live anomalies, alerts and incident changes of the API key's tenant as they
happen, from a running node's WebSocket stream (${STREAM_PATH}), one line each:
  2026-11-30 17:40:12Z  anomaly   db latency_ms = 21.6 (expected 3.86, score 1.000, up)
  2026-11-30 17:40:12Z  alert     critical db latency_ms score 1.000 (incident inc_5357…)
  2026-11-30 17:40:12Z  incident  opened inc_5357… "db: latency_ms anomalous (up)" (services: db; peak score 1.000; 1 alert)
Incident lines say opened, now spans (new services), updated, acknowledged or resolved.
Times are the events' own (UTC). Only events from the moment it connects are shown; the
past is in GET /v1/anomalies, /v1/alerts and /v1/incidents.

Options:
  --url URL        the node (default ${DEFAULT_URL}; http(s) or ws(s))
  --api-key KEY    the tenant's API key (default: VIGIL_API_KEY)
  --json           one JSON object per line instead: the stream's own {"type", "data"}
  --no-reconnect   end (exit 0) when the node closes the stream or goes away; without
                   it, tail says so on stderr and reconnects (after 1 s, doubling to 30 s)
                   until the node is back; events sent in between are not replayed
  -h, --help       this help

Status lines (connected, connection lost, reconnected) go to stderr, events to stdout.
Ctrl-C (SIGINT) or SIGTERM stops it with exit 0.

Exit status: 0 stopped; 2 bad usage, no key, a key the node refuses (at start or on a
reconnect), or a node that cannot be reached at start.
`;

interface TailOptions {
  streamUrl: string;
  apiKey: string;
  json: boolean;
  reconnect: boolean;
}

export async function tailCommand(argv: string[], clock: Clock = new SystemClock()): Promise<number> {
  const p = parse(CMD, argv, { url: { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'boolean' }, 'no-reconnect': { type: 'boolean' } });
  if (p.values.help) return showHelp(TAIL_HELP);
  const opts: TailOptions = {
    streamUrl: streamUrl(str(p, 'url') ?? DEFAULT_URL),
    apiKey: str(p, 'api-key') ?? process.env.VIGIL_API_KEY ?? '',
    json: p.values.json === true,
    reconnect: p.values['no-reconnect'] !== true,
  };
  if (opts.apiKey === '') throw usageError(CMD, 'no API key: pass --api-key or set VIGIL_API_KEY');

  // Ctrl-C, SIGTERM or a closed stdout (`| head`) end the command cleanly.
  const stopped = new Promise<'stop'>((resolve) => {
    void untilSignal().then(() => resolve('stop'));
    process.stdout.on('error', () => resolve('stop'));
  });
  const incidents = new IncidentLines();
  const show = (text: string): void => {
    try {
      const event = JSON.parse(text) as LiveEvent;
      process.stdout.write(`${opts.json ? JSON.stringify(event) : incidents.line(event)}\n`);
    } catch {
      note(`skipped a message that is not a stream event: ${clean(text.slice(0, 80))}`);
    }
  };

  let ws = await connect(opts); // a refusal or an unreachable node at start: exit 2
  note(`connected to ${opts.streamUrl}; waiting for events (Ctrl-C to stop)`);
  for (;;) {
    ws.on('message', (data) => show(String(data)));
    const ended = await Promise.race([closed(ws), stopped]);
    if (ended === 'stop') {
      ws.removeAllListeners('close');
      ws.close(1000, 'vigil tail stopped');
      ws.terminate();
      return 0;
    }
    const why = `code ${ended.code}${ended.reason ? `: ${ended.reason}` : ''}`;
    if (!opts.reconnect) {
      note(`the node closed the stream (${why})`);
      return 0;
    }
    const next = await reconnect(opts, clock, why, stopped);
    if (next === 'stop') return 0;
    ws = next;
    note('reconnected; events sent while disconnected are not replayed (see GET /v1/incidents)');
  }
}

/** Retries with backoff until the node takes the key again; a refused key is final (exit 2). */
async function reconnect(opts: TailOptions, clock: Clock, why: string, stopped: Promise<'stop'>): Promise<WebSocket | 'stop'> {
  let delay = DEFAULT_RECONNECT_MIN_MS;
  note(`connection lost (${why}); reconnecting`);
  for (;;) {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const waited = new Promise<'wait'>((resolve) => { timer = clock.setTimeout(() => resolve('wait'), delay); });
    if ((await Promise.race([waited, stopped])) === 'stop') {
      if (timer !== undefined) clock.clearTimeout(timer);
      return 'stop';
    }
    try {
      return await connect(opts);
    } catch (err) {
      if (!VigilError.is(err, 'UNAVAILABLE')) throw err;
      note(`still no node (${err.message.replace(/^vigil tail: /, '')}); next try in ${Math.round(Math.min(delay * 2, DEFAULT_RECONNECT_MAX_MS) / 1000)} s`);
      delay = Math.min(delay * 2, DEFAULT_RECONNECT_MAX_MS);
    }
  }
}

/** Opens the stream; a refused upgrade or an unreachable node becomes a one-line VigilError. */
function connect(opts: TailOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(opts.streamUrl, {
      headers: { authorization: `Bearer ${opts.apiKey}` },
      handshakeTimeout: DEFAULT_CONNECT_TIMEOUT_MS,
      maxPayload: 1 << 20,
    });
    let settled = false;
    const settle = (err?: VigilError): void => {
      if (settled) return;
      settled = true;
      if (err === undefined) return resolve(ws);
      ws.terminate();
      reject(err);
    };
    ws.on('error', (err) => settle(unreachable(opts.streamUrl, err)));
    ws.once('open', () => settle());
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < 4096) body += chunk; });
      res.on('end', () => settle(refused(opts.streamUrl, res.statusCode ?? 0, body)));
      res.on('error', () => settle(refused(opts.streamUrl, res.statusCode ?? 0, body)));
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: clean(reason.toString()) })));
}

function refused(url: string, status: number, body: string): VigilError {
  const reason = errorMessage(body) ?? (clean(body.slice(0, 200)) || 'no reason given');
  const code: ErrorCode = status === 401 || status === 403 ? 'UNAUTHORIZED'
    : status === 429 ? 'QUOTA_EXCEEDED'
      : status === 404 ? 'NOT_FOUND'
        : status === 503 ? 'UNAVAILABLE'
          : status >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
  const hint = code === 'UNAUTHORIZED' ? '; pass the tenant\'s key with --api-key or VIGIL_API_KEY'
    : code === 'NOT_FOUND' ? '; is --url a Vigil node?' : '';
  const what = code === 'UNAUTHORIZED' ? 'the node refused the API key' : 'the node refused the stream';
  return new VigilError(code, `${CMD}: ${what} (HTTP ${status}: ${reason})${hint}`);
}

function unreachable(url: string, err: Error): VigilError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code ?? (/timed out/i.test(e.message) ? 'no answer in time' : e.message);
  return new VigilError('UNAVAILABLE', `${CMD}: cannot reach the node at ${url} (${why}); is it running? (--url)`, { cause: err });
}

function errorMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? clean(body.error.message) : undefined;
  } catch {
    return undefined;
  }
}

/** The node's base URL as the stream's ws(s) URL; anything else is a usage error. */
function streamUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usageError(CMD, `--url must be an http(s) or ws(s) URL (got "${raw}")`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[u.protocol];
  if (scheme === undefined || u.host === '') throw usageError(CMD, `--url must be an http(s) or ws(s) URL (got "${raw}")`);
  return `${scheme}//${u.host}${u.pathname.replace(/\/+$/, '')}${STREAM_PATH}`;
}

/** Turns events into lines; remembers incidents to say what changed about them. */
export class IncidentLines {
  private readonly known = new Map<string, { status: string; services: number; alerts: number }>();

  constructor(private readonly maxTracked = DEFAULT_TRACKED_INCIDENTS) {}

  line(e: LiveEvent): string {
    switch (e.type) {
      case 'anomaly': return anomalyLine(e.data);
      case 'alert': return alertLine(e.data);
      case 'incident': return this.incidentLine(e.data);
      default: return `${stamp(Date.now())}  ${clean(String((e as { type?: unknown }).type)).padEnd(8)}  ${clean(JSON.stringify((e as { data?: unknown }).data) ?? '')}`;
    }
  }

  private incidentLine(inc: Incident): string {
    const before = this.known.get(inc.id);
    const change = before === undefined ? (inc.status === 'open' ? 'opened' : inc.status)
      : before.status !== inc.status ? (inc.status === 'open' ? 'reopened' : inc.status)
        : inc.services.length > before.services ? 'now spans'
          : 'updated';
    this.known.delete(inc.id);
    if (inc.status !== 'resolved') {
      this.known.set(inc.id, { status: inc.status, services: inc.services.length, alerts: inc.alertIds.length });
      if (this.known.size > this.maxTracked) this.known.delete(this.known.keys().next().value as string);
    }
    const alerts = `${inc.alertIds.length} ${inc.alertIds.length === 1 ? 'alert' : 'alerts'}`;
    return `${stamp(inc.updatedAt)}  incident  ${change} ${clean(inc.id)} "${clean(inc.title)}" (services: ${inc.services.map(clean).join(', ')}; peak score ${inc.peakScore.toFixed(3)}; ${alerts})`;
  }
}

function anomalyLine(a: AnomalyEvent): string {
  return `${stamp(a.timestamp)}  anomaly   ${series(a)} = ${num(a.value)} (expected ${num(a.expected)}, score ${a.score.toFixed(3)}, ${a.direction})`;
}

function alertLine(a: Alert): string {
  return `${stamp(a.timestamp)}  alert     ${a.severity} ${series(a)} score ${a.score.toFixed(3)} (incident ${clean(a.incidentId)})`;
}

function series(s: { service: string; metric: string; labels?: Record<string, string> }): string {
  const labels = Object.entries(s.labels ?? {}).map(([k, v]) => `${clean(k)}=${clean(v)}`);
  return `${clean(s.service)} ${clean(s.metric)}${labels.length > 0 ? `{${labels.join(',')}}` : ''}`;
}

function stamp(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function num(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

/** Names and label values are the tenant's own text: no control character reaches the terminal. */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function note(line: string): void {
  process.stderr.write(`${CMD}: ${line}\n`);
}
