// V8 flags a node runs with (`npm start`, the Procfile and the benchmarks pass them; V8 reads
// them when the process starts, so they cannot be set from inside).
//
// --max-semi-space-size=64 (MB; Node 20's default is 16): the young generation is where a
// request's bodies, the writers' rows and the detectors' updates are born. A larger one is
// scavenged less often, and what the writers hold for their one-second batches dies there
// instead of being copied and promoted; the scavenges are the event loop's longest pauses
// under load. bench:tenancy, two pairs of runs on 2 cores: B's p99 with A flooding 370 and
// 373 ms without, 186 and 109 ms with; GC pauses over 5 ms 197 -> 69 in one run. Cost: up to
// ~130 MB more heap while the young generation is at its largest.
export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** The flags of NODE_V8_FLAGS this process was not started with (`vigil start` says so in its log). */
export function missingV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return NODE_V8_FLAGS.filter((flag) => !given.some((g) => g.split('=')[0] === flag.split('=')[0]));
}
