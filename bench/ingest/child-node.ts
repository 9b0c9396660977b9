// A node for the benchmark in its own process (`vigil start` from cli/main.ts), so the
// load generator never shares the node's event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hashKey } from '../../api/index.ts';
import { v8FlagsFor, type NodeRole } from '../../node/runtime-flags.ts'; // not the face: the bench need not load the node

export const BENCH_KEY = 'bench-key';
export const BENCH_TENANT = 'bench';

export interface ChildNode {
  url: string;
  pid: number;
  /** the node's data folder (a fresh temporary one; `remove` deletes it) */
  dataDir: string;
  /** SIGTERM and wait for the exit (the node flushes its writers and checkpoints); seconds taken */
  stop(): Promise<number>;
  /** deletes the temporary folder (config and data); after `stop` */
  remove(): Promise<void>;
}

/**
 * Starts `vigil start` (cli/main.ts) in a child process with a temporary config holding
 * one bench tenant; its URL comes from the node's "vigil node ready" log line.
 */
export async function spawnNode(options: { cpuProfileDir?: string } = {}): Promise<ChildNode> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  const file = join(dir, 'vigil.yaml');
  const dataDir = join(dir, 'data');
  await writeFile(file, [
    `node: { id: bench, dataDir: ${JSON.stringify(dataDir)} }`,
    'http: { host: 127.0.0.1, port: 0 }',
    'tenants:',
    `  - { id: ${BENCH_TENANT}, keyHashes: [${hashKey(BENCH_KEY)}] }`,
    'log: { level: info }', // the ingest path logs nothing per request at info
    '',
  ].join('\n'));
  return startNodeProcess(dir, file, dataDir, options);
}

/**
 * Runs `vigil start --config <file>` (cli/main.ts) in a child process; resolves with its URL from
 * the node's "vigil node ready" log line. `dir` holds the config and data (`remove` deletes it);
 * `env` is added to the node's environment; `role` picks its V8 flags (node/runtime-flags.ts; default processing);
 * `ownSession` starts it in a session of its own, as `vigil cluster up` started its nodes until 2026-12-07.
 */
export async function startNodeProcess(
  dir: string, file: string, dataDir: string, options: { cpuProfileDir?: string; env?: Record<string, string>; role?: NodeRole; ownSession?: boolean } = {},
): Promise<ChildNode> {
  // --cpu-prof writes the node's profile when it exits (bench/ingest/profile.ts reads it)
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...v8FlagsFor(options.role ?? 'processing'), ...profile, '--import', 'tsx', 'cli/main.ts', 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: options.ownSession === true,
    cwd: fileURLToPath(new URL('../..', import.meta.url)), // where tsx resolves
    env: { ...process.env, VIGIL_DEMO_API_KEY: '', VIGIL_ADMIN_API_KEY: '', VIGIL_CONFIG: '', ...options.env },
  });
  const lines = createInterface({ input: child.stdout! }); // keeps draining the node's log
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; level?: number };
        if (entry.msg === 'vigil node ready' && entry.url) resolve(entry.url);
        else if ((entry.level ?? 0) >= 40) process.stderr.write(`node: ${line}\n`);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`bench node exited early (${code})`)));
  });
  return {
    url, dataDir, pid: child.pid!,
    stop: () => stop(child),
    async remove() {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stop(child: ChildProcess): Promise<number> {
  const started = performance.now();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  return (performance.now() - started) / 1000;
}

