// bench:tenancy — the noisy neighbour. Tenant A sends 10x its quota while tenant B sends
// within its own; B must lose nothing and its ingest latency must barely move, and A's
// accepted rate must stay at its quota.
//
//   npm run bench:tenancy -- [--deployment gateway|single] [--seconds N] [--rounds R] [--quota-a S] [--rate-b S] [--redis URL|none] [--checkpoint-interval MS] [--trace FILE] [--control] [--split] [--gateway-cpu] [--cpu-group idle|session|own-session] [--json]
//
// --deployment: gateway (the default) is Vigil as a multi-tenant cluster runs it: a nats-server
// of the bench's own, a processing node (cluster mode, capacity 1: it owns every shard, so it
// runs the detection, the storage and the checkpoints) and a gateway node (capacity 0: it owns
// no shard) that A and B send to. The gateway answers each batch once JetStream has it; the
// processing node reads it from there. On this one host the processing node runs at the lowest
// CPU priority, SCHED_IDLE and nice 19 on every thread of it (supervisors/cpu-priority, as `vigil
// cluster up --gateways` starts it): the gateway's answers come first, and the processing node
// takes every cycle they leave. --gateway-cpu: it (and A's client, and the gateway's refusal
// process) also keep off the host's first CPU, as `vigil cluster up --gateways G --gateway-cpu`
// starts the nodes. --cpu-group: idle
// (the default) also moves the processing node into the idle CPU cgroup, as `vigil cluster up`
// does (where a cgroup can be written; `processing_cpu_group` says where it ran), and so does the
// gateway's refusal process; session leaves both in the bench's session (VIGIL_CPU_IDLE_GROUP=off
// for the gateway), the one task group where SCHED_IDLE alone yields; own-session starts the
// processing node in a session of its own with no idle group, as `vigil cluster up` did before
// the group (a diagnostic of what that cost). Each node has its role's V8 flags (node/runtime-flags.ts). single is one
// embedded node doing everything (its disk log, its actors, its checkpoints) on one event loop,
// as `vigil start` runs.
// --checkpoint-interval: the node's ingest.checkpointIntervalMs (default: the node's own, 5 s).
// --trace: writes every B request (JSON lines: round, phase, sent at Unix ms, latency ms) to FILE,
// to line B's slow requests up with what the node did then (a GC, a checkpoint, a merge).
// --control: a phase per round after B alone, B with A's flood sent to a stand-in server in a process of
// its own (bench/tenancy-standin.ts) instead of the node: b_p99_ratio_control is what the flood
// costs B through the machine alone (two cores shared by the node, both clients and the kernel).
// --split: not Vigil's figure. A and B send to a prototype gateway in a process of its own
// (bench/tenancy-gateway.ts: key, bucket, decode, group-committed log, 202, then the body
// forwarded to the node, which does all the rest): what B's latency would be with the ingest
// path out of the processing's heap and event loop. The JSON says `ack_path: "split-prototype"`.
//
// Starts `vigil start` in a child process with a tenants file (A: --quota-a samples/s,
// default 5,000; B: 10,000/s) and, unless --redis none, VIGIL_REDIS_URL (default
// redis://127.0.0.1:6379) with a key prefix of its own, so the quota is the cluster-wide
// Redis bucket. Then it runs R rounds (default 24, about 15 minutes: at 6 rounds, B alone in the odd
// rounds against B alone in the even ones, the same traffic, came out at 0.41 to 1.60 over seven
// runs, a p99 of 900 requests being set by whether one stall fell in them) of three phases (N seconds each, default
// 6): B alone, B with A at exactly its quota, B with A at 10x its quota; interleaved, so a
// machine whose load drifts affects all alike. Each round ends with a pause of one checkpoint
// interval and a second, no one sending: the node's checkpoint of A's state after A's flood
// falls in it, not in the next B alone (in B alone it raised B's p99 alone, so the ratio read
// low); the pause lasts until the node's /metrics says no shard is behind its snapshots
// (vigil_checkpoint_shards_behind 0), since a large shard's snapshots are paced by their size
// (ingest.checkpointBytesPerSecond) and can come several intervals late. The middle phase separates what A's admitted
// samples cost B (fair) from what A's excess costs B (what the quota must hold at nothing). Requests follow a fixed schedule and latency counts from the
// scheduled time (no coordinated omission): B sends --rate-b samples/s (default 2,500, a
// quarter of its quota) as 50-sample batches; A sends 10x its quota as 500-sample batches.
// A's client is a process of its own (bench/tenancy-load.ts) at the lowest CPU priority, as
// its real clients are elsewhere: its work (ten times the requests, taking the 429s) stays out
// of the event loop timing B; every phase's bodies are built before the phase starts.
// A client that gets 429 does not retry (A's excess is meant to be refused); B retries
// nothing either, so any B request not answered 202 is a lost batch.
// The last stdout line is JSON: b_p99_ratio (B's p99 with A flooding / B's p99 alone),
// b_lost (B samples not accepted), a_accepted_over_quota (A's accepted rate during the floods,
// answered from one second after each one's first answer, the burst being spent by then / its quota;
// a_accepted_over_quota_by_send counts by scheduled send instead, as before),
// b_p99_ratio_ci90 (the 5th and 95th percentiles of b_p99_ratio over runs made of the run's own
// rounds drawn again with replacement: how far another run could land),
// b_p99_ratio_flood_vs_at_quota, b_p99_ratio_alone_odd_vs_even (the machine's own spread: B alone
// against B alone), the node's main-thread CPU per phase and the figures behind them; with --control
// also b_p99_ratio_control (B with A's flood at the stand-in / B alone) and b_p99_ratio_control_ci90.
// steal_alone, steal_a_at_quota, steal_noisy: the share of the host's CPU time the hypervisor
// gave other guests during each phase (/proc/stat); b_p99_ratio_calm and b_calm_share: the
// ratio over the B requests that were sent and answered within seconds whose steal was under 2%,
// and the share of B's requests that were (bench/steal-seconds.ts). Both are diagnostics: on a
// shared virtual machine B's slow requests cluster in the seconds the hypervisor takes the CPU.
// processing_cpu_* (gateway deployment): the processing node's CPU per phase, whole process, of
// one core; host_reclaim_cpu_*: the kernel's kdamond threads' (DAMON, which pages cold memory
// out to the VM's host, proc-cpu.ts), whose bursts every half second hold one of the two CPUs;
// bus_cpu_* (gateway deployment): the nats-server's, which B's appends and the processing node's
// reads, lease renewals and snapshots all go through, at the CPU priority B's path has.
// refusal_cpu_*: the node's child processes' (its refusal process, api/refusals, which holds a
// flooding tenant's connections once its bucket is empty; a gateway node starts it at the first such refusal).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashKey } from '../api/index.ts';
import { IDLE_GROUP_ENV, joinIdleGroup, lowerToIdle, type IdleGroupPlacement } from '../supervisors/cpu-priority/index.ts';
import type { NodeRole } from '../node/runtime-flags.ts';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from '../cluster/index.ts';
import { BatchMaker } from './ingest/batches.ts';
import { startNodeProcess, type ChildNode } from './ingest/child-node.ts';
import { startNatsServer } from '../test/support/nats-server.ts';
import { percentile, round } from './ingest/client.ts';
import { childSeconds, cpuTimes, hostTicks, kernelThreadSeconds, stealShare } from './ingest/proc-cpu.ts';
import { listeningChild } from './listening-child.ts';
import { ratioInterval } from './ratio-interval.ts';
import { StealSeconds } from './steal-seconds.ts';
import type { GatewaySpec } from './tenancy-gateway.ts';
import { bodiesFor, schedule, type LoadCommand, type LoadReply, type ScheduleSpec, type Stream, type Timed } from './tenancy-load.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '24' },
    'quota-a': { type: 'string', default: '5000' },
    'rate-b': { type: 'string', default: '2500' },
    redis: { type: 'string', default: process.env.VIGIL_REDIS_URL || 'redis://127.0.0.1:6379' },
    'checkpoint-interval': { type: 'string' },
    trace: { type: 'string' },
    control: { type: 'boolean', default: false },
    split: { type: 'boolean', default: false },
    'gateway-cpu': { type: 'boolean', default: false },
    'cpu-group': { type: 'string', default: 'idle' },
    deployment: { type: 'string' }, // default: gateway, or single with --split
    json: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const DEPLOYMENT = args.deployment ?? (args.split ? 'single' : 'gateway');
