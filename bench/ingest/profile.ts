// Where the node's time went: reads the V8 CPU profile the child node wrote (--cpu-prof)
// and sums self time two ways: by the library/file a function lives in (parts), and by the
// stage of the ingest path whose code is the innermost on the stack (stages), so that a
// protobuf decode or a Buffer copy counts against the stage that asked for it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  file: string;
  busy_ms: number;
  /** share of busy (non-idle) time per part (the file a function lives in), percent */
  parts: Record<string, number>;
  /** share of busy time per stage of the ingest path (the innermost stage frame on the stack), percent */
  stages: Record<string, number>;
  top: Array<{ fn: string; where: string; pct: number }>;
}

type Match = (f: CallFrame) => boolean;
const inUrl = (...parts: string[]): Match => (f) => parts.some((p) => f.url.includes(p));

const STARTUP: Match = (f) => inUrl('node:internal/modules', 'node:internal/deps/cjs-module-lexer', '/tsx/', '/esbuild/')(f)
  || ['compileSourceTextModule', 'wrapSafe', 'readFileUtf8'].includes(f.functionName);

/** First match wins: the part of the house a function's file belongs to. */
const PARTS: Array<[string, Match]> = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['gc', (f) => f.functionName === '(garbage collector)'],
  ['startup (module loading, tsx)', STARTUP],
  ['snappy', inUrl('/snappyjs/')],
  ['protobuf (de)code', inUrl('/protocols/gen/', '/protobufjs/', '/@protobufjs/', '/protocols/codec.ts')],
  ['remote-write mapping', inUrl('/protocols/remote-write.ts')],
  ['route + sample checks', inUrl('/api/remote-write.ts', '/api/samples-check.ts', '/api/ingest.ts')],
  ['ingest log', inUrl('/cluster/ingest-log/')],
  ['shard host', inUrl('/cluster/shard-host.ts')],
  ['detection', inUrl('/actors/detection/')],
  ['tsv formatting', inUrl('/storage/tsdb/tsv.ts')],
  ['writers', inUrl('/storage/writer/')],
  ['chdb client', inUrl('/@clickhouse/', '/chdb/')],
  ['other cluster, actors, storage', inUrl('/cluster/', '/actors/', '/storage/', '/supervisors/', '/nact/', '/protocols/')],
  ['buffers (decoder reads, body)', (f) => f.url === 'node:buffer' || f.url === 'node:internal/buffer' || ['latin1Slice', 'utf8Slice', 'writeLatin1String', 'utf8Write'].includes(f.functionName)],
  ['metrics (prom-client)', inUrl('/prom-client/')],
  ['http + fastify', inUrl('/fastify/', '/find-my-way/', '/avvio/', '/light-my-request/', '/api/', 'node:_http', 'node:net', 'node:internal/streams', 'node:stream', 'node:events', '/pino')],
  ['vm (program, builtins)', (f) => f.url === ''],
];

/**
 * Stages of the ingest path, innermost first on the stack wins. Protobuf, Buffer and builtin
 * frames match none, so their time goes to the stage that called them.
 */
const STAGES: Array<[string, Match]> = [
  ['1 gateway: snappy', inUrl('/snappyjs/')],
  ['1 gateway: remote-write decode + mapping', inUrl('/protocols/remote-write.ts')],
  ['1 gateway: series limits', inUrl('/cluster/series-limits.ts')],
  ['2 ingest: encode batch + id (sha256)', inUrl('/node/engine.ts')],
  ['3 ingest log: append, fsync, read', inUrl('/cluster/ingest-log/')],
  ['4 shard host: decode + deliver', inUrl('/cluster/shard-host.ts')],
  ['6 detection', inUrl('/actors/detection/')],
  ['8 writers: TSV formatting', inUrl('/storage/tsdb/tsv.ts')],
  ['9 chdb insert (client, connection)', inUrl('/@clickhouse/', '/chdb/', '/storage/tsdb/')],
  ['7 writers: queue, batch, spill', inUrl('/storage/writer/')],
  ['10 checkpoints (detector snapshots)', inUrl('/cluster/snapshots/', '/cluster/checkpoint.ts')],
  ['5b node sink (runs, metrics)', (f) => f.url.endsWith('/node/compose.ts') || f.url.includes('/cluster/node-metrics.ts') || f.url.includes('/prom-client/')],
  ['5 actors (runtime, tenant, service, correlation)', inUrl('/actors/', '/nact/', '/supervisors/')],
  ['1 gateway: route, decode, checks', inUrl('/api/')],
  ['0 http (node, fastify)', inUrl('/fastify/', '/find-my-way/', '/avvio/', 'node:_http', 'node:net', 'node:internal/streams', 'node:stream')],
];
/** When no stage frame is on the stack at all. */
const FALLBACK: Array<[string, Match]> = [
  ['other cluster', inUrl('/cluster/')],
  ['other protocols (codec, series names)', inUrl('/protocols/')],
];

/** The main thread's .cpuprofile in `dir` (CPU.<date>.<time>.<pid>.<thread 0>.<seq>.cpuprofile;
 * tsx's loader thread writes its own). */
export async function mainThreadProfile(dir: string): Promise<string | undefined> {
  const files = (await readdir(dir)).filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)).sort();
  return files.length > 0 ? join(dir, files[files.length - 1]!) : undefined;
}

export async function summarizeProfile(file: string, topN = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parts = new Map<string, number>();
  const stages = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const part = PARTS.find(([, match]) => match(f))?.[0] ?? 'other';
    if (part === 'idle') continue;
    busy += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const stage = stageOf(id, byId, parent, part);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
    const where = `${f.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
    const key = `${f.functionName}@${where}`;
    const e = fns.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  const pct = (us: number) => Math.round((1000 * us) / Math.max(busy, 1)) / 10;
  const share = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, pct(us)]));
  return {
    file,
    busy_ms: Math.round(busy / 1000),
    parts: share(parts),
    stages: share(stages),
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({ fn: e.fn, where: e.where, pct: pct(e.us) })),
  };
}

/** The stage of a sample: startup anywhere on the stack, else the innermost stage frame. */
function stageOf(leaf: number, byId: Map<number, ProfileNode>, parent: Map<number, number>, part: string): string {
  if (part === 'gc') return 'gc';
  const stack: CallFrame[] = [];
  for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
  if (stack.some(STARTUP)) return 'startup (module loading, tsx)';
  for (const rules of [STAGES, FALLBACK]) {
    for (const f of stack) {
      const stage = rules.find(([, match]) => match(f));
      if (stage) return stage[0];
    }
  }
  return part === 'vm (program, builtins)' ? 'vm (program, builtins)' : `unattributed (${part})`;
}
