// bench:cpu-priority: how late a normal-priority task wakes beside processes lowered to the
// lowest CPU priority, by where the lowered ones sit (supervisors/cpu-priority):
//   none        no spinner (the floor);
//   session     one spinner per CPU at SCHED_IDLE + nice 19, in this process's session;
//   own-session the same, each in a session of its own (what `vigil cluster up` did with a node until 2026-12-07);
//   idle-group  the same, each also moved into the idle cgroup (joinIdleGroup), as cluster up now does.
// The sleeper is a child process of the normal class that sleeps 1 ms (a futex wait with a
// timeout) `--samples` times; the figure is its overshoot. With autogroups on, a session is a
// task group of its own and SCHED_IDLE yields only inside one group.
//
//   npm run bench:cpu-priority -- [--samples 5000] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { autogroupsOn, joinIdleGroup, lowerToIdle } from '../supervisors/index.ts';

const { values: args } = parseArgs({ options: { samples: { type: 'string', default: '5000' }, json: { type: 'boolean', default: false } } });
const SAMPLES = Number(args.samples);
if (!Number.isInteger(SAMPLES) || SAMPLES < 100) {
  process.stderr.write('bench:cpu-priority: --samples must be an integer of at least 100\n');
  process.exit(2);
}

type Placement = 'none' | 'session' | 'own-session' | 'idle-group';

const SLEEPER = `
const cell = new Int32Array(new SharedArrayBuffer(4));
const n = ${SAMPLES}, over = new Float64Array(n);
for (let i = 0; i < n; i++) {
  const t0 = process.hrtime.bigint();
  Atomics.wait(cell, 0, 0, 1);
  over[i] = Number(process.hrtime.bigint() - t0) / 1e6 - 1;
}
process.stdout.write(JSON.stringify(Array.from(over)));`;

function sleeper(): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SLEEPER], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`the sleeper exited with ${code}`))));
  });
}

function spinners(placement: Placement): { children: ChildProcess[]; group?: string } {
  if (placement === 'none') return { children: [] };
  const children: ChildProcess[] = [];
  let group: string | undefined;
  for (let i = 0; i < availableParallelism(); i++) {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: placement !== 'session' });
    lowerToIdle(child.pid!);
    if (placement === 'idle-group') {
      const placed = joinIdleGroup(child.pid!);
      if (placed.kind === 'unavailable') throw new Error(`bench:cpu-priority: the idle group is not available here: ${placed.reason}`);
      group = placed.path;
    }
    children.push(child);
  }
  return { children, group };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const autogroups = autogroupsOn();
const result: Record<string, unknown> = { samples: SAMPLES, cpus: availableParallelism(), autogroups };
for (const placement of ['none', 'session', 'own-session', 'idle-group'] as const) {
  let spun: ReturnType<typeof spinners>;
  try {
    spun = spinners(placement);
  } catch (err) {
    process.stdout.write(`${placement.padEnd(12)} skipped: ${(err as Error).message}\n`);
    result[placement] = { skipped: (err as Error).message };
    continue;
  }
  try {
    await new Promise((r) => setTimeout(r, 300));
    const over = (await sleeper()).sort((a, b) => a - b);
    const row = { p50_ms: quantile(over, 0.5), p99_ms: quantile(over, 0.99), p999_ms: quantile(over, 0.999), max_ms: over[over.length - 1]!, ...(spun.group ? { group: spun.group } : {}) };
    result[placement] = row;
    process.stdout.write(`${placement.padEnd(12)} overshoot of a 1 ms sleep: p50 ${row.p50_ms.toFixed(3)}  p99 ${row.p99_ms.toFixed(3)}  p99.9 ${row.p999_ms.toFixed(3)}  max ${row.max_ms.toFixed(3)} ms\n`);
  } finally {
    for (const c of spun.children) c.kill('SIGKILL');
  }
}
process.stdout.write(`autogroups ${autogroups ? 'on' : 'off'} (kernel.sched_autogroup_enabled)\n`);
if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
