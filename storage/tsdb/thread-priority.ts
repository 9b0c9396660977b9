// The embedded engine's threads yield to the event loop. chdb runs inside the node's process:
// its insert pool and background merges took ~75% of a core under bench:tenancy on 2 cores,
// at the same priority as the thread that answers every request. Storing is background work
// (an ingest is acknowledged once the ingest log has it, never after the store), so its
// threads are set to a lower priority (nice) than Node's own. ClickHouse names each of its
// threads (MergeMutate, ThreadPool, BgSchPool, ...); Node's keep the process name, `node`,
// or `libuv-worker`. chdb starts threads as it needs them, and a thread inherits the
// priority of the one that created it, which may be a Node thread: so the scan repeats.
// Linux only (/proc/self/task); elsewhere it does nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** nice of the embedded engine's threads: CFS gives a nice-0 thread ~10x the CPU of a nice-10 one */
export const DEFAULT_ENGINE_THREAD_NICE = 10;
/** how often new engine threads are looked for */
export const DEFAULT_ENGINE_THREAD_SCAN_MS = 2_000;

const TASKS = '/proc/self/task';

/** Node's own threads: the main thread and V8's helpers carry the process name; libuv names its pool. */
function isNodeThread(name: string): boolean {
  return name === 'node' || name.startsWith('libuv') || name === process.title;
}

export interface EngineThreadPriority {
  /** threads set to the lower priority so far */
  readonly lowered: number;
  /** one scan now (the timer does it every `scanMs`) */
  scan(): void;
  stop(): void;
}

/**
 * Keeps the threads that are not Node's own at `nice` (their priority is only ever lowered:
 * a thread already nicer than `nice` is left as it is). Failures (no /proc, a thread that
 * ended mid-scan, no permission) skip that thread.
 */
export function lowerEngineThreads(nice = DEFAULT_ENGINE_THREAD_NICE, scanMs = DEFAULT_ENGINE_THREAD_SCAN_MS): EngineThreadPriority {
  const done = new Set<number>();
  let lowered = 0;
  const scan = (): void => {
    let tids: string[];
    try {
      tids = readdirSync(TASKS);
    } catch {
      return; // not Linux
    }
    const alive = new Set<number>();
    for (const entry of tids) {
      const tid = Number(entry);
      alive.add(tid);
      if (tid === process.pid || done.has(tid)) continue;
      try {
        if (isNodeThread(readFileSync(`${TASKS}/${entry}/comm`, 'utf8').trim())) continue;
        done.add(tid);
        // /proc/<tid>/stat field 19 is the nice value; only raise it
        const stat = readFileSync(`${TASKS}/${entry}/stat`, 'utf8');
        const current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
        if (!(current >= nice)) {
          setPriority(tid, nice);
          lowered++;
        }
      } catch {
        // the thread ended, or this process may not change it
      }
    }
    for (const tid of done) if (!alive.has(tid)) done.delete(tid);
  };
  scan();
  const timer = setInterval(scan, scanMs);
  timer.unref();
  return {
    get lowered() {
      return lowered;
    },
    scan,
    stop: () => clearInterval(timer),
  };
}