if (DEPLOYMENT !== 'gateway' && DEPLOYMENT !== 'single') {
  process.stderr.write(`bench:tenancy: --deployment must be gateway or single (got ${DEPLOYMENT})\n`);
  process.exit(2);
}
if (args.split && DEPLOYMENT !== 'single') {
  process.stderr.write('bench:tenancy: --split puts its prototype in front of one node, not a gateway: leave --deployment out, or give single\n');
  process.exit(2);
}
if (args['cpu-group'] !== 'idle' && args['cpu-group'] !== 'session' && args['cpu-group'] !== 'own-session') {
  process.stderr.write(`bench:tenancy: --cpu-group must be idle, session or own-session (got ${args['cpu-group']})\n`);
  process.exit(2);
}
const QUOTA_PREFIX = `vigil:bench:${process.pid}:${Date.now()}:`;
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
/** how the processing node and A's client yield the CPU to the gateway (supervisors/cpu-priority) */
const LOWERING = { offFirstCpu: args['gateway-cpu'] };
const QUOTA_A = Number(args['quota-a']);
const CHECKPOINT_MS = args['checkpoint-interval'] === undefined ? undefined : Number(args['checkpoint-interval']);
if (CHECKPOINT_MS !== undefined && !(Number.isInteger(CHECKPOINT_MS) && CHECKPOINT_MS >= 100)) {
  process.stderr.write(`bench:tenancy: --checkpoint-interval must be milliseconds, at least 100 (got ${args['checkpoint-interval']})\n`);
  process.exit(2);
}
const RATE_B = Number(args['rate-b']);
for (const [flag, v] of [['rounds', ROUNDS], ['seconds', SECONDS], ['quota-a', QUOTA_A], ['rate-b', RATE_B]] as const) {
  if (!(Number.isInteger(v) && v >= 1)) {
    process.stderr.write(`bench:tenancy: --${flag} must be a whole number, at least 1 (got ${args[flag]})\n`);
    process.exit(2);
  }
}
const QUOTA_B = 10_000;
const B_BATCH = 50;
const A_BATCH = 500;
const A_MAX_IN_FLIGHT = 64;
const KEYS = { a: 'bench-tenant-a', b: 'bench-tenant-b', admin: 'bench-admin' };
/** a second is calm when the hypervisor took less than this share of the host's CPU time in it */
const CALM_STEAL = 0.02;
const log = (line: string) => { if (!args.json) process.stdout.write(`${line}\n`); };

