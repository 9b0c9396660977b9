// Outbound calls under their retry policy (issue 10), where the node's stores wrap them: an
// ingest-log append that JetStream did not answer is retried (bus_publish) within the ingest
// deadline; a full disk is not retried (the client's 503 + Retry-After is the retry); an
// append that stays unanswered takes the bus down in the node's health.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SeededRng, SystemClock } from '../actors/runtime/index.ts';
import { defaultConfig, NodeHealth, openNodeStores, type IngestLog, type NodeStores } from '../cluster/index.ts';
import { IngestLogError } from '../cluster/ingest-log/index.ts';

/** An ingest log whose appends fail `failures` times with `error`, then succeed. */
function flakyLog(error: () => Error, failures: number): IngestLog & { calls: number } {
  let calls = 0;
  const log = {
    get calls() { return calls; },
    async append(shard: number) {
      calls++;
      if (calls <= failures) throw error();
      return { shard, position: calls, duplicate: false };
    },
    read() { throw new Error('not read here'); },
    async ack() {},
    acked: () => 0,
    lastPosition: () => 0,
    async close() {},
  };
  return log as unknown as IngestLog & { calls: number };
}

describe('outbound retries where the node wraps its stores', function () {
  this.timeout(60_000);
  const clock = new SystemClock();
  const open = async (log: IngestLog, health: NodeHealth): Promise<NodeStores> => {
    const config = defaultConfig();
    config.node.dataDir = mkdtempSync(join(tmpdir(), 'vigil-retry-'));
    return openNodeStores(config, clock, new SeededRng(1), pino({ level: 'silent' }), {}, health, log);
  };

  it('retries an append JetStream did not answer, and the bus stays up', async () => {
    const health = new NodeHealth({ clock });
    const log = flakyLog(() => new IngestLogError('UNAVAILABLE', 'jetstream', 'no responders'), 2);
    const stores = await open(log, health);
    try {
      const at = await stores.log.append(0, new Uint8Array([1]), 'b1');
      assert.equal(log.calls, 3, 'two failures, then the third attempt');
      assert.equal(at.position, 3);
      assert.equal(health.status().dependencies.bus, 'up');
    } finally {
      await stores.close();
      health.stop();
    }
  });

  it('does not retry a full disk: one attempt, the error as it was, the bus down', async () => {
    const health = new NodeHealth({ clock });
    const log = flakyLog(() => new IngestLogError('UNAVAILABLE', 'disk-full', 'ingest log: disk full (ENOSPC)'), 5);
    const stores = await open(log, health);
    try {
      await assert.rejects(stores.log.append(0, new Uint8Array([1]), 'b1'), (e) => e instanceof IngestLogError && e.reason === 'disk-full');
      assert.equal(log.calls, 1);
      assert.equal(health.status().dependencies.bus, 'down');
    } finally {
      await stores.close();
      health.stop();
    }
  });

  it('gives up at the ingest deadline with a bus error the gateway answers 503 to', async () => {
    const health = new NodeHealth({ clock });
    const log = flakyLog(() => new IngestLogError('UNAVAILABLE', 'jetstream', 'no responders'), 1000);
    const stores = await open(log, health);
    try {
      const t0 = Date.now();
      await assert.rejects(stores.log.append(0, new Uint8Array([1]), 'b1'), (e) => e instanceof IngestLogError && e.code === 'UNAVAILABLE' && e.reason === 'jetstream');
      assert.ok(log.calls >= 5, `${log.calls} attempts (0, 0.1, 0.3, 0.7, 1.5, 3.1 s)`);
      assert.ok(Date.now() - t0 < 10_000);
      assert.equal(health.status().dependencies.bus, 'down');
    } finally {
      await stores.close();
      health.stop();
    }
  });
});
