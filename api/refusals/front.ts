// The gateway's side of the refusal process (process.ts). While some tenant's bucket is known
// empty, the first bytes of each new connection are looked at (head.ts) before Node's HTTP
// server gets the connection: an ingest request by a tenant key whose bucket is empty sends the
// whole connection, with what was read, to the refusal process, so its refusals cost this
// event loop nothing. Everything else, and every connection while no one is blocked, goes to
// the HTTP server unlooked at. A connection already in the HTTP server is closed after a
// refusal before its body (early-refusal.ts), so a flooding client's next connection comes here.
//
// The process starts at the first refusal that wants it (`wanted`), not with the gateway: a
// gateway whose tenants keep to their quotas never runs it. If it dies, the connections it held
// are closed (their clients reconnect, to the gateway) and it starts again when next wanted,
// at most once per RESTART_AFTER_MS. It runs at SCHED_IDLE (process.ts); one that has not been
// heard from for STARVED_AFTER_MS gets no CPU there and is raised to the normal class at nice 19.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Engine } from '../engine.ts';
import { bearerKey, hashKey, type KeyRing } from '../keys.ts';
import { raiseFromIdle } from '../../supervisors/cpu-priority/index.ts';
import type { QuotaGate } from '../tenancy/index.ts';
import { MAX_HEAD_BYTES, requestHead } from './head.ts';
import { HEARTBEAT_MS, type FromRefusals, type RefusalSettings, type ToRefusals } from './protocol.ts';

/** tsx's loader (its one export), found from here so the process starts from any working directory */
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

/** A refusal process told to stop is killed if it has not exited within this. */
export const STOP_WITHIN_MS = 2_000;
/** A refusal process that died is not started again sooner than this. */
export const RESTART_AFTER_MS = 5_000;
/**
 * A refusal process not heard from for this long (four heartbeats) gets no CPU at SCHED_IDLE:
 * the normal class fills every CPU. It is raised to nice 19 then, so a flooding tenant's admitted
 * share, which it relays, still flows; it stays there until it exits.
 */
export const STARVED_AFTER_MS = 1_000;

export interface RefusalFrontDeps {
  /** the gateway's HTTP server: its 'connection' listeners are taken over */
  server: Server;
  /** the ingest routes' paths (POST only) */
  paths: readonly string[];
  /** those whose bodies are MetricBatches (JSON or protobuf), which the process may refuse by their size */
  sizedPaths: readonly string[];
  keys: KeyRing;
  quotas: QuotaGate;
  engine: Pick<Engine, 'overloaded'>;
  /** subscribes to key changes (the tenants' registry); returns the unsubscribe */
  onKeysChange(listener: () => void): () => void;
  /** counts a refusal answered by the process, as the gateway counts its own */
  observe(route: string, method: string, status: number, seconds: number): void;
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; checkIntervalMs: number };
  /** the gateway's body limit (http.bodyLimitBytes) */
  bodyLimitBytes: number;
  /** the process keeps off the host's first CPU (http.refusalOffFirstCpu; default false) */
  offFirstCpu?: boolean;
  /** raises a starved process from SCHED_IDLE; resolves whether it could (default: raiseFromIdle, supervisors/cpu-priority) */
  raise?: (pid: number) => Promise<boolean>;
  log: Logger;
}

