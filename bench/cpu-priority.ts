// bench:cpu-priority: how late a normal-priority task is served beside processes lowered to
// the lowest CPU priority, by where the lowered ones sit (supervisors/cpu-priority):
//   none         no worker (the floor);
//   session      one worker per CPU at SCHED_IDLE + nice 19, in this process's session;
//   own-session  the same, each in a session of its own (what `vigil cluster up` did with a node until 2026-12-07);
//   idle-group   the same, each also moved into the idle cgroup (joinIdleGroup), as cluster up now does;
//   idle-group-off-first-cpu  the same, and kept off the first CPU (`vigil cluster up --gateway-cpu`).
// --load: what each worker does. spin runs without a pause. burst works 4 ms and sleeps 6 ms,
// the way an event-driven node works through what arrives (a processing node beside gateways).
// --victim: what is timed. sleep: a child process of the normal class sleeps 1 ms (a futex
// wait with a timeout) `--samples` times; the figure is its overshoot. round-trip: a
// normal-class client sends 1 KiB every 5 ms over loopback TCP to an echo server in another
// normal-class process (a request crossing processes, as B's batches do in bench:tenancy); the
// figure is each answer's delay from its scheduled send (timer lateness included, as a
// client's own is). With autogroups on, a session is a task group of its own and SCHED_IDLE
// yields only inside one group. --rounds: the placements are cycled this many times and each
// one's samples pooled, so a minute of the host's own noise weighs on all of them alike.
//
//   npm run bench:cpu-priority -- [--samples 5000] [--rounds 1] [--load spin|burst] [--victim sleep|round-trip] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { autogroupsOn, joinIdleGroup, lowerToIdle } from '../supervisors/index.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '1' },
    load: { type: 'string', default: 'spin' },
    victim: { type: 'string', default: 'sleep' },
    json: { type: 'boolean', default: false },
  },
});
const SAMPLES = Number(args.samples);
function usage(line: string): never {
  process.stderr.write(`bench:cpu-priority: ${line}\n`);
  process.exit(2);
}
if (!Number.isInteger(SAMPLES) || SAMPLES < 100) usage('--samples must be an integer of at least 100');
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) usage('--rounds must be an integer of at least 1');
const LOADS = { spin: 'for (;;) {}', burst: 'const work = () => { const end = performance.now() + 4; while (performance.now() < end) {} setTimeout(work, 6); }; work();' };
if (!(args.load! in LOADS)) usage(`--load must be spin or burst (got ${args.load})`);
const LOAD = LOADS[args.load as keyof typeof LOADS];
if (args.victim !== 'sleep' && args.victim !== 'round-trip') usage(`--victim must be sleep or round-trip (got ${args.victim})`);

type Placement = 'none' | 'session' | 'own-session' | 'idle-group' | 'idle-group-off-first-cpu';

const SLEEPER = `
const cell = new Int32Array(new SharedArrayBuffer(4));
const n = ${SAMPLES}, over = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const t0 = process.hrtime.bigint();
  Atomics.wait(cell, 0, 0, 1);
  over[i] = Number(process.hrtime.bigint() - t0) / 1e6 - 1;
}
process.stdout.write(JSON.stringify(Array.from(over)));`;

const ECHO_SERVER = `
const server = require('node:net').createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));`;

// Sends on a fixed schedule and times each answer from its scheduled send (no coordinated omission).
const ROUND_TRIPPER = `
const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
s.setNoDelay(true);
const n = ${SAMPLES}, every = 5, msg = Buffer.alloc(1024, 1), delay = [], due = [];
let got = 0, sent = 0, start = 0;
s.on('data', (d) => {
  got += d.length;
  while (got >= 1024 && due.length > 0) { got -= 1024; delay.push(performance.now() - due.shift()); }
  if (delay.length === n) { process.stdout.write(JSON.stringify(delay)); s.destroy(); }
});
const tick = () => {
  while (sent < n && performance.now() >= start + sent * every) { due.push(start + sent * every); s.write(msg); sent++; }
  if (sent < n) setTimeout(tick, Math.max(0, start + sent * every - performance.now()));
};
s.once('connect', () => { start = performance.now(); tick(); });`;

