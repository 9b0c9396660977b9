// A cluster of nats-servers of a test's own (JetStream on, free ports, own store folders),
// stopped or killed by pid. Each server reaches each other one through a TCP proxy in the
// test process, so a test can cut the routes of one server (a partition: its clients stay
// connected to it, it no longer reaches the others) and heal them. Servers gossip no route
// addresses of their own (`advertise` points nowhere), so no route bypasses the proxies, and
// tell clients of no other server (`no_advertise`), so a client stays on the server it was given.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from './local-servers.ts';

/** Forwards every connection to `target`; cut() drops them all and refuses new ones until heal(). */
export class RouteProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  private server: Server | undefined;

  private constructor(readonly port: number, private readonly targetPort: number) {}

  static async open(targetPort: number): Promise<RouteProxy> {
    const proxy = new RouteProxy(await freePort(), targetPort);
    const server = createServer((client) => proxy.forward(client));
    await new Promise<void>((resolve) => server.listen(proxy.port, '127.0.0.1', resolve));
    proxy.server = server;
    return proxy;
  }

  private forward(client: Socket): void {
    if (this.blocked) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(this.targetPort, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => { this.sockets.delete(a); b.destroy(); });
      a.pipe(b);
    }
  }

  cut(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface ClusterServer {
  name: string;
  /** its log file */
  log: string;
  url: string;
  pid: number;
  child: ChildProcess;
  kill(): void;
  stop(): Promise<void>;
}

export interface NatsCluster {
  servers: ClusterServer[];
  /** every client URL, comma-separated */
  urls: string;
  /** cuts every route between server `i` and the others (both ways) */
  isolate(i: number): void;
  heal(): void;
  stop(): Promise<void>;
}

/**
 * Starts the servers; a start that fails (a port taken between freePort() and the server's
 * bind: a proxy listening on port 0 can be handed a route port just freed, measured once) stops
 * what it started and tries again with new ports, at most 3 times.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(size);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

async function startOnce(size: number): Promise<NatsCluster> {
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nowhere = await freePort(); // an advertised route address nobody listens on
  // proxies[i][j]: server i's way to server j
  const proxies: RouteProxy[][] = [];
  for (let i = 0; i < size; i++) {
    proxies.push([]);
    for (let j = 0; j < size; j++) proxies[i]!.push(i === j ? (undefined as unknown as RouteProxy) : await RouteProxy.open(routePorts[j]!));
  }
  const servers: ClusterServer[] = [];
  for (let i = 0; i < size; i++) {
    const dir = mkdtempSync(join(tmpdir(), `vigil-nats-c${i}-`));
    const routes = proxies[i]!.flatMap((p, j) => (j === i ? [] : [`nats-route://127.0.0.1:${p.port}`]));
    const conf = join(dir, 'server.conf');
    writeFileSync(conf, [
      `server_name: n${i + 1}`,
      `log_file: "${join(dir, 'server.log')}"`,
      `listen: 127.0.0.1:${clientPorts[i]}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      'cluster {',
      '  name: vigiltest',
      `  listen: 127.0.0.1:${routePorts[i]}`,
      `  advertise: "127.0.0.1:${nowhere}"`,
      '  no_advertise: true',
      `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`,
      '}',
      '',
    ].join('\n'));
    const child = spawn('nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
    const url = `nats://127.0.0.1:${clientPorts[i]}`;
    servers.push({
      name: `n${i + 1}`, log: join(dir, 'server.log'), url, pid: child.pid!, child,
      kill: () => { child.kill('SIGKILL'); },
      stop: () => new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    });
  }
  // up when every server answers and JetStream has a meta leader (a stream can be created)
  try {
    await waitForJetStream(servers.map((s) => s.url));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    for (const row of proxies) for (const p of row) await p?.close();
    const dead = servers.filter((s) => s.child.exitCode !== null || s.child.signalCode !== null).map((s) => `${s.name} exited (log ${s.log})`);
    throw new Error(`${(err as Error).message}${dead.length > 0 ? `; ${dead.join(', ')}` : ''}`);
  }
  return {
    servers,
    urls: servers.map((s) => s.url).join(','),
    isolate(i) {
      for (let j = 0; j < size; j++) {
        if (j === i) continue;
        proxies[i]![j]!.cut();
        proxies[j]![i]!.cut();
      }
    },
    heal() {
      for (const row of proxies) for (const p of row) p?.heal();
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      for (const row of proxies) for (const p of row) await p?.close();
    },
  };
}

async function waitForJetStream(urls: string[]): Promise<void> {
  const until = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const nc = await connect({ servers: urls[0]! });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.getAccountInfo();
        if (info) {
          for (const u of urls.slice(1)) await (await connect({ servers: u })).close();
          return;
        }
      } finally {
        await nc.close();
      }
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`nats cluster did not come up: ${String(last)}`);
}
