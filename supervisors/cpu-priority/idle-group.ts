// A CPU cgroup whose cpu.idle is 1: SCHED_IDLE for a whole group of tasks (Linux 5.15+).
//
// Why it is needed beside SCHED_IDLE: the kernel weighs a SCHED_IDLE task against the others of
// its own task group only. With autogroups on (kernel.sched_autogroup_enabled, the default of
// most distributions' kernels), every session is a task group of its own. A processing node in
// another session than a gateway (or a Redis, a nats-server) is, between groups, as heavy as
// it: the woken one waits out its slice. (`vigil cluster up` keeps its children in its own
// session, launcher-session.ts; this group makes them yield to the host's other sessions too.) A normal task's 1 ms sleep beside two SCHED_IDLE spinners, on a 2-CPU host, woke
// p99 0.09 ms late with the spinners in its session, 5.9 ms with each in a session of its own,
// 0.10 ms with them in this group (README.md; npm run bench:cpu-priority).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The group's folder name, under the cgroup the caller runs in: every Vigil node lowered on the host shares it. */
export const IDLE_GROUP_NAME = 'vigil-idle';

/** `off` in the environment: leave the cgroups alone (an operator who places processes in cgroups of their own). */
export const IDLE_GROUP_ENV = 'VIGIL_CPU_IDLE_GROUP';

export type IdleGroupPlacement =
  | { kind: 'cgroup'; /** the group's folder, e.g. /sys/fs/cgroup/cpu/vigil-idle */ path: string }
  | { kind: 'unavailable'; /** why, in one line */ reason: string };

/** Where the CPU controller is: a cgroup v1 hierarchy with `cpu`, or the unified (v2) one. */
export interface CpuController {
  version: 1 | 2;
  /** its mount point */
  mount: string;
}

/**
 * The CPU controller's mount from /proc/self/mountinfo's text: a v1 hierarchy that has `cpu`
 * wins (on a hybrid host the controller is bound there, not in the unified tree). Pure.
 */
export function cpuControllerIn(mountinfo: string): CpuController | undefined {
  let unified: CpuController | undefined;
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const mount = before.split(' ')[4];
    const [fstype, , superOptions = ''] = after.split(' ');
    if (mount === undefined) continue;
    if (fstype === 'cgroup' && superOptions.split(',').includes('cpu')) return { version: 1, mount: unescapeMount(mount) };
    if (fstype === 'cgroup2') unified ??= { version: 2, mount: unescapeMount(mount) };
  }
  return unified;
}

/** The cgroup path of a process in a controller's hierarchy, from /proc/<pid>/cgroup's text. Pure. */
export function cgroupPathIn(procCgroup: string, controller: CpuController): string | undefined {
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (controller.version === 2 ? m[1] === '0' && m[2] === '' : m[2]!.split(',').includes('cpu')) return m[3];
  }
  return undefined;
}

/**
 * Moves a running process (every thread; threads it starts later follow) into the idle group
 * beside the caller's own cgroup. Where it cannot (no CPU controller, not allowed: writing a
 * cgroup takes root or a delegated tree, a kernel before cpu.idle, VIGIL_CPU_IDLE_GROUP=off), it
 * says why and changes nothing.
 */
export function joinIdleGroup(pid: number): IdleGroupPlacement {
  if (process.env[IDLE_GROUP_ENV] === 'off') return { kind: 'unavailable', reason: `turned off (${IDLE_GROUP_ENV}=off)` };
  let step = 'reading /proc/self/mountinfo and /proc/self/cgroup';
  try {
    const own = ownCpuCgroup();
    if (typeof own === 'string') return { kind: 'unavailable', reason: own };
    const parent = join(own.controller.mount, own.path);
    if (own.controller.version === 2) {
      step = `enabling the cpu controller in ${parent}`;
      const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (!enabled.includes('cpu')) writeFileSync(join(parent, 'cgroup.subtree_control'), '+cpu');
    }
    const path = join(parent, IDLE_GROUP_NAME);
    step = `making ${path}`;
    mkdirSync(path, { recursive: true });
    step = `writing ${join(path, 'cpu.idle')}`;
    writeFileSync(join(path, 'cpu.idle'), '1');
    step = `moving pid ${pid} into ${path}`;
    writeFileSync(join(path, 'cgroup.procs'), String(pid));
    return { kind: 'cgroup', path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kind: 'unavailable', reason: `${step}: ${code ?? (err as Error).message}` };
  }
}

/**
 * Takes a process out of the idle group, into the caller's own cgroup (a refusal process raised
 * because it starved). True when it is out (or was never in); false where it may not be moved.
 */
export function leaveIdleGroup(pid: number): boolean {
  try {
    const own = ownCpuCgroup();
    if (typeof own === 'string') return true;
    const its = cgroupPathIn(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), own.controller);
    if (its !== join(own.path, IDLE_GROUP_NAME)) return true;
    writeFileSync(join(own.controller.mount, own.path, 'cgroup.procs'), String(pid));
    return true;
  } catch {
    return false;
  }
}

/** The CPU controller and the caller's cgroup in it, or why there is none (one line). Reads /proc. */
function ownCpuCgroup(): { controller: CpuController; path: string } | string {
  const controller = cpuControllerIn(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!controller) return 'no CPU cgroup controller is mounted';
  const path = cgroupPathIn(readFileSync('/proc/self/cgroup', 'utf8'), controller);
  return path === undefined ? `this process is in no cgroup of ${controller.mount}` : { controller, path };
}

/** Whether the kernel groups tasks by session (kernel.sched_autogroup_enabled; absent counts as off). */
export function autogroupsOn(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
