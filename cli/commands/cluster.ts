// `vigil cluster up`: a local cluster in one command, what the Procfile runs without a
// Procfile runner: a nats-server with JetStream in a folder of its own and N nodes in cluster
// mode (`vigil start` processes), each on its own port and data folder. It prints where each
// listens and stops them all on SIGINT/SIGTERM: the nodes first (each hands its shards off and
// takes its last snapshot, which needs NATS), then the nats-server. The children run in
// process groups of their own, so a terminal's Ctrl-C reaches only this process and the
// order holds; a second signal kills them all at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { int, parse, showHelp, str, usageError } from '../args.ts';
import { VigilError } from '../../protocols/errors.ts';
import { v8FlagsFor } from '../../node/runtime-flags.ts';
import { autogroupsOn, joinIdleGroup, lowestPriorityPrefix, ownGroupPrefix, type IdleGroupPlacement } from '../../supervisors/cpu-priority/index.ts';
import { DEFAULT_CLUSTER_NAME } from './ctl-cluster.ts';

const VIGIL_BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const NATS_SERVER = '/usr/sbin/nats-server';
const DEFAULT_BASE_PORT = 7400;
const DEFAULT_DIR = '.vigil-cluster';
/** A node's clean stop drains its shards (at most 30 s) before it closes: give it that and some. */
const NODE_STOP_MS = 45_000;
const NATS_STOP_MS = 10_000;
const READY_MS = 180_000;

export const CLUSTER_HELP = `Usage: vigil cluster up [options]

Starts a local cluster on this machine: a nats-server with JetStream (its store in a folder
of its own) and N Vigil nodes in cluster mode, each on its own port and data folder. Prints
where each listens; Ctrl-C (or SIGTERM) stops the nodes (each hands its shards off), then
the nats-server. A second Ctrl-C kills everything at once. Logs go to <dir>/<name>.log.

Options:
  --nodes N          how many Vigil nodes (1..9; default 3)
  --gateways G       how many gateway nodes besides (0..9; default 0): cluster.capacity 0,
                     they own no shard and only answer clients (ports after the nodes');
                     the nodes then run at the lowest CPU priority (SCHED_IDLE, nice 19,
                     and in the CPU cgroup vigil-idle whose cpu.idle is 1, where one can be
                     written; VIGIL_CPU_IDLE_GROUP=off leaves cgroups alone) so the
                     gateways' answers come first
  --gateway-cpu      with --gateways: the nodes, and each gateway's refusal process
                     (http.refusalOffFirstCpu), also keep off the host's first CPU (where
                     there is more than one), so a gateway always finds a CPU free of them
  --dedicated D      how many nodes kept for large tenants besides (0..9; default 0):
                     cluster.dedicated, each takes a large tenant that names no nodes and
                     no other shard (ports after the gateways'); named dedicated-1, ...
  --base-port P      node-1 listens on P, node-2 on P+1, ... (default ${DEFAULT_BASE_PORT})
  --nats-port N      the nats-server's client port (default: base port + 100)
  --dir DIR          NATS's store, the nodes' data folders and the logs (default ${DEFAULT_DIR});
                     kept after a stop: the next up goes on with the same data
  --cluster NAME     the cluster's name (VIGIL_CLUSTER_NAME; default ${DEFAULT_CLUSTER_NAME})
  --config FILE      a YAML configuration every node reads (tenants, keys; VIGIL_CONFIG)
  --nats-server PATH the nats-server binary (default ${NATS_SERVER}, else nats-server on PATH)
  -h, --help         this help

Tenants: VIGIL_DEMO_API_KEY=<key> gives every node the tenant "demo"; VIGIL_ADMIN_API_KEY
the admin key. Then: vigil ctl nodes --nats nats://127.0.0.1:<nats port> --cluster <name>.
`;

interface Child {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
  /** set once we asked it to stop (its exit is then expected) */
  stopping: boolean;
}

export async function clusterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    if (sub !== undefined) return showHelp(CLUSTER_HELP);
    throw usageError('vigil cluster', 'missing command: up');
  }
  if (sub !== 'up') throw usageError('vigil cluster', `unknown command "${sub}" (known: up)`);
  return up(rest);
}

