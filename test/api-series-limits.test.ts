// Per-tenant limits on series and services: the batch that would pass one is refused whole
// with 429 naming the limit, the tenant's existing series keep flowing, others are untouched.
import assert from 'node:assert/strict';
import pino from 'pino';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { SeriesInput } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

describe('api: per-tenant series and service limits', () => {
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  const now = Date.now();
  const one = (service: string, metric: string, t: number, labels?: Record<string, string>): SeriesInput =>
    ({ service, metric, ...(labels ? { labels } : {}), samples: [[now - 60_000 + t, t]] });

  before(async () => {
    const c = testConfig();
    c.tenants[0]!.maxSeries = 5;
    c.tenants[0]!.maxServices = 3;
    c.limits.maxSeriesPerTenant = 50; // globex's, from the node default
    node = await startNode(c, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
  });
  after(async () => node.stop());

  it('refuses the series past maxSeries with the limit\'s name, and keeps taking existing ones', async () => {
    const five = [one('a', 'm1', 1), one('a', 'm2', 1), one('a', 'm2', 1, { zone: 'x' }), one('b', 'm1', 1), one('c', 'm1', 1)];
    assert.equal((await acme.postMetrics(five)).status, 202);

    const over = await acme.postMetrics([one('a', 'm1', 2), one('a', 'm3', 2)]);
    assert.equal(over.status, 429);
    assert.equal(over.body.error!.code, 'QUOTA_EXCEEDED');
    assert.match(over.body.error!.message, /tenant acme: limit maxSeries \(5\) reached: 5 series held, this batch adds 1/);

    assert.equal((await acme.postMetrics([one('a', 'm1', 3), one('a', 'm2', 3, { zone: 'x' })])).status, 202, 'existing series flow');
    const stored = await eventually(async () => {
      const r = await acme.get<{ samples: Array<[number, number]> }>('/v1/series?service=a&metric=m1');
      return r.body.samples.length === 2 ? r.body.samples : undefined;
    }, 'a/m1 holds the accepted samples');
    assert.deepEqual(stored.map((s) => s[1]), [1, 3], 'the refused batch left nothing behind');
  });

  it('refuses a new service past maxServices', async () => {
    const r = await acme.postMetrics([one('d', 'm1', 4)]);
    assert.equal(r.status, 429);
    assert.match(r.body.error!.message, /limit maxServices \(3\) reached: 3 services held, this batch adds 1/);
  });

  it('leaves another tenant its own limits', async () => {
    const many = Array.from({ length: 40 }, (_, i) => one(`s${i % 10}`, `m${i}`, 5));
    assert.equal((await globex.postMetrics(many)).status, 202);
    const past = await globex.postMetrics(Array.from({ length: 11 }, (_, i) => one('s0', `x${i}`, 6)));
    assert.equal(past.status, 429);
    assert.match(past.body.error!.message, /tenant globex: limit maxSeries \(50\)/);
  });
});
