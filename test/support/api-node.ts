// A real Vigil node for the gateway tests: in process (startNode, with the threshold
// detector) or as a child process (`vigil start` from cli/main.ts with a config file).
// Keys are plain here; the configs hold only their hashes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultConfig, type VigilConfig } from '../../cluster/index.ts';
import { startNode, type NodeHandle } from '../../node/index.ts';
import { hashKey } from '../../api/index.ts';
import { thresholdDetectors } from './api-detector.ts';

export const KEYS = { acme: 'acme-key-1', globex: 'globex-key-1', admin: 'admin-key-1' } as const;
export const SMALL_BODY_LIMIT = 64 * 1024;

export function testConfig(overrides: { bodyLimitBytes?: number } = {}): VigilConfig {
  const c = defaultConfig();
  c.node.dataDir = mkdtempSync(join(tmpdir(), 'vigil-node-')); // each node its own log, snapshots and store
  c.http = { host: '127.0.0.1', port: 0, bodyLimitBytes: overrides.bodyLimitBytes ?? SMALL_BODY_LIMIT };
  c.auth = { adminKeyHash: hashKey(KEYS.admin) };
  c.tenants = [
    { id: 'acme', keyHashes: [hashKey(KEYS.acme), hashKey('acme-key-2')] },
    { id: 'globex', keyHashes: [hashKey(KEYS.globex)] },
  ];
  c.log = { level: 'silent' };
  return c;
}

export async function startTestNode(overrides: { bodyLimitBytes?: number } = {}): Promise<NodeHandle> {
  return startNode(testConfig(overrides), { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
}

export interface ChildNode {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The YAML a spawned node starts with: the same tenants and keys as testConfig(). */
export function testConfigYaml(dataDir: string): string {
  const c = testConfig();
  return [
    `node: { id: api-test, dataDir: ${JSON.stringify(dataDir)} }`,
    `http: { host: 127.0.0.1, port: 0, bodyLimitBytes: ${c.http.bodyLimitBytes} }`,
    `auth: { adminKeyHash: ${c.auth.adminKeyHash} }`,
    'tenants:',
    ...c.tenants.map((t) => `  - { id: ${t.id}, keyHashes: [${t.keyHashes.join(', ')}] }`),
    'log: { level: info }',
    '',
  ].join('\n');
}

/**
 * Starts `vigil start` (cli/main.ts) in its own process with testConfigYaml(); resolves
 * with its URL, read from the node's "vigil node ready" log line.
 */
export async function spawnTestNode(): Promise<ChildNode> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-api-'));
  const file = join(dir, 'vigil.yaml');
  await writeFile(file, testConfigYaml(join(dir, 'data')));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: root, // where tsx resolves
    env: { ...process.env, VIGIL_DEMO_API_KEY: '', VIGIL_ADMIN_API_KEY: '', VIGIL_CONFIG: '' },
  });
  const lines = createInterface({ input: child.stdout! }); // keeps draining stdout for the node's life
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'vigil node ready' && entry.url) resolve(entry.url);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`test node exited early (${code})`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
