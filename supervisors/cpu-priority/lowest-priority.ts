// How a process runs below every other on one host's CPU: the nodes that own shards beside
// gateway nodes (`vigil cluster up --gateways`, bench:tenancy), so the gateways' answers come
// first and processing takes what they leave; and a gateway's refusal process
// (api/refusals), so a tenant over its quota is answered with the CPU the others leave.
// SCHED_IDLE holds only within a task group; idle-group.ts makes it hold across sessions.
//
// SCHED_IDLE (chrt --idle 0), and nice 19 within it: a task of the normal class that wakes
// preempts a SCHED_IDLE one at once, where against nice 19 alone it may wait out the other's
// slice. bench:tenancy's B (a gateway node, a processing node at nice 19 on every thread):
// p99 26.4 ms with B alone; with the processing node at SCHED_IDLE, 8.6-12.2 ms in eight runs.
// The cost: on a host whose CPU is full of normal work, a SCHED_IDLE process gets none, so
// processing stops (the batches wait in the stream) and its leases can lapse. Give processing
// nodes hosts of their own where that can happen.
//
// On request (`offFirstCpu`, `vigil cluster up --gateway-cpu`), also off the first CPU
// (taskset), where the host has more than one: a gateway then always finds a CPU with no
// thread of processing on it. bench:tenancy's B on two CPUs: p99 alone 9-12 ms without it,
// 4.3-5.4 ms with it. Not the default: what A's flood adds to B stays about 1 ms either way,
// so the ratio the issue measures (with A / alone) came out higher with it (1.02-1.38 in four
// runs against 0.92-1.21; api/tenancy/README.md), and processing loses a CPU.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { leaveIdleGroup } from './idle-group.ts';

/** util-linux's chrt: a scheduling policy for a command, or for the threads of a running process. */
const CHRT = '/usr/bin/chrt';
/** coreutils' nice */
const NICE = '/usr/bin/nice';
/** util-linux's taskset: the CPUs a command, or every thread of a running process, may run on */
const TASKSET = '/usr/bin/taskset';

export interface Lowering {
  /** keep off the first CPU as well (where there is more than one) */
  offFirstCpu?: boolean;
  /** lowerToIdle only: nice 19 in the normal class, not SCHED_IDLE, for a process that must not starve where it could not be raised again */
  normalClass?: boolean;
}

/** The command prefix that starts a program at the lowest priority (every thread inherits it); what is missing here is left out. */
export function lowestPriorityPrefix(how: Lowering = {}): string[] {
  const cpus = how.offFirstCpu ? cpusBesideGateways() : undefined;
  return [
    ...(cpus ? [TASKSET, '--cpu-list', cpus] : []),
    ...(existsSync(CHRT) ? [CHRT, '--idle', '0'] : []),
    ...(existsSync(NICE) ? [NICE, '-n', '19'] : []),
  ];
}

/** The CPUs this process may use but the first (taskset's list form); undefined with one CPU, no taskset or no /proc. */
export function cpusBesideGateways(): string | undefined {
  if (!existsSync(TASKSET)) return undefined;
  const allowed = allowedCpuList('self');
  return allowed === undefined ? undefined : allButFirstCpu(allowed);
}

/** The CPUs a process (a pid, 'self', or a thread: '<pid>/task/<tid>') may run on, in the kernel's list form ("0-3,8"); undefined without /proc or once it is gone. */
export function allowedCpuList(pid: number | string): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The kernel's CPU list form ("0-3,8") as CPU numbers, lowest first; undefined if it is not that form. Pure. */
export function parseCpuList(list: string): number[] | undefined {
  const cpus = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** "0-3,8" -> "1,2,3,8"; a list of one CPU, or not the kernel's form (the CPUs are then left alone) -> undefined. Pure. */
export function allButFirstCpu(list: string): string | undefined {
  const rest = parseCpuList(list)?.slice(1) ?? [];
  return rest.length > 0 ? rest.join(',') : undefined;
}

/**
 * A running process put at the lowest priority (and, asked, off the first CPU), every thread of
 * it (on Linux a priority and a CPU list are a thread's; threads it starts later inherit them).
 * Where not allowed, it stays as it was.
 */
export function lowerToIdle(pid: number, how: Lowering = {}): void {
  let threads = [pid];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // no /proc: the process's own priority is what can be set
  }
  for (const t of threads) {
    try {
      setPriority(t, 19);
    } catch {
      // not allowed here, or the thread ended
    }
  }
  const cpus = how.offFirstCpu ? cpusBesideGateways() : undefined;
  if (cpus) {
    try {
      execFileSync(TASKSET, ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], { stdio: 'ignore' });
    } catch {
      // not allowed here: it keeps every CPU
    }
  }
  if (how.normalClass || !existsSync(CHRT)) return;
  try {
    execFileSync(CHRT, schedulingClass(pid, 'idle'), { stdio: 'ignore' });
  } catch {
    // not allowed here: nice 19 is what it has
  }
}

/**
 * A process lowered by lowerToIdle back in the normal class, every thread of it, at the nice
 * value it has (19), and out of the idle cgroup if it joined it (idle-group.ts): for one that
 * must not starve when the normal class fills every CPU.
 * Resolves whether it was done (no chrt, gone, or not allowed: leaving SCHED_IDLE takes root, or
 * an RLIMIT_NICE of at least 1). Off the caller's event loop.
 */
export function raiseFromIdle(pid: number): Promise<boolean> {
  if (!existsSync(CHRT)) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(CHRT, schedulingClass(pid, 'other'), (err) => resolve(err === null && leaveIdleGroup(pid)));
  });
}

/** chrt's arguments that put every thread of a running process in a class (priority 0, the only one these take). */
function schedulingClass(pid: number, policy: 'idle' | 'other'): string[] {
  return ['--all-tasks', `--${policy}`, '-p', '0', String(pid)];
}
