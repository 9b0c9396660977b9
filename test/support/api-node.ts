// A real Vigil node for the gateway tests: in process (startNode) or as a child process
// (this file run with `node --import tsx test/support/api-node.ts`, which prints the node's
// URL as its first stdout line). Keys are plain here; the config holds only their hashes.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { defaultConfig, startNode, type NodeHandle, type VigilConfig } from '../../cluster/index.ts';
import { hashKey } from '../../api/index.ts';
import { thresholdDetectors } from './api-detector.ts';

export const KEYS = { acme: 'acme-key-1', globex: 'globex-key-1', admin: 'admin-key-1' } as const;
export const SMALL_BODY_LIMIT = 64 * 1024;

export function testConfig(overrides: { bodyLimitBytes?: number } = {}): VigilConfig {
  const c = defaultConfig();
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

/** Starts a node in its own process; resolves with its URL once it serves. */
export async function spawnTestNode(): Promise<ChildNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: fileURLToPath(new URL('../..', import.meta.url)), // where tsx resolves
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`test node exited early (${code})`)));
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

if (process.argv.includes('--serve')) {
  const node = await startTestNode();
  process.stdout.write(`${node.url}\n`);
  process.once('SIGTERM', () => void node.stop().then(() => process.exit(0)));
}