interface Node {
  /** where the clients send: the node, or the gateway node */
  url: string;
  /** the process that answers the clients */
  pid: number;
  /** the node that takes the checkpoints (the processing node behind a gateway) */
  checkpointsUrl: string;
  /** the processing node behind the gateway (gateway deployment only) */
  processingPid?: number;
  /** where the processing node ran: the idle cgroup's folder, the --cpu-group asked, or why not the group (gateway deployment only) */
  cpuGroup?: string;
  /** the bench's nats-server, which both nodes share (gateway deployment only) */
  busPid?: number;
  /** the temporary folder (configs, tenants file and data) */
  dir: string;
  stop(): Promise<void>;
}

/** One embedded node, or (gateway) a nats-server, a processing node and a gateway node in front. */
async function startNode(): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-tenancy-'));
  const tenants = await writeTenants(dir);
  if (DEPLOYMENT === 'single') {
    const node = await startOne(dir, 'bench-tenancy', tenants, []);
    return { url: node.url, pid: node.pid, checkpointsUrl: node.url, dir, stop: () => node.remove() };
  }
  const nats = await startNatsServer();
  const cluster = (capacity: number) => [`cluster: { enabled: true, natsUrl: ${JSON.stringify(nats.url)}, name: bench-tenancy, capacity: ${capacity} }`];
  const started: ChildNode[] = [];
  const stop = async () => {
    for (const n of started.reverse()) await n.stop().catch(() => undefined);
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const group = args['cpu-group'];
  let cpuGroup: string = group;
  try {
    started.push(await startOne(dir, 'processing', tenants, cluster(1), 'processing', {}, group === 'own-session'));
    // one host for both: the gateway answers clients first, the processing node takes the rest
    // of the CPU (SCHED_IDLE and nice 19, as `vigil cluster up --gateways` runs it)
    lowerToIdle(started[0]!.pid, LOWERING);
    if (group === 'idle') cpuGroup = placementName(joinIdleGroup(started[0]!.pid));
    // the gateway's refusal process follows the same choices (its cgroup, and with --gateway-cpu its CPUs)
    const refusals = { ...(group === 'idle' ? {} : { [IDLE_GROUP_ENV]: 'off' }), ...(LOWERING.offFirstCpu ? { VIGIL_REFUSAL_OFF_FIRST_CPU: '1' } : {}) };
    started.push(await startOne(dir, 'gateway', tenants, cluster(0), 'gateway', refusals));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: started[1]!.url, pid: started[1]!.pid, checkpointsUrl: started[0]!.url, processingPid: started[0]!.pid, busPid: nats.pid, cpuGroup, dir, stop };
}

function placementName(p: IdleGroupPlacement): string {
  return p.kind === 'cgroup' ? p.path : `session (the idle group is unavailable: ${p.reason})`;
}

async function writeTenants(dir: string): Promise<string> {
  const tenants = join(dir, 'tenants.yaml');
  await writeFile(tenants, [
    'tenants:',
    `  - { id: a, rate: ${QUOTA_A}, burst: ${QUOTA_A}, keys: [{ id: a1, sha256: ${hashKey(KEYS.a)} }] }`,
    `  - { id: b, rate: ${QUOTA_B}, burst: ${QUOTA_B}, keys: [{ id: b1, sha256: ${hashKey(KEYS.b)} }] }`,
    '',
  ].join('\n'));
  return tenants;
}

/** A `vigil start` process named `id`, with its own config and data folder under `dir`. */
async function startOne(dir: string, id: string, tenants: string, extra: string[], role: NodeRole = 'processing', env: Record<string, string> = {}, ownSession = false): Promise<ChildNode> {
  const config = join(dir, `${id}.yaml`);
  const data = join(dir, id);
  await writeFile(config, [
    `node: { id: ${id}, dataDir: ${JSON.stringify(data)} }`,
    'http: { host: 127.0.0.1, port: 0 }',
    `auth: { adminKeyHash: ${hashKey(KEYS.admin)} }`,
    `tenancy: { file: ${JSON.stringify(tenants)}, quotaPrefix: "${QUOTA_PREFIX}" }`, // one bucket per tenant for every node
    'log: { level: info }',
    ...(CHECKPOINT_MS !== undefined ? [`ingest: { checkpointIntervalMs: ${CHECKPOINT_MS} }`] : []),
    ...extra,
    '',
  ].join('\n'));
  return await startNodeProcess(dir, config, data, { env: { VIGIL_REDIS_URL: args.redis === 'none' ? '' : args.redis!, ...env }, role, ownSession });
}

