// CPU seconds the child node spent (Linux /proc), whole process and main thread apart: on a
// shared, loaded machine wall-clock rates swing with the neighbours, while the node's own
// CPU time per sample does much less. The main thread runs the JS; the rest is GC helpers,
// libuv's pool (fsync) and chdb's threads.
import { readFile } from 'node:fs/promises';

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
