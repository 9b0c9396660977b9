// CPU seconds the child node spent (Linux /proc), whole process and main thread apart: on a
// shared, loaded machine wall-clock rates swing with the neighbours, while the node's own
// CPU time per sample does much less. The main thread runs the JS; the rest is GC helpers,
// libuv's pool (fsync) and chdb's threads.
import { readdir, readFile } from 'node:fs/promises';

export interface CpuTimes {
  /** whole process, seconds (user + system) */
  process: number;
  /** the main (JS) thread, seconds */
  main: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of a /proc stat line, seconds (fields 14 and 15, after the "(comm)"). */
function statSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The CPU times of `pid` now, or undefined where /proc is missing. */
export async function cpuTimes(pid: number): Promise<CpuTimes | undefined> {
  try {
    const [proc, main] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8')]);
    return { process: statSeconds(proc), main: statSeconds(main) };
  } catch {
    return undefined;
  }
}

/** The host's CPU time as its kernel counts it (/proc/stat, all CPUs), in ticks. */
export interface HostTicks {
  total: number;
  /** ticks the hypervisor gave to other guests while this one had work (steal) */
  steal: number;
}

/** The host's CPU ticks now, or undefined where /proc/stat is missing. */
export async function hostTicks(): Promise<HostTicks | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    // cpu  user nice system idle iowait irq softirq steal (guest time is inside user already)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** Share of the CPU time between two readings that the hypervisor took (0 when unknown). */
export function stealShare(from: HostTicks | undefined, to: HostTicks | undefined): number {
  if (!from || !to || to.total <= from.total) return 0;
  return (to.steal - from.steal) / (to.total - from.total);
}

/**
 * CPU seconds spent so far by the host's kernel threads whose name starts with `prefix` (0 when
 * there are none). `kdamond`: DAMON, the kernel's access monitor, which this machine's VM runs
 * to page cold memory out to its host; every sampling interval (0.5 s here) it holds one of the
 * two CPUs for several milliseconds, in the kernel, whatever the priorities in user space.
 */
export async function kernelThreadSeconds(prefix: string): Promise<number> {
  let seconds = 0;
  for (const s of (await processSeconds((comm) => comm.startsWith(prefix))).values()) seconds += s;
  return seconds;
}

/**
 * CPU seconds spent so far by each child process of `parent`, by pid: a gateway node's refusal
 * process (api/refusals), which may start in the middle of a phase (its pid then counts from 0).
 */
export function childSeconds(parent: number): Promise<Map<number, number>> {
  return processSeconds((_comm, ppid) => ppid === parent);
}

/** CPU seconds so far of every process whose name and parent pid `match`, by pid. */
async function processSeconds(match: (comm: string, ppid: number) => boolean): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  await Promise.all(pids.map(async (pid) => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (match(comm, ppid)) out.set(Number(pid), statSeconds(stat));
    } catch {
      // gone meanwhile
    }
  }));
  return out;
}
