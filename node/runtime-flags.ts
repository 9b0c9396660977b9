// V8 flags a node runs with (`npm start`, the Procfile, `vigil cluster up` and the benchmarks
// pass them; V8 reads them when the process starts, so they cannot be set from inside). They
// depend on what the node does: a node that owns shards processes, a gateway node
// (cluster.capacity 0) only answers clients.
//
// A node that owns shards: --max-semi-space-size=64 (MB; Node 20's default is 16). The young
// generation is where a request's bodies, the writers' rows and the detectors' updates are
// born. A larger one is scavenged less often, and what the writers hold for their one-second
// batches dies there instead of being copied and promoted; the scavenges are the event loop's
// longest pauses under load. bench:tenancy, two pairs of runs on 2 cores: B's p99 with A
// flooding 370 and 373 ms without, 186 and 109 ms with; GC pauses over 5 ms 197 -> 69 in one
// run. Cost: up to ~130 MB more heap while the young generation is at its largest.
//
// A gateway node: Node's default. It holds nothing for long (requests in flight), so the
// large young generation only made each scavenge and incremental mark longer: with 64 MB,
// bench:tenancy's gateway paused up to 58 ms in GC, and A's refused flood raised B's p99 by
// 1.56-1.84x over four 12-round runs; at the default, 1.138 and 0.921 in two runs.
export type NodeRole = 'processing' | 'gateway';

export const NODE_V8_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
const GATEWAY_V8_FLAGS: readonly string[] = [];

/** The V8 flags a node of this role is tuned for. */
export function v8FlagsFor(role: NodeRole): readonly string[] {
  return role === 'gateway' ? GATEWAY_V8_FLAGS : NODE_V8_FLAGS;
}

/** The flags of `v8FlagsFor(role)` this process was not started with (`vigil start` says so in its log). */
export function missingV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? '', role: NodeRole = 'processing'): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return v8FlagsFor(role).filter((flag) => !given.some((g) => g.split('=')[0] === flag.split('=')[0]));
}
