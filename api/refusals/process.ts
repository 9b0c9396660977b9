// The refusal process: a child of a gateway that holds the connections of tenants over their
// quota, so their refusals are answered off the event loop that answers everyone else
// (api/refusals/README.md). The gateway hands it a connection whose first request came from a
// tenant whose bucket was known empty, with the bytes it had read; Node's own HTTP parser reads
// the requests here. Each one is refused (429, as the gateway would: api/tenancy/rate-refusal.ts)
// while its key is the one the gateway checked and its tenant's bucket is still known empty, or
// when its batch is larger than the bucket can hold by the last bound the gateway sent
// (api/tenancy/token-bound.ts); any other request on the connection is passed to the gateway
// over a Unix socket and its answer relayed, so nothing is refused here that the gateway would
// accept. A connection whose tenant has not been blocked for a while is closed after such an
// answer: its client's next connection goes to the gateway again.
import { createServer, request, Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { bearerKey } from '../keys.ts';
import { hashKey, samplesInBody, VigilError } from '../../protocols/index.ts';
import { joinIdleGroup, lowerToIdle } from '../../supervisors/cpu-priority/index.ts';
import { errorAnswer, ingestPost, refusalAnswer } from '../early-refusal.ts';
import { requestIds } from '../request-id.ts';
import { batchTooLarge, EMPTY_BUCKET, rateRefusal } from '../tenancy/rate-refusal.ts';
import { certainRefusal, hostMs, type TokenBound } from '../tenancy/token-bound.ts';
import { HEARTBEAT_MS, type BlockNote, type FromRefusals, type RefusalNote, type RefusalSettings, type ToRefusals } from './protocol.ts';

/** A tenant's connection stays here this long after its bucket was last known empty. */
export const DEFAULT_LINGER_MS = 10_000;
/** Refusals are told to the gateway (its counts, /metrics, GET /v1/usage) at most this late. */
export const REPORT_EVERY_MS = 50;

// hop-by-hop headers: they describe one connection, so a relay does not pass them on
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

interface Binding {
  tenant: string;
  keyHash: string;
  /** the keys' generation it was checked in */
  keys: number;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as RefusalSettings;
const paths = new Set(settings.paths);
const sizedPaths = new Set(settings.sizedPaths);
const bindings = new WeakMap<Socket, Binding>();
/** by tenant: until when (performance.now) its bucket is known empty, and its quota's words */
const blocks = new Map<string, { until: number; quota: string }>();
/** by tenant: the last bound on its tokens, and until when (hostMs) it can refuse anything */
const bounds = new Map<string, { bound: TokenBound; until: number }>();
let keysSeen = 0;
const requestId = requestIds(`r${process.pid.toString(36)}`);
const upstream = new Agent({ keepAlive: true });
let unreported: RefusalNote[] = [];
let reportTimer: NodeJS.Timeout | undefined;

interface Refusal { quota: string; why: string; retryAfterMs: number; samples: number }

const server = createServer({ headersTimeout: settings.headersMs, requestTimeout: settings.requestMs, connectionsCheckingInterval: settings.checkIntervalMs }, (req, res) => {
  const started = performance.now();
  const binding = bindings.get(req.socket);
  const path = binding === undefined ? undefined : boundIngest(req, binding);
  if (binding === undefined || path === undefined) return relay(req, res, binding);
  const block = blocks.get(binding.tenant);
  if (block && block.until > started) {
    req.resume(); // the body is read and dropped, so the connection can carry the next request
    return refuse(req, res, binding.tenant, path, started, { quota: block.quota, why: EMPTY_BUCKET, retryAfterMs: block.until - started, samples: 0 });
  }
  const sized = bounds.get(binding.tenant);
  if (sized && sizedPaths.has(path) && hostMs() < sized.until) return judge(req, res, binding, path, started, sized.bound);
  relay(req, res, binding);
});
server.keepAliveTimeout = settings.keepAliveMs;

function noteBlock(b: BlockNote): void {
  blocks.set(b.tenant, { until: performance.now() + b.forMs, quota: b.quota });
}

function noteBound(b: TokenBound): void {
  // past this the shared bucket may hold its burst, and then no batch is refused by the bound
  const until = b.rate > 0 ? b.at + ((b.burst - b.tokens) * 1000) / b.rate : b.at;
  bounds.set(b.tenant, { bound: b, until });
}

/** The ingest route of a request made with the key the gateway checked, since the keys last changed; undefined otherwise. */
function boundIngest(req: IncomingMessage, b: Binding): string | undefined {
  const path = ingestPost(req, paths);
  if (path === undefined || b.keys !== keysSeen) return undefined;
  const key = bearerKey(req.headers.authorization);
  return key !== undefined && hashKey(key) === b.keyHash ? path : undefined;
}

/** Answers a request of a tenant over its quota with its 429, and tells the gateway. */
function refuse(req: IncomingMessage, res: ServerResponse, tenant: string, path: string, started: number, r: Refusal): void {
  const id = requestId(req);
  const { status, text, headers } = refusalAnswer(rateRefusal(tenant, r.quota, r.why, r.retryAfterMs), id);
  res.writeHead(status, headers);
  res.end(text);
  report([tenant, path, (performance.now() - started) / 1000, id, r.samples]);
}

/**
 * Reads a batch whole and refuses it when the bound says the bucket cannot hold it; anything
 * else (a body that does not read as a batch, one too large for the gateway, one that may
 * pass) goes to the gateway with the bytes read.
 */
function judge(req: IncomingMessage, res: ServerResponse, b: Binding, path: string, started: number, bound: TokenBound): void {
  const length = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] !== undefined || !(length <= settings.bodyLimitBytes)) return relay(req, res, b);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const samples = samplesInBody(req.headers['content-type'], body);
    const wait = samples === undefined ? undefined : certainRefusal(bound, samples, hostMs());
    if (samples === undefined || wait === undefined) return relay(req, res, b, body);
    refuse(req, res, b.tenant, path, started, { quota: bound.quota, why: batchTooLarge(samples, bound.burst), retryAfterMs: wait, samples });
  });
}

