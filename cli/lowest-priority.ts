// How a process runs below every other on one host's CPU: the nodes that own shards beside
// gateway nodes (`vigil cluster up --gateways`, bench:tenancy), so the gateways' answers come
// first and processing takes what they leave.
//
// SCHED_IDLE (chrt --idle 0), and nice 19 within it: a task of the normal class that wakes
// preempts a SCHED_IDLE one at once, where against nice 19 alone it may wait out the other's
// slice. bench:tenancy's B (a gateway node, a processing node at nice 19 on every thread):
// p99 26.4 ms with B alone; with the processing node at SCHED_IDLE, 8.6-12.2 ms in eight runs.
// The cost: on a host whose CPU is full of normal work, a SCHED_IDLE process gets none, so
// processing stops (the batches wait in the stream) and its leases can lapse. Give processing
// nodes hosts of their own where that can happen.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** util-linux's chrt: a scheduling policy for a command, or for the threads of a running process. */
const CHRT = '/usr/bin/chrt';
/** coreutils' nice */
const NICE = '/usr/bin/nice';

/** The command prefix that starts a program at the lowest priority (every thread inherits it); what is missing here is left out. */
export function lowestPriorityPrefix(): string[] {
  return [...(existsSync(CHRT) ? [CHRT, '--idle', '0'] : []), ...(existsSync(NICE) ? [NICE, '-n', '19'] : [])];
}

/**
 * A running process put at the lowest priority, every thread of it (on Linux a priority is a
 * thread's; threads it starts later inherit it). Where not allowed, it stays as it was.
 */
export function lowerToIdle(pid: number): void {
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
  if (!existsSync(CHRT)) return;
  try {
    execFileSync(CHRT, ['--all-tasks', '--idle', '-p', '0', String(pid)], { stdio: 'ignore' });
  } catch {
    // not allowed here: nice 19 is what it has
  }
}
