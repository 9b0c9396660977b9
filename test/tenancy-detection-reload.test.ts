// A tenant's detection tier changed through the admin API reaches its running series (issue
// 12: configuration changed at run time): the series already running switch at their next
// batch, and the anomalies they find say the new tier. A node in process with real detectors.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashKey } from '../api/index.ts';
import { SeededRng } from '../actors/runtime/index.ts';
import type { AnomalyEvent } from '../protocols/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { KEYS, testConfig } from './support/api-node.ts';

const KEY = 'reload-key-1';
const STEP = 60_000;

describe('tenancy: a detection tier changed at run time', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  const rng = new SeededRng(3);
  const start = Date.now() - 2000 * STEP;
  const samples = (from: number, n: number, spikeAt = -1): Array<[number, number]> =>
    Array.from({ length: n }, (_, k) => [start + (from + k) * STEP, (from + k === spikeAt ? 600 : 100) + rng.normal() * 3]);

  before(async () => {
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-reload-')), 'tenants.yaml');
    writeFileSync(file, `tenants:\n  - { id: acme2, detectionTier: basic, keys: [{ id: k, sha256: ${hashKey(KEY)} }] }\n`);
    c.tenancy = { ...c.tenancy, file };
    c.http.bodyLimitBytes = 1024 * 1024;
    node = await startNode(c, { logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await node?.stop();
  });

  it('switches a running series to the new tier at its next batch', async () => {
    const client = new ApiClient(node.url, KEY);
    assert.equal((await client.postMetrics([{ service: 'api', metric: 'latency', samples: samples(0, 300, 290) }])).status, 202);
    await eventually(async () => {
      const r = await client.get<{ anomalies: AnomalyEvent[] }>('/v1/anomalies?limit=100');
      return r.body.anomalies.some((a) => a.tier === 'basic') ? true : undefined;
    }, 'basic finds the first spike', 20_000);
    const put = await new ApiClient(node.url, KEYS.admin).request('PUT', '/v1/admin/tenants/acme2', { detectionTier: 'agile', keys: [{ id: 'k', sha256: hashKey(KEY) }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const spike = 300 + 590;
    assert.equal((await client.postMetrics([{ service: 'api', metric: 'latency', samples: samples(300, 600, spike) }])).status, 202);
    const found = await eventually(async () => {
      const r = await client.get<{ anomalies: AnomalyEvent[] }>('/v1/anomalies?limit=100');
      return r.body.anomalies.find((a) => a.timestamp === start + spike * STEP);
    }, 'the second spike found', 20_000);
    assert.equal(found.tier, 'agile', 'found by the tier the tenant has now');
  });
});
