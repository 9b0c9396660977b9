// Topology benchmark: a seeded 5,000-service / 20,000-dependency graph in the embedded store.
// Walks (k-hop up and down), subgraphs, a whole replace with its atomic file write, a reopen.
//   npx tsx storage/graph/bench.ts [--json] [--services 5000] [--edges 20000]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRng } from '../../actors/runtime/index.ts';
import type { Topology } from '../../protocols/index.ts';
import { EmbeddedGraphStore } from './embedded.ts';
import { fileNameOf } from './graph-file.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const JSON_ONLY = argv.includes('--json');
const SERVICES = flag('services', 5_000);
const EDGES = flag('edges', 20_000);
const QUERIES = 2_000;
const say = (s: string): void => { if (!JSON_ONLY) console.log(s); };

/** Layered like a real shop: a service calls services in lower layers only (no cycles). */
function topology(): Topology {
  const rng = createRng(7);
  const deps = Array.from({ length: SERVICES }, () => new Set<string>());
  for (let e = 0; e < EDGES; e++) {
    const from = rng.int(SERVICES - 1);
    const to = from + 1 + rng.int(Math.min(200, SERVICES - from - 1));
    deps[from]!.add(`svc-${to}`);
  }
  return { services: deps.map((d, i) => ({ name: `svc-${i}`, dependsOn: [...d] })) };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!;
}

async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 'vigil-graph-bench-'));
try {
  const topo = topology();
  const edges = topo.services.reduce((n, s) => n + s.dependsOn.length, 0);
  const store = await EmbeddedGraphStore.open({ dir });
  let t = performance.now();
  await store.replaceTopology('bench', topo);
  const replaceMs = performance.now() - t;
  const fileBytes = (await stat(join(dir, fileNameOf('bench')))).size;
  say(`graph: ${SERVICES.toLocaleString()} services, ${edges.toLocaleString()} dependencies; replace + atomic write ${replaceMs.toFixed(1)} ms (${(fileBytes / 1024).toFixed(0)} KiB file)`);

  const rng = createRng(11);
  const pick = (): string => `svc-${rng.int(SERVICES)}`;
  const results: Record<string, number> = {};
  for (const hops of [1, 3]) {
    await timeEach(200, () => store.downstream('bench', pick(), hops)); // warm-up
    const down = await timeEach(QUERIES, () => store.downstream('bench', pick(), hops));
    const up = await timeEach(QUERIES, () => store.upstream('bench', pick(), hops));
    let reached = 0;
    for (let i = 0; i < 200; i++) reached += (await store.upstream('bench', pick(), hops)).length;
    say(`${hops}-hop: downstream p50 ${pct(down, 0.5).toFixed(1)} µs p99 ${pct(down, 0.99).toFixed(1)} µs; upstream p50 ${pct(up, 0.5).toFixed(1)} µs p99 ${pct(up, 0.99).toFixed(1)} µs (upstream reaches ${(reached / 200).toFixed(0)} services on average)`);
    results[`down_${hops}hop_p50_us`] = Number(pct(down, 0.5).toFixed(1));
    results[`up_${hops}hop_p50_us`] = Number(pct(up, 0.5).toFixed(1));
    results[`up_${hops}hop_p99_us`] = Number(pct(up, 0.99).toFixed(1));
  }
  let subServices = 0;
  let subEdges = 0;
  const sub = await timeEach(500, async () => {
    const s = await store.subgraph('bench', [pick(), pick(), pick(), pick(), pick()], 2);
    subServices += s.services.length;
    subEdges += s.dependencies.length;
  });
  say(`subgraph (5 seeds, 2 hops both ways; ${(subServices / 500).toFixed(0)} services, ${(subEdges / 500).toFixed(0)} dependencies on average): p50 ${pct(sub, 0.5).toFixed(1)} µs p99 ${pct(sub, 0.99).toFixed(1)} µs`);
  const upserts = await timeEach(200, (i) => store.upsertDependencies('bench', [{ from: `new-${i}`, to: pick() }]));
  say(`upsert one dependency (rewrites the ${(fileBytes / 1024).toFixed(0)} KiB file, fsync): p50 ${(pct(upserts, 0.5) / 1000).toFixed(1)} ms p99 ${(pct(upserts, 0.99) / 1000).toFixed(1)} ms`);
  await store.close();
  t = performance.now();
  const again = await EmbeddedGraphStore.open({ dir });
  const openMs = performance.now() - t;
  say(`reopen (read, checksum, rebuild): ${openMs.toFixed(1)} ms`);
  await again.close();
  console.log(JSON.stringify({
    services: SERVICES, dependencies: edges, replace_ms: Number(replaceMs.toFixed(1)), file_kib: Math.round(fileBytes / 1024),
    ...results, subgraph_p50_us: Number(pct(sub, 0.5).toFixed(1)),
    upsert_p50_ms: Number((pct(upserts, 0.5) / 1000).toFixed(2)), reopen_ms: Number(openMs.toFixed(1)),
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