/** Runs `code` in a child of the normal class and resolves with the numbers it prints. */
function timed(code: string, argv: string[] = []): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`the timed child exited with ${code}`))));
  });
}

async function victim(): Promise<number[]> {
  if (args.victim === 'sleep') return await timed(SLEEPER);
  const server = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [first] = await once(server.stdout, 'data') as [Buffer];
    return await timed(ROUND_TRIPPER, [first.toString().trim()]);
  } finally {
    server.kill('SIGKILL');
  }
}

function workers(placement: Placement): { children: ChildProcess[]; group?: string } {
  if (placement === 'none') return { children: [] };
  const children: ChildProcess[] = [];
  let group: string | undefined;
  for (let i = 0; i < availableParallelism(); i++) {
    const child = spawn(process.execPath, ['-e', LOAD], { stdio: 'ignore', detached: placement !== 'session' });
    children.push(child);
    lowerToIdle(child.pid!, { offFirstCpu: placement === 'idle-group-off-first-cpu' });
    if (placement.startsWith('idle-group')) {
      const placed = joinIdleGroup(child.pid!);
      if (placed.kind === 'unavailable') {
        for (const c of children) c.kill('SIGKILL');
        throw new Error(`bench:cpu-priority: the idle group is not available here: ${placed.reason}`);
      }
      group = placed.path;
    }
  }
  return { children, group };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const FIGURE = args.victim === 'sleep' ? 'overshoot of a 1 ms sleep' : 'delay of a loopback round trip';
const PLACEMENTS = ['none', 'session', 'own-session', 'idle-group', 'idle-group-off-first-cpu'] as const;
const autogroups = autogroupsOn();
const result: Record<string, unknown> = { samples: SAMPLES, rounds: ROUNDS, cpus: availableParallelism(), autogroups, load: args.load, victim: args.victim };
const pooled = new Map<Placement, number[]>();
const groups = new Map<Placement, string>();
for (let round = 0; round < ROUNDS; round++) {
  for (const placement of PLACEMENTS) {
    if (result[placement] !== undefined) continue; // skipped in an earlier round
    let placed: ReturnType<typeof workers>;
    try {
      placed = workers(placement);
    } catch (err) {
      process.stdout.write(`${placement.padEnd(24)} skipped: ${(err as Error).message}\n`);
      result[placement] = { skipped: (err as Error).message };
      continue;
    }
    try {
      await new Promise((r) => setTimeout(r, 300));
      pooled.set(placement, [...(pooled.get(placement) ?? []), ...await victim()]);
      if (placed.group) groups.set(placement, placed.group);
    } finally {
      for (const c of placed.children) c.kill('SIGKILL');
    }
  }
}
for (const placement of PLACEMENTS) {
  const ms = pooled.get(placement)?.sort((a, b) => a - b);
  if (!ms) continue;
  const group = groups.get(placement);
  const row = { p50_ms: quantile(ms, 0.5), p99_ms: quantile(ms, 0.99), p999_ms: quantile(ms, 0.999), max_ms: ms[ms.length - 1]!, ...(group ? { group } : {}) };
  result[placement] = row;
  process.stdout.write(`${placement.padEnd(24)} ${FIGURE}: p50 ${row.p50_ms.toFixed(3)}  p99 ${row.p99_ms.toFixed(3)}  p99.9 ${row.p999_ms.toFixed(3)}  max ${row.max_ms.toFixed(3)} ms\n`);
}
process.stdout.write(`autogroups ${autogroups ? 'on' : 'off'} (kernel.sched_autogroup_enabled); workers: ${args.load}; ${ROUNDS} round(s)\n`);
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
