// Where the node's time went: reads the V8 CPU profile the child node wrote (--cpu-prof)
// and sums self time by part of the ingest path, plus the costliest functions.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  file: string;
  busy_ms: number;
  /** share of busy (non-idle) time per part, percent */
  parts: Record<string, number>;
  top: Array<{ fn: string; where: string; pct: number }>;
}

/** First match wins: the part of the house a function's file belongs to. */
const PARTS: Array<[string, (f: CallFrame) => boolean]> = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['gc', (f) => f.functionName === '(garbage collector)'],
  ['startup (module loading, tsx)', (f) => ['node:internal/modules', 'node:internal/deps/cjs-module-lexer', '/tsx/', '/esbuild/'].some((p) => f.url.includes(p))
    || ['compileSourceTextModule', 'wrapSafe', 'readFileUtf8'].includes(f.functionName)],
  ['snappy', (f) => f.url.includes('/snappyjs/')],
  ['protobuf decode', (f) => f.url.includes('/protocols/gen/') || f.url.includes('/protobufjs/') || f.url.includes('/@protobufjs/')],
  ['remote-write mapping', (f) => f.url.includes('/protocols/remote-write.ts')],
  ['route + sample checks', (f) => f.url.includes('/api/remote-write.ts') || f.url.includes('/api/samples-check.ts') || f.url.includes('/api/ingest.ts')],
  ['engine, bus, actors, stores', (f) => ['/cluster/', '/actors/', '/storage/', '/supervisors/', '/nact/', '/protocols/series-name.ts'].some((p) => f.url.includes(p))],
  ['buffers (decoder reads, body)', (f) => f.url === 'node:buffer' || f.url === 'node:internal/buffer' || ['latin1Slice', 'utf8Slice', 'writeLatin1String'].includes(f.functionName)],
  ['metrics (prom-client)', (f) => f.url.includes('/prom-client/')],
  ['http + fastify', (f) => ['/fastify/', '/find-my-way/', '/avvio/', '/light-my-request/', '/api/', 'node:_http', 'node:net', 'node:internal/streams', 'node:stream', 'node:events', '/pino'].some((p) => f.url.includes(p))],
  ['vm (program, builtins)', (f) => f.url === ''],
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
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const parts = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  let busy = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const part = PARTS.find(([, match]) => match(f))?.[0] ?? 'other';
    if (part === 'idle') continue;
    busy += us;
    parts.set(part, (parts.get(part) ?? 0) + us);
    const where = `${f.url.replace(/^.*\/work\/main\//, '').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
    const key = `${f.functionName}@${where}`;
    const e = fns.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  const pct = (us: number) => Math.round((1000 * us) / Math.max(busy, 1)) / 10;
  return {
    file,
    busy_ms: Math.round(busy / 1000),
    parts: Object.fromEntries([...parts].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, pct(us)])),
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({ fn: e.fn, where: e.where, pct: pct(e.us) })),
  };
}
