// The layout's rules (DESIGN.md §3), read from the source itself: no import cycle between
// files, `cluster/` imports nothing from `api/`, and the composition root `node/` is imported
// only by entrypoints (cli/, test/, bench/, sim/). Type-only imports count: a cycle of types is
// still two modules that cannot be understood apart.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', 'gen', 'vendor', '.vigil-data', 'data']);
const ENTRYPOINTS = ['cli', 'test', 'bench', 'sim'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

// static `import … from`, `export … from`, bare `import '…'` and dynamic `import('…')`
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Relative imports of a source file, resolved to files of the tree. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    for (const candidate of [target, `${target}.ts`, join(target, 'index.ts')]) {
      if (existsSync(candidate) && statSync(candidate).isFile()) {
        out.push(candidate);
        break;
      }
    }
  }
  return out;
}

/** Every cycle's members (strongly connected components of more than one file, or a self-import). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

const top = (file: string): string => relative(ROOT, file).split(sep)[0]!;

describe('architecture: imports', () => {
  const graph = new Map<string, string[]>();
  for (const f of sources(ROOT)) graph.set(f, importsOf(f, readFileSync(f, 'utf8')));
  const rel = (f: string): string => relative(ROOT, f);

  it('reads the tree (the walk finds the folders and their imports)', () => {
    const tops = new Set([...graph.keys()].map(top));
    for (const t of ['actors', 'api', 'cluster', 'node', 'cli', 'test']) assert.ok(tops.has(t), `no sources under ${t}/`);
    const compose = [...graph.keys()].find((f) => rel(f) === join('node', 'compose.ts'));
    assert.ok(compose, 'node/compose.ts not found');
    assert.ok(graph.get(compose)!.some((f) => top(f) === 'api'), 'the composition root imports the gateway');
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
    assert.deepEqual(cycles(new Map([['a', ['b']], ['b', []]])), []);
    assert.deepEqual(importsOf(join(ROOT, 'x.ts'), "import type { A } from './api/index.ts';\n// import './cli/main.ts'"), [join(ROOT, 'api', 'index.ts')]);
  });

  it('has no import cycle between files', () => {
    const found = cycles(graph).map((c) => c.map(rel).join(' -> '));
    assert.deepEqual(found, [], `import cycles:\n${found.join('\n')}`);
  });

  // Between folders, the rule that matters here: no cycle runs through the gateway, the cluster
  // layer or the composition root. (actors/, supervisors/ and storage/ lean on each other's
  // types without a cycle between files; the file rule above covers them.)
  it('has no import cycle between top-level folders through api/, cluster/ or node/ (entrypoints aside)', () => {
    const folders = new Map<string, string[]>();
    for (const [f, deps] of graph) {
      if (ENTRYPOINTS.includes(top(f))) continue;
      const from = top(f);
      const to = folders.get(from) ?? [];
      for (const d of deps) if (top(d) !== from && !ENTRYPOINTS.includes(top(d)) && !to.includes(top(d))) to.push(top(d));
      folders.set(from, to);
    }
    const found = cycles(folders).filter((c) => c.some((f) => ['api', 'cluster', 'node'].includes(f))).map((c) => c.join(' '));
    assert.deepEqual(found, []);
  });

  it('cluster/ imports nothing from api/', () => {
    const bad = [...graph].filter(([f]) => top(f) === 'cluster').flatMap(([f, deps]) => deps.filter((d) => top(d) === 'api').map((d) => `${rel(f)} -> ${rel(d)}`));
    assert.deepEqual(bad, []);
  });

  it('node/ (the composition root) is imported only by entrypoints', () => {
    const bad = [...graph]
      .filter(([f]) => top(f) !== 'node' && !ENTRYPOINTS.includes(top(f)))
      .flatMap(([f, deps]) => deps.filter((d) => top(d) === 'node').map((d) => `${rel(f)} -> ${rel(d)}`));
    assert.deepEqual(bad, []);
  });
});
