// A real Prometheus (Debian's `prometheus`) scrapes a small exporter this test serves
// and remote-writes to a Vigil node process with a bearer key, unchanged: the series
// appear in GET /v1/series, and Prometheus counts no failed sample. Skipped, saying so,
// when `prometheus` is not installed.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { skipWithout } from './support/peer.ts';
import { prometheusBinary, TestPrometheus } from './support/prometheus.ts';

const KEY = 'prom-tenant-key';
const ADMIN = 'prom-admin-key';

describe('Prometheus remote_write into Vigil', function () {
  this.timeout(120_000);
  const binary = prometheusBinary();
  let dir: string;
  let exporter: Server;
  let node: TestNode;
  let prometheus: TestPrometheus | undefined;

  before(async function () {
    if (!binary) {
      skipWithout(this, '`prometheus` is not installed; apt install prometheus to run this test');
    }
    dir = await mkdtemp(join(tmpdir(), 'vigil-prom-'));
    // The exporter: Prometheus text format, two gauges, one with a label.
    exporter = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end([
        '# HELP shop_queue_depth Orders waiting.',
        '# TYPE shop_queue_depth gauge',
        'shop_queue_depth{queue="orders"} 3',
        'shop_queue_depth{queue="refunds"} 1',
        '# HELP shop_temperature_celsius Room temperature.',
        '# TYPE shop_temperature_celsius gauge',
        'shop_temperature_celsius 21.5',
        '',
      ].join('\n'));
    });
    exporter.listen(0, '127.0.0.1');
    await once(exporter, 'listening');
    const exporterPort = (exporter.address() as AddressInfo).port;

    node = await startNodeProcess(testConfig({ shop: KEY }, ADMIN));
    prometheus = await TestPrometheus.start({ binary: binary!, dir, config: [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: shop',
      `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
      'remote_write:',
      `  - url: ${node.url}/api/v1/write`,
      `    authorization: { credentials: ${KEY} }`,
      '    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }',
      '',
    ] });
  });

  after(async () => {
    if (prometheus) await prometheus.stop();
    if (node) await node.stop();
    if (exporter) exporter.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const series = async (service: string, metric: string): Promise<Array<[number, number]>> => {
    const r = await fetch(`${node.url}/v1/series?service=${service}&metric=${metric}`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { samples: Array<[number, number]> }).samples;
  };

  it('scraped series arrive in GET /v1/series under the job as service', async () => {
    const depth = await eventually(async () => {
      const s = await series('shop', 'shop_queue_depth');
      // two label sets (queue=orders, queue=refunds), merged by /v1/series; a few scrapes of each
      return s.length >= 6 ? s : undefined;
    }, 60_000, 250).catch((err: Error) => { throw new Error(`${err.message}; prometheus log: ${prometheus?.logTail()}`); });
    assert.deepEqual([...new Set(depth.map((p) => p[1]))].sort(), [1, 3]);
    const temperature = await series('shop', 'shop_temperature_celsius');
    assert.ok(temperature.length > 0 && temperature.every((p) => p[1] === 21.5), JSON.stringify(temperature));
    // Prometheus' own series for the target come along: up == 1
    const up = await series('shop', 'up');
    assert.ok(up.length > 0 && up.every((p) => p[1] === 1));
    // timestamps are Prometheus' scrape times (ms), one scrape a second
    const now = Date.now();
    assert.ok(depth.every((p) => Number.isInteger(p[0]) && p[0] > now - 120_000 && p[0] <= now), 'scrape timestamps');
  });

  it('Prometheus saw no failure and Vigil answered every request with 204', async () => {
    const vigil = await (await fetch(`${node.url}/metrics`)).text();
    const statuses = [...vigil.matchAll(/^vigil_http_requests_total\{route="\/api\/v1\/write",method="POST",status="(\d+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]);
    assert.ok(statuses.length > 0, 'remote-write requests counted');
    assert.deepEqual(statuses.map((s) => s[0]), ['204'], JSON.stringify(statuses));
    assert.ok(await prometheus!.metricSum('prometheus_remote_storage_samples_total') > 0, 'Prometheus sent samples');
    assert.equal(await prometheus!.metricSum('prometheus_remote_storage_samples_failed_total'), 0, 'no sample failed');
  });
});