export class RefusalFront {
  private readonly deliver: Array<(socket: Socket) => void>;
  private readonly forwardPath = join(tmpdir(), `vigil-refusals-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
  private forward: NetServer | undefined;
  private readonly forwarded = new WeakSet<Socket>();
  private readonly peeking = new Set<Socket>();
  private child: ChildProcess | undefined;
  private isReady = false;
  private startedAt = -Infinity;
  /** when the process was last heard from, and when the gateway last looked (performance.now) */
  private heardAt = 0;
  private lookedAt = 0;
  private starvation: NodeJS.Timeout | undefined;
  /** whether the next process starts at SCHED_IDLE: not after one starved there and could not be raised */
  private idle = true;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly d: RefusalFrontDeps) {
    this.deliver = d.server.listeners('connection') as Array<(socket: Socket) => void>;
    d.server.removeAllListeners('connection');
    d.server.on('connection', (socket: Socket) => this.onConnection(socket));
    d.quotas.watchBuckets((news) => this.send(news));
    this.unsubscribe = d.onKeysChange(() => this.send({ kind: 'keys' }));
  }

  /** Whether the process takes connections now (a refusal in the gateway then closes its connection). */
  ready(): boolean {
    return this.isReady;
  }

  /** Whether the request came from the refusal process (it is not sent back there). */
  fromProcess(socket: Socket): boolean {
    return this.forwarded.has(socket);
  }

  /** A refusal in the gateway: the process is started if it is not running. */
  wanted(): void {
    if (this.child || this.closed || performance.now() - this.startedAt < RESTART_AFTER_MS) return;
    this.startedAt = performance.now();
    void this.start().catch((err: unknown) => this.d.log.warn({ err }, 'the refusal process did not start; refusals stay in the gateway'));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.starvation);
    this.d.quotas.watchBuckets(undefined);
    this.unsubscribe();
    for (const s of this.peeking) s.destroy();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.send({ kind: 'stop' } satisfies ToRefusals);
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
      await exited;
      clearTimeout(kill);
    }
    this.isReady = false;
    // its connections are the HTTP server's, which the gateway closes next
    this.forward?.close();
    rmSync(this.forwardPath, { force: true });
  }

  private async start(): Promise<void> {
    // the requests the process passes on come in here, to the HTTP server as they are
    if (!this.forward) {
      const forward = createNetServer((socket) => {
        this.forwarded.add(socket);
        this.toServer(socket);
      });
      rmSync(this.forwardPath, { force: true });
      await new Promise<void>((resolve, reject) => forward.once('error', reject).listen(this.forwardPath, () => resolve()));
      this.forward = forward;
    }
    if (this.closed) { // the gateway closed while the socket was being opened
      this.forward.close();
      return rmSync(this.forwardPath, { force: true });
    }
    const settings: RefusalSettings = { forwardPath: this.forwardPath, paths: [...this.d.paths], sizedPaths: [...this.d.sizedPaths], idle: this.idle, offFirstCpu: this.d.offFirstCpu === true, bodyLimitBytes: this.d.bodyLimitBytes, ...this.d.timeouts };
    const child = fork(fileURLToPath(new URL('./process.ts', import.meta.url)), [JSON.stringify(settings)], {
      execArgv: ['--import', pathToFileURL(TSX_LOADER).href], // Vigil runs its TypeScript directly (cli/bin/vigil.js)
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (m: FromRefusals) => this.onMessage(m));
    child.once('exit', (code, signal) => {
      clearInterval(this.starvation);
      this.child = undefined;
      this.isReady = false;
      if (!this.closed) this.d.log.warn({ code, signal }, 'the refusal process exited; refusals stay in the gateway until it starts again');
    });
    child.on('error', (err) => this.d.log.warn({ err }, 'the refusal process failed'));
  }

  private onMessage(m: FromRefusals): void {
    this.heardAt = performance.now();
    if (m.kind === 'alive') return;
    if (m.kind === 'ready') {
      this.isReady = !this.closed;
      this.d.log.info({ pid: this.child?.pid }, 'the refusal process takes the connections of tenants over their quota');
      this.lookedAt = this.heardAt;
      clearInterval(this.starvation);
      this.starvation = setInterval(() => this.lookForStarvation(), HEARTBEAT_MS).unref();
      return;
    }
    const debug = this.d.log.isLevelEnabled('debug');
    for (const [tenant, route, seconds, reqId, samples] of m.refusals) {
      this.d.quotas.refusedElsewhere(tenant, samples);
      this.d.observe(route, 'POST', 429, seconds);
      if (debug) this.d.log.debug({ reqId, tenant, status: 429, code: 'QUOTA_EXCEEDED', by: 'refusal process' }, 'request refused');
    }
  }

  /**
   * A process not heard from for STARVED_AFTER_MS is raised to the normal class, once. Where that
   * is not allowed it is killed (its clients reconnect, to the gateway) and the next one runs at
   * nice 19 in the normal class.
   */
  private lookForStarvation(): void {
    const now = performance.now();
    const stalled = now - this.lookedAt > 2 * HEARTBEAT_MS; // the gateway itself was late: its messages may be waiting
    this.lookedAt = now;
    const child = this.child;
    const silentMs = Math.round(now - this.heardAt);
    if (stalled || child?.pid === undefined || silentMs < STARVED_AFTER_MS) return;
    clearInterval(this.starvation);
    const pid = child.pid;
    void (this.d.raise ?? raiseFromIdle)(pid).then((raised) => {
      if (raised) return this.d.log.warn({ pid, silentMs }, 'the refusal process got no CPU at SCHED_IDLE: raised to the normal class at nice 19');
      this.idle = false;
      this.d.log.warn({ pid, silentMs }, 'the refusal process got no CPU at SCHED_IDLE and could not be raised: stopped; the next one runs at nice 19');
      child.kill('SIGKILL');
    });
  }

  private send(m: ToRefusals): void {
    if (this.isReady && this.child?.connected) this.child.send(m);
  }

  private onConnection(socket: Socket): void {
    if (!this.isReady || !this.d.quotas.blocksAny()) return this.toServer(socket); // no look while no one is blocked
    this.peeking.add(socket);
    const timer = setTimeout(() => socket.destroy(), this.d.timeouts.headersMs); // silent: cut, as the server would
    const done = (): void => {
      clearTimeout(timer);
      this.peeking.delete(socket);
      socket.removeListener('data', onData);
      socket.removeListener('close', done);
    };
    const onData = (first: Buffer): void => {
      done();
      socket.pause();
      let bytes = first;
      for (let more: Buffer | null; (more = socket.read() as Buffer | null) !== null;) bytes = Buffer.concat([bytes, more]);
      this.decide(socket, bytes);
    };
    socket.on('data', onData);
    socket.once('close', done);
    // no one else listens yet: a reset while it is looked at must not reach the process as an uncaught error
    socket.on('error', () => socket.destroy());
  }

  /** The first bytes of a connection read: to the refusal process, or on to the HTTP server. */
  private decide(socket: Socket, bytes: Buffer): void {
    const head = bytes.length <= MAX_HEAD_BYTES * 4 ? requestHead(bytes) : undefined;
    const key = head?.method === 'POST' && this.d.paths.includes(head.path) ? bearerKey(head.authorization) : undefined;
    const caller = key === undefined ? undefined : this.d.keys.resolve(key);
    const tenant = caller?.kind === 'tenant' ? caller.tenant : undefined;
    const block = tenant === undefined || this.d.engine.overloaded(tenant) !== undefined ? undefined : this.d.quotas.blockNote(tenant);
    const child = this.child;
    if (block && key !== undefined && this.isReady && child?.connected) {
      const s = socket as unknown as { _handle?: { readStop?(): void }; server: unknown };
      s._handle?.readStop?.(); // nothing more read here: it goes with the socket
      // Sent as a socket the server no longer counts as its own (else the server's close would ask
      // the process about it, and wait forever once it is gone); closed here once sent, which
      // closes this process's copy only and ends the server's count of it.
      s.server = null;
      child.send({ kind: 'connection', head: bytes.toString('base64'), keyHash: hashKey(key), block } satisfies ToRefusals, socket, { keepOpen: true }, () => socket.destroy());
      return;
    }
    socket.unshift(bytes);
    this.toServer(socket);
    socket.resume();
  }

  private toServer(socket: Socket): void {
    for (const listener of this.deliver) listener.call(this.d.server, socket);
  }
}