/** The control's stand-in (bench/tenancy-standin.ts): its URL, and a stop. */
async function startStandIn(): Promise<{ url: string; stop(): Promise<void> }> {
  const { child, url } = await listeningChild(new URL('./tenancy-standin.ts', import.meta.url), [], "the control's stand-in");
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ exit: true });
      await exited;
    },
  };
}

/** --split's gateway (bench/tenancy-gateway.ts), in front of the node: its URL, and a stop with its counts. */
async function startGateway(nodeUrl: string, dir: string): Promise<{ url: string; stop(): Promise<{ forwardRefused: number; forwardFailed: number }> }> {
  const spec: GatewaySpec = { node: nodeUrl, log: join(dir, 'gateway.log'), quotas: { [KEYS.a]: QUOTA_A, [KEYS.b]: QUOTA_B } };
  const { child, url } = await listeningChild(new URL('./tenancy-gateway.ts', import.meta.url), [JSON.stringify(spec)], "the split's gateway");
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) throw new Error(`the split's gateway exited early (${child.exitCode})`);
      const counts = new Promise<{ forwardRefused: number; forwardFailed: number }>((resolve, reject) => {
        child.once('message', (m) => resolve(m as { forwardRefused: number; forwardFailed: number }));
        child.once('exit', (code) => reject(new Error(`the split's gateway exited (${code}) before it reported its counts`)));
      });
      child.send({ exit: true });
      return await counts;
    },
  };
}

/** Tenant A's client: a process of its own (bench/tenancy-load.ts). */
interface LoadClient {
  /** builds the phase's bodies; resolves with a function that starts it and resolves with its Stream */
  prepare(spec: ScheduleSpec): Promise<() => Promise<Stream>>;
  stop(): Promise<void>;
}

