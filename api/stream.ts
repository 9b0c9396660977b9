// WebSocket /v1/stream: the caller's tenant's live events, one JSON LiveEvent per message.
// The upgrade is handled on fastify's own HTTP server (ws in noServer mode), authenticated
// by the Authorization header or `?api_key=` (browsers cannot set headers on a WebSocket).
// A consumer that does not read is dropped once its unsent bytes pass a bound, so a slow
// client never grows the node's memory; a peer that stops answering pings is cut off.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { HTTP_STATUS, VigilError, type LiveEvent } from '../protocols/index.ts';
import type { Engine } from './engine.ts';
import { authorize } from './auth.ts';
import { toErrorReply } from './errors.ts';
import { bearerKey, type KeyRing } from './keys.ts';

export const STREAM_PATH = '/v1/stream';
/** Close code for a consumer too slow to keep up (RFC 6455: "try again later"). */
export const CLOSE_SLOW_CONSUMER = 1013;
export const CLOSE_GOING_AWAY = 1001;

export interface StreamOptions {
  pingIntervalMs: number;
  /** Unsent bytes a connection may hold before it is dropped. */
  maxBufferedBytes: number;
  /** Open streams one tenant may hold (a tenant must not use up the node's sockets). */
  maxPerTenant: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { pingIntervalMs: 30_000, maxBufferedBytes: 4 * 1024 * 1024, maxPerTenant: 256 };

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable',
};

export class LiveStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  private readonly alive = new WeakSet<WebSocket>();
  // One event goes to every connection of its tenant: serialize it once.
  private readonly encoded = new WeakMap<LiveEvent, { text: string; bytes: number }>();
  private readonly pinger: NodeJS.Timeout;
  private readonly perTenant = new Map<string, number>();
  private closing = false;

  constructor(
    server: Server,
    private readonly engine: Engine,
    private readonly keys: KeyRing,
    private readonly log: Logger,
    private readonly opts: StreamOptions,
  ) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.pinger = setInterval(() => this.ping(), opts.pingIntervalMs);
    this.pinger.unref();
  }

  connections(): number {
    return this.wss.clients.size;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let tenant: string;
    try {
      const url = new URL(req.url ?? '/', 'http://vigil');
      if (url.pathname !== STREAM_PATH) throw new VigilError('NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`);
      const key = bearerKey(req.headers.authorization) ?? url.searchParams.get('api_key') ?? undefined;
      const caller = authorize(this.keys, key, 'tenant');
      if (caller?.kind !== 'tenant') throw new VigilError('FORBIDDEN', 'a tenant key is needed');
      tenant = caller.tenant;
      if (this.closing) throw new VigilError('UNAVAILABLE', 'node shutting down');
      if ((this.perTenant.get(tenant) ?? 0) >= this.opts.maxPerTenant) {
        throw new VigilError('QUOTA_EXCEEDED', `tenant already has ${this.opts.maxPerTenant} open streams`);
      }
    } catch (err) {
      refuse(socket, err);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, tenant));
  }

  private attach(ws: WebSocket, tenant: string): void {
    this.alive.add(ws);
    this.perTenant.set(tenant, (this.perTenant.get(tenant) ?? 0) + 1);
    const unsubscribe = this.engine.subscribe(tenant, (event) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      let encoded = this.encoded.get(event);
      if (encoded === undefined) {
        const text = JSON.stringify(event);
        this.encoded.set(event, (encoded = { text, bytes: Buffer.byteLength(text) }));
      }
      // The bound holds before the send: unsent bytes never pass it (one event larger than the
      // whole bound still goes to a consumer that has caught up, or it could never get it).
      const buffered = ws.bufferedAmount;
      if (buffered > 0 && buffered + encoded.bytes > this.opts.maxBufferedBytes) {
        this.log.warn({ tenant, buffered, maxBufferedBytes: this.opts.maxBufferedBytes }, 'dropping a slow stream consumer');
        unsubscribe();
        ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer: too many unsent events');
        // The close frame queues behind the unsent data; do not wait for a reader that never reads.
        setTimeout(() => ws.terminate(), 1000).unref();
        return;
      }
      ws.send(encoded.text);
    });
    ws.on('pong', () => this.alive.add(ws));
    ws.on('close', () => {
      unsubscribe();
      const n = (this.perTenant.get(tenant) ?? 1) - 1;
      if (n > 0) this.perTenant.set(tenant, n);
      else this.perTenant.delete(tenant);
    });
    ws.on('error', (err) => {
      this.log.debug({ tenant, err }, 'stream connection error');
      ws.terminate();
    });
    this.log.debug({ tenant }, 'stream connected');
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.pinger);
    for (const ws of this.wss.clients) ws.close(CLOSE_GOING_AWAY, 'node shutting down');
    const deadline = setTimeout(() => { for (const ws of this.wss.clients) ws.terminate(); }, 1000);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    while (this.wss.clients.size > 0) await new Promise((r) => setTimeout(r, 10));
    clearTimeout(deadline);
  }
}

/** Answers a refused upgrade with a plain HTTP error in the API's JSON shape. */
function refuse(socket: Duplex, err: unknown): void {
  const { status, body } = toErrorReply(err);
  const text = JSON.stringify(body);
  const reason = STATUS_TEXT[status] ?? (status === HTTP_STATUS.INTERNAL ? 'Internal Server Error' : 'Error');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
