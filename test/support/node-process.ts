// Starts a Vigil node as a real child process and stops (or kills) it by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type VigilConfig } from '../../cluster/index.ts';

const FIXTURE = fileURLToPath(new URL('./node-fixture.ts', import.meta.url));

export { hashKey as sha256 } from '../../protocols/index.ts';
import { hashKey as sha256 } from '../../protocols/index.ts';

/**
 * How long a node may take to print where it listens. Generous: at load average ~20 on this
 * 2-core machine a node restarted beside two nodes under 20,000 samples/s took 18 s, and one
 * took more than 30 s (bench:failover, measured).
 */
const START_LIMIT_MS = 90_000;

export interface TestNode {
  url: string;
  pid: number;
  child: ChildProcess;
  /** stderr so far (the node's warn/error logs) */
  stderr(): string;
  stop(): Promise<void>;
  kill(): void;
}

/** A config with the given tenants → API keys, and an admin key. */
export function testConfig(keys: Record<string, string>, adminKey: string, patch: (c: VigilConfig) => void = () => {}): VigilConfig {
  const c = defaultConfig();
  c.http.port = 0;
  c.node.dataDir = mkdtempSync(join(tmpdir(), 'vigil-node-')); // each node its own log, snapshots and store
  c.auth.adminKeyHash = sha256(adminKey);
  c.tenants = Object.entries(keys).map(([id, key]) => ({ id, keyHashes: [sha256(key)] }));
  c.log.level = 'warn';
  patch(c);
  return c;
}

export async function startNodeProcess(config: VigilConfig, env: Record<string, string> = {}): Promise<TestNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(config)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // nobody holds it after the rejection: it would run on, orphaned
      reject(new Error(`node did not start in ${START_LIMIT_MS / 1000} s: ${err}`));
    }, START_LIMIT_MS);
    lines.once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`node exited with ${code}: ${err}`)); });
  });
  const info = JSON.parse(first) as { url: string; pid: number };
  // the exit seen here, so a stop after it (a kill -9, a crash) resolves at once instead of waiting for an 'exit' already fired
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    url: info.url,
    pid: info.pid,
    child,
    stderr: () => err,
    kill: () => { child.kill('SIGKILL'); },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
        hard.unref();
        await exited;
        clearTimeout(hard);
      }
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}