/** Passes a request to the gateway (its body as read here, or still to read) and relays its answer. */
function relay(req: IncomingMessage, res: ServerResponse, b: Binding | undefined, body?: Buffer): void {
  const up = request({ socketPath: settings.forwardPath, method: req.method, path: req.url, headers: without(req.headers), agent: upstream }, (answer) => {
    const headers: Record<string, string | string[]> = without(answer.headers);
    if (!b || b.keys !== keysSeen || !lingering(b.tenant)) headers.connection = 'close'; // back to the gateway
    res.writeHead(answer.statusCode ?? 502, headers);
    answer.pipe(res);
  });
  up.on('error', () => {
    // the gateway is closing (or gone): the client tries again on a new connection
    if (res.headersSent) return void res.destroy();
    const { status, text, headers } = errorAnswer(new VigilError('UNAVAILABLE', 'the node is closing; retry'), { 'retry-after': '1', connection: 'close' });
    res.writeHead(status, headers);
    res.end(text);
  });
  if (body) return void up.end(body);
  req.on('close', () => { if (!req.complete) up.destroy(); });
  req.pipe(up);
}

function lingering(tenant: string): boolean {
  const block = blocks.get(tenant);
  return block !== undefined && performance.now() < block.until + DEFAULT_LINGER_MS;
}

function without(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
  return out;
}

function report(note: RefusalNote): void {
  unreported.push(note);
  reportTimer ??= setTimeout(() => {
    reportTimer = undefined;
    const refusals = unreported;
    unreported = [];
    send({ kind: 'refused', refusals });
  }, REPORT_EVERY_MS);
}

function send(m: FromRefusals): void {
  if (process.connected) process.send?.(m);
}

process.on('message', (m: ToRefusals, handle?: Socket) => {
  switch (m.kind) {
    case 'connection': {
      if (!handle) return;
      noteBlock(m.block);
      bindings.set(handle, { tenant: m.block.tenant, keyHash: m.keyHash, keys: keysSeen });
      handle.unshift(Buffer.from(m.head, 'base64'));
      server.emit('connection', handle);
      handle.resume();
      return;
    }
    case 'block': return noteBlock(m);
    case 'bound': return noteBound(m);
    case 'unblock':
      blocks.clear();
      return bounds.clear();
    case 'keys': keysSeen++; return;
    case 'stop': return stop();
  }
});

function stop(): void {
  clearInterval(heartbeat);
  if (reportTimer) {
    clearTimeout(reportTimer);
    send({ kind: 'refused', refusals: unreported });
  }
  server.close();
  server.closeAllConnections();
  upstream.destroy();
  process.disconnect?.();
}

// the gateway gone: nothing here is of use to anyone
process.on('disconnect', () => {
  server.closeAllConnections();
  process.exit(0);
});
// Below every tenant within its quota: SCHED_IDLE and nice 19, every thread (threads started
// later inherit it), as processing nodes run beside gateways. A task of the normal class that
// wakes preempts a SCHED_IDLE one at once, where against nice 19 alone it may wait out the
// other's slice (api/refusals/README.md, "Its priority"). Where the normal class fills every CPU
// this process would get none; the gateway then stops hearing its heartbeat and raises it to
// nice 19 in the normal class (front.ts). SCHED_IDLE yields only within a task group, and where
// the kernel groups tasks by session the gateway's session is one; so the process also joins the
// cgroup that is idle as a whole, where one can be written (supervisors/cpu-priority/idle-group.ts).
// Where the first CPU is kept for gateways (--gateway-cpu), off it too: a flood's refusals are
// bursts of work, and bursts beside the gateway's thread cost its answers even at SCHED_IDLE
// (supervisors/cpu-priority/README.md, bursty workers).
lowerToIdle(process.pid, { normalClass: !settings.idle, offFirstCpu: settings.offFirstCpu });
if (settings.idle) joinIdleGroup(process.pid);
const heartbeat = setInterval(() => send({ kind: 'alive' }), HEARTBEAT_MS);
send({ kind: 'ready' });