async function startLoadClient(): Promise<LoadClient> {
  const child = fork(fileURLToPath(new URL('./tenancy-load.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`tenant A's client exited (${code}) before it was ready`)));
  });
  // On the one machine the bench has, A's client would take CPU from the node and from B's
  // client (A's real clients run elsewhere): it runs at the lowest priority (with --gateway-cpu,
  // off the CPU kept for the gateway too), and the result shows it still sent the whole flood
  // (a_sent_per_s). Every thread of it: on Linux a priority is a thread's, and its GC and libuv
  // threads exist by the time it is ready.
  lowerToIdle(child.pid!, LOWERING);
  const next = () => new Promise<LoadReply>((resolve) => child.once('message', (m) => resolve(m as LoadReply)));
  return {
    prepare: async (spec) => {
      const prepared = next();
      child.send({ prepare: spec } satisfies LoadCommand);
      await prepared;
      return async () => {
        const done = next();
        child.send({ go: true } satisfies LoadCommand);
        return await done as Stream;
      };
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ exit: true } satisfies LoadCommand);
      await exited;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the node's checkpoints cover every shard's log (vigil_checkpoint_shards_behind 0); says so on stderr after 60 s and goes on. */
async function checkpointsCaughtUp(base: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const text = await (await fetch(new URL('/metrics', base))).text();
    const behind = Number(/^vigil_checkpoint_shards_behind (\S+)$/m.exec(text)?.[1] ?? 'NaN');
    if (behind === 0) return;
    if (Date.now() > until) {
      process.stderr.write(`bench:tenancy: ${behind} shards still behind their snapshots after 60 s; the next round starts anyway\n`);
      return;
    }
    await sleep(250);
  }
}

async function usage(base: string, key: string): Promise<{ quota: { mode: string } | null; rejections: Record<string, number> }> {
  const res = await fetch(new URL('/v1/usage', base), { headers: { authorization: `Bearer ${key}` } });
  return await res.json() as { quota: { mode: string } | null; rejections: Record<string, number> };
}

async function retryAfterOf429(base: string): Promise<string | null> {
  // A's requests after the flood, each over its burst: one passes from whatever the bucket
  // refilled (leaving a debt), the next is refused and shows what A's clients are told. On a
  // loaded machine an answer can come so late that the bucket refilled meanwhile: a few tries.
  const send = () => fetch(new URL('/v1/metrics', base), {
    method: 'POST', headers: { authorization: `Bearer ${KEYS.a}`, 'content-type': 'application/json' },
    body: JSON.stringify({ series: [{ service: 'probe', metric: 'm', samples: Array.from({ length: QUOTA_A * 2 }, (_, i) => [Date.now() - 60_000 + i, 1]) }] }),
  });
  let last = '';
  for (let i = 0; i < 5; i++) {
    const res = await send();
    await res.arrayBuffer();
    if (res.status === 429) return res.headers.get('retry-after');
    last = `status ${res.status}`;
  }
  return last;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Every B request as a JSON line: round, phase, when it was sent (Unix ms), its latency and status. */
async function writeTrace(file: string, phases: Record<string, Stream[]>): Promise<void> {
  const lines: string[] = [];
  for (const [phase, streams] of Object.entries(phases)) {
    for (const [r, s] of streams.entries()) {
      for (const o of s.outcomes) lines.push(JSON.stringify({ round: r + 1, phase, at: Math.round(s.startedAt + o.t * 1000), ms: round(o.ms, 3), status: o.status }));
    }
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}

function latencies(s: Stream): number[] {
  return s.outcomes.filter((o) => o.status === 202).map((o) => o.ms).sort((x, y) => x - y);
}

async function main(): Promise<void> {
  const node = await startNode();
  const steal = new StealSeconds();
  const clientA = await startLoadClient();
  const standIn = args.control ? await startStandIn() : undefined;
  const gateway = args.split ? await startGateway(node.url, node.dir) : undefined;
  let split: { forwardRefused: number; forwardFailed: number } | undefined;
  // where A and B send: the node, or with --split the prototype gateway in front of it
  const front = gateway?.url ?? node.url;
  try {
    const start = Date.now() - 3600_000;
    const makerB = new BatchMaker(B_BATCH, 1, start, false);
    const bPerSecond = RATE_B / B_BATCH;
    // every phase's bodies are built before it starts, B's here and A's in its client
    const bRun = (seconds: number, maxInFlight: number) => {
      const spec: ScheduleSpec = { base: front, key: KEYS.b, series: B_BATCH, samples: 1, start, perSecond: bPerSecond, seconds, maxInFlight };
      const bodies = bodiesFor(spec, makerB);
      return () => schedule(spec, bodies);
    };
    const bPhase = () => bRun(SECONDS, 256);
    const aPhase = (times: number, base = front) => clientA.prepare({
      base, key: KEYS.a, series: A_BATCH / 5, samples: 5, start, perSecond: (QUOTA_A * times) / A_BATCH, seconds: SECONDS, maxInFlight: A_MAX_IN_FLIGHT,
    });
    /** B and A started at the same moment, once both sets of bodies are built */
    const together = async (times: number, base?: string): Promise<() => Promise<[Stream, Stream]>> => {
      const [b, a] = [bPhase(), await aPhase(times, base)];
      return () => Promise.all([b(), a()]);
    };
    log(`${DEPLOYMENT === 'gateway' ? 'gateway node (a processing node behind it)' : 'node'} ${node.url}${gateway ? ` behind the split's gateway ${gateway.url}` : ''}; A quota ${QUOTA_A}/s, flooding at ${QUOTA_A * 10}/s; B quota ${QUOTA_B}/s, sending ${RATE_B}/s; `
      + `${ROUNDS} rounds of ${SECONDS} s each: B alone, B with A at its quota, B with A at 10x; load ${loadavg()[0]!.toFixed(1)}`);
    // warm-up: the node's first requests compile code paths and spawn the actors
    await bRun(2, 64)();
    await (await aPhase(1))();
    // between rounds: every snapshot of A's state taken before B is alone again (a shard's
    // snapshots are paced by their size, so A's large one can come several intervals late)
    const settle = async () => {
      await sleep((CHECKPOINT_MS ?? DEFAULT_CHECKPOINT_INTERVAL_MS) + 1000);
      await checkpointsCaughtUp(node.checkpointsUrl);
    };
    await settle();
    type Phase = 'alone' | 'atQuota' | 'noisy' | 'elsewhere';
    const b: Record<Phase, Stream[]> = { alone: [], atQuota: [], noisy: [], elsewhere: [] };
    const floods: Stream[] = [];
    // the node's main-thread CPU per phase: on a shared machine latency swings with the
    // neighbours; what A's flood costs the node itself shows here
    // and the host's steal (the hypervisor's share of its CPU time) per phase
    const zero = () => ({ s: 0, processing: 0, bus: 0, reclaim: 0, refusals: 0, wall: 0, host: { steal: 0, total: 0 } });
    const cpu: Record<Phase, ReturnType<typeof zero>> = { alone: zero(), atQuota: zero(), noisy: zero(), elsewhere: zero() };
    const measure = async <T>(phase: Phase, run: () => Promise<T>): Promise<T> => {
      const of = (pid: number | undefined) => (pid === undefined ? Promise.resolve(undefined) : cpuTimes(pid));
      const [c0, p0, n0, k0, r0, h0, t0] = [await cpuTimes(node.pid), await of(node.processingPid), await of(node.busPid), await kernelThreadSeconds('kdamond'), await childSeconds(node.pid), await hostTicks(), performance.now()];
      const out = await run();
      const [c1, p1, n1, k1, r1, h1] = [await cpuTimes(node.pid), await of(node.processingPid), await of(node.busPid), await kernelThreadSeconds('kdamond'), await childSeconds(node.pid), await hostTicks()];
      for (const [pid, s] of r1) cpu[phase].refusals += s - (r0.get(pid) ?? 0);
      if (c0 && c1) cpu[phase].s += c1.main - c0.main;
      if (p0 && p1) cpu[phase].processing += p1.process - p0.process;
      if (n0 && n1) cpu[phase].bus += n1.process - n0.process;
      cpu[phase].reclaim += Math.max(0, k1 - k0); // a kdamond restarted meanwhile counts from 0
      if (h0 && h1) {
        cpu[phase].host.steal += h1.steal - h0.steal;
        cpu[phase].host.total += h1.total - h0.total;
      }
      cpu[phase].wall += (performance.now() - t0) / 1000;
      return out;
    };
    steal.start();
    for (let r = 0; r < ROUNDS; r++) {
      const alone = bPhase();
      b.alone.push(await measure('alone', alone));
      // the control after B alone, never right after A's phases: it would carry the node's
      // checkpoint of A's state from them, which would count as the machine's cost
      if (standIn) b.elsewhere.push((await measure('elsewhere', await together(10, standIn.url)))[0]);
      const [withA] = await measure('atQuota', await together(1));
      b.atQuota.push(withA);
      const [withFlood, flood] = await measure('noisy', await together(10));
      b.noisy.push(withFlood);
      floods.push(flood);
      await settle();
      const p99 = (x: Stream) => round(percentile(latencies(x), 99));
      log(`round ${r + 1}: B p99 alone ${p99(b.alone[r]!)} ms, with A at its quota ${p99(withA)} ms, with A at 10x ${p99(withFlood)} ms${standIn ? `, with A's flood at the stand-in ${p99(b.elsewhere[r]!)} ms` : ''}; `
        + `A accepted ${flood.outcomes.reduce((n, o) => n + o.accepted, 0)} of ${flood.samplesSent} samples offered`);
    }
    steal.stop();
    if (args.trace) await writeTrace(args.trace, b); // without --control, `elsewhere` has no rounds
    const pool = (xs: Stream[]) => xs.flatMap(latencies).sort((x, y) => x - y);
    const all = [...b.alone, ...b.atQuota, ...b.noisy, ...b.elsewhere];
    const bSent = all.reduce((n, s) => n + s.samplesSent, 0);
    const bAccepted = all.reduce((n, s) => n + s.outcomes.reduce((m, o) => m + o.accepted, 0), 0);
    const bSkipped = all.reduce((n, s) => n + s.skipped, 0);
    // A's rate over each flood after its first second: a flood starts on a bucket refilled to
    // its burst while B was alone, which the quota allows once, not per second
    // Timed by the answer, which follows the bucket's decision by one log append, not by the
    // scheduled send: on a lagging node a batch sent in the first second may be admitted in the
    // third, from tokens the refill brought then (counted by send time, the first second took
    // three seconds' tokens and the rest of the flood looked starved: 0.72 of the quota at load 20).
    // The first second is counted from the first answer, when the node reached the flood (the
    // burst is spent then, however late that is), up to the last answer.
    const answered = (o: Timed) => o.t + o.ms / 1000;
    const aSteady = floods.map((f) => {
      const times = f.outcomes.map(answered);
      const from = Math.min(...times) + 1;
      const to = Math.max(...times);
      return { accepted: f.outcomes.filter((o) => answered(o) >= from).reduce((n, o) => n + o.accepted, 0), seconds: to - from };
    });
    const aSteadyRate = aSteady.reduce((n, x) => n + x.accepted, 0) / aSteady.reduce((n, x) => n + x.seconds, 0);
    const bySend = floods.flatMap((f) => f.outcomes.filter((o) => o.t >= 1));
    const aSteadyRateBySend = bySend.reduce((n, o) => n + o.accepted, 0) / (floods.length * (SECONDS - 1));
    const aAll = floods.reduce((n, f) => n + f.outcomes.reduce((m, o) => m + o.accepted, 0), 0);
    const a429 = floods.reduce((n, f) => n + f.outcomes.filter((o) => o.status === 429).length, 0);
    const aOther = floods.reduce((n, f) => n + f.outcomes.filter((o) => o.status !== 429 && o.status !== 202).length, 0);
    split = await gateway?.stop();
    const retryAfter = await retryAfterOf429(node.url);
    const ua = await usage(node.url, KEYS.a);
    const ub = await usage(node.url, KEYS.b);
    const p = (phase: Phase, q: number) => round(percentile(pool(b[phase]), q));
    const busy = (phase: Phase) => round(cpu[phase].s / cpu[phase].wall, 3);
    const processingBusy = (phase: Phase) => round(cpu[phase].processing / cpu[phase].wall, 3);
    const busBusy = (phase: Phase) => round(cpu[phase].bus / cpu[phase].wall, 3);
    const refusalsBusy = (phase: Phase) => round(cpu[phase].refusals / cpu[phase].wall, 3);
    const reclaimBusy = (phase: Phase) => round(cpu[phase].reclaim / cpu[phase].wall, 3);
    const stolen = (phase: Phase) => round(stealShare({ steal: 0, total: 0 }, cpu[phase].host), 3); // the phase's ticks, summed over its rounds
    // B's requests sent and answered within calm seconds only: what the flood costs B when the
    // hypervisor is not taking the CPU (a diagnostic beside b_p99_ratio, never in its place)
    const calmLatencies = (s: Stream) => s.outcomes.filter((o) => o.status === 202 && steal.calm(s.startedAt + o.t * 1000, s.startedAt + o.t * 1000 + o.ms, CALM_STEAL)).map((o) => o.ms);
    const calmPool = (xs: Stream[]) => xs.flatMap(calmLatencies).sort((x, y) => x - y);
    const [calmAlone, calmNoisy] = [calmPool(b.alone), calmPool(b.noisy)];
    // how far the run can be trusted: the ratio over resampled rounds (bench/ratio-interval.ts)
    const interval = ratioInterval(b.noisy.map(latencies), b.alone.map(latencies), 99);
    const control = standIn ? ratioInterval(b.elsewhere.map(latencies), b.alone.map(latencies), 99) : undefined;
    const result = {
      b_p99_ratio: round(p('noisy', 99) / p('alone', 99), 3),
      b_p99_ratio_ci90: [round(interval.lo, 3), round(interval.hi, 3)],
      b_lost: bSent - bAccepted + bSkipped * B_BATCH,
      a_accepted_over_quota: round(aSteadyRate / QUOTA_A, 3),
      a_accepted_over_quota_by_send: round(aSteadyRateBySend / QUOTA_A, 3),
      b_p99_ratio_flood_vs_at_quota: round(p('noisy', 99) / p('atQuota', 99), 3),
      // per round, then the median: one phase hit by a neighbour's burst weighs less than in the pooled p99
      b_p99_ratio_median_of_rounds: round(median(b.noisy.map((x, r) => percentile(latencies(x), 99) / percentile(latencies(b.alone[r]!), 99))), 3),
      // the machine's own spread: B alone in the odd rounds against B alone in the even ones, the
      // same traffic with no A at all; a b_p99_ratio inside this spread is not decided by the run
      b_p99_ratio_alone_odd_vs_even: round(percentile(pool(b.alone.filter((_, r) => r % 2 === 0)), 99) / percentile(pool(b.alone.filter((_, r) => r % 2 === 1)), 99), 3),
      b_p99_ratio_calm: calmAlone.length > 0 && calmNoisy.length > 0 ? round(percentile(calmNoisy, 99) / percentile(calmAlone, 99), 3) : null,
      b_calm_share: { alone: round(calmAlone.length / Math.max(1, pool(b.alone).length), 3), noisy: round(calmNoisy.length / Math.max(1, pool(b.noisy).length), 3) },
      steal_alone: stolen('alone'), steal_a_at_quota: stolen('atQuota'), steal_noisy: stolen('noisy'),
      b_p50_alone_ms: p('alone', 50), b_p99_alone_ms: p('alone', 99),
      b_p50_a_at_quota_ms: p('atQuota', 50), b_p99_a_at_quota_ms: p('atQuota', 99),
      b_p50_noisy_ms: p('noisy', 50), b_p99_noisy_ms: p('noisy', 99),
      ...(control ? {
        b_p99_ratio_control: round(p('elsewhere', 99) / p('alone', 99), 3),
        b_p99_ratio_control_ci90: [round(control.lo, 3), round(control.hi, 3)],
        b_p99_control_ms: p('elsewhere', 99), node_cpu_control: busy('elsewhere'),
      } : {}),
      b_requests: pool(all).length, b_samples_sent: bSent, b_rejections: ub.rejections,
      a_quota: QUOTA_A, a_offered_per_s: QUOTA_A * 10,
      a_sent_per_s: round(floods.reduce((n, f) => n + f.samplesSent, 0) / (floods.length * SECONDS), 1), a_accepted_per_s_steady: round(aSteadyRate, 1),
      a_accepted_per_s_with_burst: round(aAll / (floods.length * SECONDS), 1),
      a_429: a429, a_429_with_retry_after: floods.reduce((n, f) => n + f.retryAfter, 0), a_retry_after: retryAfter,
      a_other_failures: aOther, a_skipped: floods.reduce((n, f) => n + f.skipped, 0), a_rejections: ua.rejections,
      a_client_cpu_flood: round(floods.reduce((n, f) => n + f.clientCpu, 0) / (floods.length * SECONDS), 3),
      node_cpu_alone: busy('alone'), node_cpu_a_at_quota: busy('atQuota'), node_cpu_noisy: busy('noisy'),
      refusal_cpu_alone: refusalsBusy('alone'), refusal_cpu_a_at_quota: refusalsBusy('atQuota'), refusal_cpu_noisy: refusalsBusy('noisy'),
      ...(node.processingPid === undefined ? {} : {
        processing_cpu_alone: processingBusy('alone'), processing_cpu_a_at_quota: processingBusy('atQuota'), processing_cpu_noisy: processingBusy('noisy'),
      }),
      ...(node.busPid === undefined ? {} : {
        bus_cpu_alone: busBusy('alone'), bus_cpu_a_at_quota: busBusy('atQuota'), bus_cpu_noisy: busBusy('noisy'),
      }),
      host_reclaim_cpu_alone: reclaimBusy('alone'), host_reclaim_cpu_a_at_quota: reclaimBusy('atQuota'), host_reclaim_cpu_noisy: reclaimBusy('noisy'),
      deployment: DEPLOYMENT,
      ...(node.cpuGroup === undefined ? {} : { processing_cpu_group: node.cpuGroup }),
      ack_path: split ? 'split-prototype' : DEPLOYMENT === 'gateway' ? 'gateway-node' : 'node', gateway_cpu: LOWERING.offFirstCpu,
      ...(split ? { split_forward_refused: split.forwardRefused, split_forward_failed: split.forwardFailed } : {}),
      quota_mode: ua.quota?.mode ?? 'off', checkpoint_interval_ms: CHECKPOINT_MS ?? DEFAULT_CHECKPOINT_INTERVAL_MS, seconds: SECONDS, rounds: ROUNDS, load: round(loadavg()[0]!, 1),
    };
    log(`B: p99 alone ${result.b_p99_alone_ms} ms, with A at its quota ${result.b_p99_a_at_quota_ms} ms, with A at 10x ${result.b_p99_noisy_ms} ms `
      + `(ratio ${result.b_p99_ratio}, 90% of resampled runs within ${result.b_p99_ratio_ci90.join('–')}, median of rounds ${result.b_p99_ratio_median_of_rounds}; flood vs A at its quota ${result.b_p99_ratio_flood_vs_at_quota}; `
      + `B alone against B alone, odd rounds vs even: ${result.b_p99_ratio_alone_odd_vs_even}); lost ${result.b_lost} of ${bSent} samples`);
    if (control) log(`control: B p99 with A's flood sent to a stand-in, not the node, ${result.b_p99_control_ms} ms (ratio ${result.b_p99_ratio_control}, `
      + `90% of resampled runs within ${result.b_p99_ratio_control_ci90?.join('–')}): what the flood costs B through the machine alone`);
    log(`the hypervisor took ${Math.round(result.steal_alone * 1000) / 10}% of the host's CPU time with B alone, ${Math.round(result.steal_a_at_quota * 1000) / 10}% with A at its quota, ${Math.round(result.steal_noisy * 1000) / 10}% with A at 10x; `
      + `over B's requests in calm seconds only (steal under ${CALM_STEAL * 100}%: ${Math.round(result.b_calm_share.alone * 100)}% of B alone's, ${Math.round(result.b_calm_share.noisy * 100)}% of the flood's) the ratio is ${result.b_p99_ratio_calm}`);
    log(`node main thread busy (of one core): ${Math.round(result.node_cpu_alone * 100)}% B alone, ${Math.round(result.node_cpu_a_at_quota * 100)}% with A at its quota, `
      + `${Math.round(result.node_cpu_noisy * 100)}% with A at 10x`);
    log(`its refusal process (api/refusals; whole process, of one core): ${Math.round(result.refusal_cpu_alone * 100)}% B alone, `
      + `${Math.round(result.refusal_cpu_a_at_quota * 100)}% with A at its quota, ${Math.round(result.refusal_cpu_noisy * 100)}% with A at 10x`);
    if (result.processing_cpu_alone !== undefined) {
      log(`processing node busy (whole process, of one core): ${Math.round(result.processing_cpu_alone * 100)}% B alone, ${Math.round(result.processing_cpu_a_at_quota! * 100)}% with A at its quota, `
        + `${Math.round(result.processing_cpu_noisy! * 100)}% with A at 10x; its CPU group: ${node.cpuGroup}`);
    }
    log(`the kernel's kdamond (memory reclaim) took ${Math.round(result.host_reclaim_cpu_alone * 1000) / 10}% of one core with B alone, ${Math.round(result.host_reclaim_cpu_a_at_quota * 1000) / 10}% with A at its quota, `
      + `${Math.round(result.host_reclaim_cpu_noisy * 1000) / 10}% with A at 10x`);
    log(`A: accepted ${result.a_accepted_per_s_steady}/s answered after each flood's first second against a quota of ${QUOTA_A}/s (${result.a_accepted_over_quota}x; `
      + `${result.a_accepted_per_s_with_burst}/s with the burst); ${a429} answered 429 (${result.a_429_with_retry_after} with Retry-After; a probe got ${retryAfter}); quota buckets: ${result.quota_mode}`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    steal.stop();
    await clientA.stop();
    await standIn?.stop();
    if (gateway && !split) await gateway.stop().catch(() => undefined); // the run failed before: its error is the one to see
    await node.stop();
  }
}

await main();
