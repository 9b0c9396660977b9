// ingest.checkpointIntervalMs: the node snapshots its detector state at that cadence, not at a
// fixed one. A short interval writes a snapshot soon after a batch; a long one writes none
// until the clean stop's last checkpoint, and a restart still restores and replays.
import { strict as assert } from 'node:assert';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { startNode } from '../node/index.ts';
import type { VigilConfig } from '../cluster/index.ts';
import { loadConfig, parseConfigYaml } from '../cluster/config-load.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { testConfig } from './support/node-process.ts';

const KEY = 'acme-key-0123456789';

/** every snapshot file the node has written, over all shards */
async function snapshotFiles(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'snapshots');
  const shards = await readdir(root).catch(() => [] as string[]);
  const files = await Promise.all(shards.map(async (s) => (await readdir(join(root, s)).catch(() => [] as string[])).filter((f) => f.endsWith('.snap'))));
  return files.flat();
}

async function withNode(intervalMs: number, run: (client: ApiClient, config: VigilConfig) => Promise<void>): Promise<VigilConfig> {
  const config = testConfig({ acme: KEY }, 'admin-key-0123456789', (c) => { c.ingest.checkpointIntervalMs = intervalMs; });
  const node = await startNode(config, { logger: pino({ level: 'silent' }) });
  try {
    await run(new ApiClient(node.url, KEY), config);
  } finally {
    await node.stop();
  }
  return config;
}

const batch = (t0: number) => [{ service: 'api', metric: 'latency_ms', samples: Array.from({ length: 20 }, (_, i) => [t0 + i * 1000, 10 + (i % 3)]) }];

describe('node: the checkpoint interval', function () {
  this.timeout(60_000);

  it('snapshots soon after a batch with a short interval', async () => {
    await withNode(200, async (client, config) => {
      assert.equal((await client.postMetrics(batch(Date.now() - 60_000))).status, 202);
      const files = await eventually(async () => { const f = await snapshotFiles(config.node.dataDir); return f.length > 0 ? f : undefined; }, 'a snapshot', 10_000);
      assert.ok(files.length > 0);
    });
  });

  it('waits for a long interval, then the stop takes the last checkpoint and a restart restores it', async () => {
    const config = await withNode(3600_000, async (client, c) => {
      assert.equal((await client.postMetrics(batch(Date.now() - 60_000))).status, 202);
      await eventually(async () => ((await client.samples('api', 'latency_ms')).length === 20 ? true : undefined), 'the samples stored', 10_000);
      // past the 5 s the node used to checkpoint at whatever it was told
      await new Promise((r) => setTimeout(r, 6000));
      assert.deepEqual(await snapshotFiles(c.node.dataDir), [], 'no checkpoint before the interval');
    });
    assert.ok((await snapshotFiles(config.node.dataDir)).length > 0, 'the clean stop took a checkpoint');
    // the same data folder again: the state comes back and nothing is stored twice
    const again = await startNode(config, { logger: pino({ level: 'silent' }) });
    try {
      const client = new ApiClient(again.url, KEY);
      assert.equal((await client.samples('api', 'latency_ms')).length, 20);
    } finally {
      await again.stop();
    }
  });

  it('comes from the file or VIGIL_CHECKPOINT_INTERVAL_MS, 5 s by default, and is refused under 100 ms', () => {
    assert.equal(loadConfig({ env: {} }).ingest.checkpointIntervalMs, 5000);
    assert.equal(parseConfigYaml('ingest:\n  checkpointIntervalMs: 30s\n', 'a.yaml').ingest.checkpointIntervalMs, 30_000);
    assert.equal(loadConfig({ env: { VIGIL_CHECKPOINT_INTERVAL_MS: '1m' } }).ingest.checkpointIntervalMs, 60_000);
    assert.throws(() => parseConfigYaml('ingest:\n  checkpointIntervalMs: 50\n', 'a.yaml'), /ingest\.checkpointIntervalMs must be a duration of at least 100 ms/);
  });

  it('paces snapshots by ingest.checkpointBytesPerSecond or VIGIL_CHECKPOINT_BYTES_PER_SECOND, 256 KiB by default, at least 1 KiB', () => {
    assert.equal(loadConfig({ env: {} }).ingest.checkpointBytesPerSecond, 262_144);
    assert.equal(parseConfigYaml('ingest:\n  checkpointBytesPerSecond: 1048576\n', 'a.yaml').ingest.checkpointBytesPerSecond, 1_048_576);
    assert.equal(loadConfig({ env: { VIGIL_CHECKPOINT_BYTES_PER_SECOND: '65536' } }).ingest.checkpointBytesPerSecond, 65_536);
    assert.throws(() => parseConfigYaml('ingest:\n  checkpointBytesPerSecond: 10\n', 'a.yaml'), /ingest\.checkpointBytesPerSecond/);
  });
});
