// ServiceActors use the tier configured per tenant and metric (default Basic), and the
// tier shows on every anomaly.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { SeededRng } from '../actors/runtime/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { AnomalyEvent } from '../protocols/index.ts';
import { eventually, sha256, testConfig } from './support/node-process.ts';

const KEY = 'tiers-key-0123456789';
const INITECH = 'initech-key-0123456789';
const N = 1500;
const STEP = 60_000;

describe('node: detection tier and sensitivity per tenant and metric', function () {
  this.timeout(120_000);
  let node: NodeHandle;

  before(async () => {
    const config = testConfig({}, 'admin-key-0123456789', (c) => {
      c.tenants = [
        { id: 'acme', keyHashes: [sha256(KEY)], metricTiers: { latency_ms: 'agile', queue_depth: 'robust' } },
        { id: 'globex', keyHashes: [sha256('globex-key-0123456789')], tier: 'agile' },
        { id: 'initech', keyHashes: [sha256(INITECH)], metricSensitivity: { latency_ms: { direction: 'up' } } },
      ];
    });
    node = await startNode(config, { logger: pino({ level: 'silent' }) });
  });
  after(async () => { await node?.stop(); });

  it('tags each anomaly with the tier that found it', async () => {
    const rng = new SeededRng(7);
    const start = Date.now() - (N + 5) * STEP;
    const series = (metric: string) => ({
      service: 'api', metric,
      samples: Array.from({ length: N }, (_, i): [number, number] => [start + i * STEP, (i === N - 10 ? 600 : 100) + rng.normal() * 3]),
    });
    const body = { series: ['latency_ms', 'queue_depth', 'cpu'].map(series) };
    const res = await fetch(`${node.url}/v1/metrics`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    assert.equal(res.status, 202, await res.text());
    const byMetric = await eventually(async () => {
      const r = await fetch(`${node.url}/v1/anomalies?limit=1000`, { headers: { authorization: `Bearer ${KEY}` } });
      const { anomalies } = (await r.json()) as { anomalies: AnomalyEvent[] };
      return new Set(anomalies.map((a) => a.metric)).size === 3 ? anomalies : undefined;
    }, 60_000);
    const expected: Record<string, string> = { latency_ms: 'agile', queue_depth: 'robust', cpu: 'basic' };
    for (const a of byMetric) assert.equal(a.tier, expected[a.metric], `${a.metric} at ${a.timestamp}`);
    // the spike itself is found by every tier
    for (const metric of Object.keys(expected)) {
      assert.ok(byMetric.some((a) => a.metric === metric && a.timestamp === start + (N - 10) * STEP), metric);
    }
  });

  it('honours a metric\'s direction: a dip in an up-only metric is no anomaly', async () => {
    const rng = new SeededRng(11);
    const start = Date.now() - (N + 5) * STEP;
    const dip = (metric: string) => ({
      service: 'web', metric,
      samples: Array.from({ length: N }, (_, i): [number, number] => [start + i * STEP, (i === N - 10 ? 5 : 100) + rng.normal() * 3]),
    });
    const res = await fetch(`${node.url}/v1/metrics`, {
      method: 'POST', headers: { authorization: `Bearer ${INITECH}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [dip('latency_ms'), dip('cpu')] }),
    });
    assert.equal(res.status, 202);
    const dipAt = start + (N - 10) * STEP;
    const found = await eventually(async () => {
      const r = await fetch(`${node.url}/v1/anomalies?limit=1000`, { headers: { authorization: `Bearer ${INITECH}` } });
      const { anomalies } = (await r.json()) as { anomalies: AnomalyEvent[] };
      return anomalies.some((a) => a.metric === 'cpu' && a.timestamp === dipAt) ? anomalies : undefined;
    }, 60_000);
    assert.ok(found.find((a) => a.metric === 'cpu' && a.timestamp === dipAt)?.direction === 'down');
    assert.ok(!found.some((a) => a.metric === 'latency_ms' && a.timestamp === dipAt), 'latency_ms counts only rises');
  });
});