async function up(argv: string[]): Promise<number> {
  const cmd = 'vigil cluster up';
  const p = parse(cmd, argv, {
    nodes: { type: 'string' }, gateways: { type: 'string' }, dedicated: { type: 'string' }, 'base-port': { type: 'string' }, 'nats-port': { type: 'string' }, dir: { type: 'string' },
    cluster: { type: 'string' }, config: { type: 'string' }, 'nats-server': { type: 'string' }, 'gateway-cpu': { type: 'boolean' },
  });
  if (p.values.help) return showHelp(CLUSTER_HELP);
  const n = int(cmd, p, 'nodes', 1, 9) ?? 3;
  const g = int(cmd, p, 'gateways', 0, 9) ?? 0;
  const d = int(cmd, p, 'dedicated', 0, 9) ?? 0;
  const offFirstCpu = p.values['gateway-cpu'] === true;
  if (offFirstCpu && g === 0) throw usageError(cmd, '--gateway-cpu keeps the first CPU for gateways: give --gateways 1 or more');
  const base = int(cmd, p, 'base-port', 1, 65535 - 27) ?? DEFAULT_BASE_PORT;
  const natsPort = int(cmd, p, 'nats-port', 1, 65535) ?? base + 100;
  const last = base + n + g + d - 1;
  if (natsPort >= base && natsPort <= last) throw usageError(cmd, `--nats-port ${natsPort} is one of the nodes' ports (${base}..${last})`);
  const name = str(p, 'cluster') ?? (process.env.VIGIL_CLUSTER_NAME?.trim() || DEFAULT_CLUSTER_NAME);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw usageError(cmd, `--cluster must be letters, digits, - or _ (got "${name}")`);
  const config = str(p, 'config');
  if (config !== undefined && !existsSync(config)) throw usageError(cmd, `--config ${config}: no such file`);
  const natsBin = str(p, 'nats-server') ?? (existsSync(NATS_SERVER) ? NATS_SERVER : 'nats-server');
  const dir = resolve(str(p, 'dir') ?? DEFAULT_DIR);
  const ports = [natsPort, ...Array.from({ length: n + g + d }, (_, i) => base + i)];
  for (const port of ports) {
    if (!(await portFree(port))) throw usageError(cmd, `port ${port} is in use (another cluster?); choose another --base-port or --nats-port`);
  }
  mkdirSync(join(dir, 'nats'), { recursive: true });

  const children: Child[] = [];
  // each child in a process group of its own (Ctrl-C reaches only this process, which stops them
  // in order), in this session where it can be (SCHED_IDLE then holds against the gateways)
  const ownGroup = ownGroupPrefix();
  // whatever happens to this process, no child outlives it (they are in groups of their own)
  process.on('exit', () => { for (const c of children) if (alive(c.child)) c.child.kill('SIGKILL'); });
  let stopping: Promise<void> | undefined;
  let signals = 0;
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((r) => { stopRequested = r; });
  const onSignal = (): void => {
    signals++;
    if (signals > 1) {
      for (const c of children) if (alive(c.child)) c.child.kill('SIGKILL');
      process.exit(130);
    }
    stopRequested!();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal); // the terminal closed: the children, in other groups, are not told

  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const stopAll = (): Promise<void> => (stopping ??= stopChildren(children));
  try {
    const nats = start(children, ownGroup, 'nats', natsBin, ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', join(dir, 'nats'), '-n', `vigil-${name}`], dir, {});
    await ready(nats, () => natsReady(natsUrl), stopSignal);
    say(`nats    ${natsUrl}  pid ${nats.child.pid}  JetStream store ${join(dir, 'nats')}  log ${nats.log}`);
    const nodes: Array<{ c: Child; url: string }> = [];
    let idleGroup: IdleGroupPlacement | undefined;
    for (let i = 1; i <= n + g + d; i++) {
      const gateway = i > n && i <= n + g;
      const id = i <= n ? `node-${i}` : gateway ? `gateway-${i - n}` : `dedicated-${i - n - g}`;
      const port = base + i - 1;
      const args = [VIGIL_BIN, 'start', '--port', String(port), '--data', join(dir, id), '--node-id', id, ...(config ? ['--config', config] : [])];
      // a gateway's refusal process keeps off the first CPU as well, with --gateway-cpu (api/refusals)
      const role: Record<string, string> = gateway ? { VIGIL_CLUSTER_CAPACITY: '0', ...(offFirstCpu ? { VIGIL_REFUSAL_OFF_FIRST_CPU: '1' } : {}) } : i > n + g ? { VIGIL_CLUSTER_DEDICATED: '1' } : {};
      const env = { VIGIL_CLUSTER: '1', VIGIL_NATS_URL: natsUrl, VIGIL_CLUSTER_NAME: name, ...role };
      // beside gateways on one host, the nodes that own shards yield the CPU to them
      // (supervisors/cpu-priority): clients' answers come first, processing takes the rest
      const node = [process.execPath, ...v8FlagsFor(gateway ? 'gateway' : 'processing'), ...args];
      const lowered = g > 0 && !gateway;
      const [bin, ...command] = lowered ? [...lowestPriorityPrefix({ offFirstCpu }), ...node] : node;
      const c = start(children, ownGroup, id, bin!, command, dir, env);
      // SCHED_IDLE yields only within a task group (a session, where autogroups are on), so the
      // node also joins a cgroup that is idle as a whole: it then yields to every other process
      // of the host too (Redis, other sessions), not only to the gateways of this session
      if (lowered && c.child.pid !== undefined) {
        const placed = joinIdleGroup(c.child.pid);
        if (idleGroup?.kind !== 'unavailable') idleGroup = placed;
      }
      nodes.push({ c, url: `http://127.0.0.1:${port}` });
    }
    if (idleGroup) say(idleGroupLine(idleGroup, ownGroup !== undefined));
    for (const { c, url } of nodes) {
      await ready(c, () => httpReady(`${url}/status`), stopSignal);
      say(`${c.name.padEnd(9)} ${url}  pid ${c.child.pid}  data ${join(dir, c.name)}  log ${c.log}`);
    }
    say(`cluster "${name}" up: ${n} node(s)${g > 0 ? ` and ${g} gateway(s)` : ''}${d > 0 ? ` and ${d} dedicated node(s)` : ''} on NATS ${natsUrl}; try: vigil ctl nodes --nats ${natsUrl} --cluster ${name}; Ctrl-C stops everything`);
    for (const c of children) {
      void c.exited.then(() => {
        if (!c.stopping) process.stderr.write(`vigil cluster: ${c.name} (pid ${c.child.pid}) exited with ${exitText(c.child)}; its log: ${c.log}\n`);
      });
    }
    await stopSignal;
    say('stopping: the nodes hand their shards off, then NATS stops');
    await stopAll();
    say('stopped');
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

/** What the nodes beside gateways got: a cgroup idle as a whole, or why not and what that costs. */
function idleGroupLine(placed: IdleGroupPlacement, inThisSession: boolean): string {
  if (placed.kind === 'cgroup') return `cpu       the nodes run at SCHED_IDLE in cgroup ${placed.path} (cpu.idle 1): the gateways' answers come first`;
  const lead = `cpu       warning: the nodes could not join an idle CPU cgroup (${placed.reason}); they run at SCHED_IDLE, nice 19, `;
  if (!autogroupsOn()) return `${lead}which yields to the gateways (the kernel's autogroups are off)`;
  return lead + (inThisSession
    ? 'in this session beside the gateways, which they yield to; with the kernel\'s autogroups on they do not yield to the processes of other sessions (Redis, the host\'s services): run as root, or turn autogroups off (sysctl kernel.sched_autogroup_enabled=0), for that'
    : 'each in a session of its own (no perl to start them in this one), and with the kernel\'s autogroups on (kernel.sched_autogroup_enabled = 1) that yields to the gateways only within that session: run as root, or turn autogroups off (sysctl kernel.sched_autogroup_enabled=0), so the gateways answer first');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Starts a child in a group of its own: through `ownGroup` (this session), or else in a session of its own. */
function start(children: Child[], ownGroup: string[] | undefined, name: string, bin: string, args: string[], dir: string, env: Record<string, string>): Child {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const [file, ...argv] = ownGroup ? [...ownGroup, bin, ...args] : [bin, ...args];
  const child = spawn(file!, argv, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: ownGroup === undefined });
  closeSync(fd);
  const exited = new Promise<void>((r) => {
    if (!alive(child)) r();
    child.once('exit', () => r());
    child.once('error', () => r());
  });
  const c: Child = { name, child, log, exited, stopping: false };
  children.push(c);
  return c;
}

/** Waits until `probe` says yes; fails when the child exits first, the time runs out or a stop is asked for. */
async function ready(c: Child, probe: () => Promise<boolean>, stop: Promise<void>): Promise<void> {
  let asked = false;
  void stop.then(() => { asked = true; });
  let spawnError: Error | undefined;
  c.child.once('error', (err) => { spawnError = err; });
  const until = Date.now() + READY_MS;
  for (;;) {
    if (asked) throw new VigilError('UNAVAILABLE', `vigil cluster up: stopped before ${c.name} was ready`);
    if (spawnError) throw new VigilError('UNAVAILABLE', `vigil cluster up: cannot start ${c.name}: ${spawnError.message}`);
    if (!alive(c.child)) throw new VigilError('INTERNAL', `vigil cluster up: ${c.name} exited with ${exitText(c.child)} before it was ready: ${lastLine(c.log)} (log ${c.log})`);
    if (await probe()) return;
    if (Date.now() > until) throw new VigilError('INTERNAL', `vigil cluster up: ${c.name} not ready after ${READY_MS / 1000} s (log ${c.log})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopChildren(children: Child[]): Promise<void> {
  const nodes = children.filter((c) => c.name !== 'nats');
  await Promise.all(nodes.map((c) => stopChild(c, 'SIGTERM', NODE_STOP_MS)));
  await Promise.all(children.filter((c) => c.name === 'nats').map((c) => stopChild(c, 'SIGTERM', NATS_STOP_MS)));
}

async function stopChild(c: Child, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  c.stopping = true;
  if (!alive(c.child)) return;
  c.child.kill(signal);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

function alive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function exitText(child: ChildProcess): string {
  return child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode ?? '?'}`;
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').at(-1)?.slice(0, 300) ?? '';
  } catch {
    return '';
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function httpReady(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await r.body?.cancel();
    return true; // it listens and answers (its level is not our business here)
  } catch {
    return false;
  }
}

async function natsReady(url: string): Promise<boolean> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  try {
    const nc = await connect({ servers: url, reconnect: false, timeout: 1_000 });
    try {
      await jetstreamManager(nc); // JetStream on, not just the port open
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}
