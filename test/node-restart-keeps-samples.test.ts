// Nothing answered 202 is lost when a TenantActor restarts while its ServiceActors still
// hold queued batches (a real node process, `vigil ctl restart`), and the ingest backlog
// returns to 0 whatever happened to a batch, a failed publish included.
import assert from 'node:assert/strict';
import { createActorSystem } from '../actors/runtime/index.ts';
import { IngestBacklog, SeriesLimits, type VigilConfig } from '../cluster/index.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmittedBatch } from '../cluster/shard-host.ts';
import { DiskIngestLog } from '../cluster/ingest-log/index.ts';
import { LiveHub } from '../cluster/live.ts';
import { NodeEngine } from '../node/index.ts';
import { OpenIncidentsCache } from '../cluster/open-incidents.ts';
import { encodeMetricBatch, VigilError, type SeriesInput } from '../protocols/index.ts';
import { runVigil } from './support/cli-process.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { Registry } from 'prom-client';

const KEY = 'restart-key-1';
const ADMIN = 'restart-admin-1';
const SERVICES = 20;
const METRICS = 10;
const PER_REQUEST = 50;    // samples per series in one request
const MIN_REQUESTS = 6;    // sent before the restart is asked for: the services are behind
const MAX_REQUESTS = 48;   // per attempt: 2,400 samples per series; four attempts stay under the series query limit
const ATTEMPTS = 4;

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('a TenantActor restarted with batches queued at its services (real node)', function () {
  this.timeout(180_000);
  let node: TestNode;

  before(async () => {
    node = await startNodeProcess(testConfig({ acme: KEY }, ADMIN, (c: VigilConfig) => {
      c.http.bodyLimitBytes = 16 << 20;
      c.tenants[0]!.tier = 'agile';
    }), { VIGIL_TEST_SLOW_US: '20' }); // ~10 ms a service batch: the senders outrun the services
  });
  after(async () => node?.stop());

  it('keeps every sample answered 202, and the backlog gauge returns to 0', async () => {
    const accepted = new Map<string, number>();
    const start = Date.now() - 6 * 86_400_000; // inside the 7-day window the gateway accepts
    let seq = 0;
    const post = async (): Promise<void> => {
      const base = start + (seq++) * PER_REQUEST * 1000;
      const series: SeriesInput[] = [];
      for (let s = 0; s < SERVICES; s++) {
        for (let m = 0; m < METRICS; m++) {
          series.push({ service: `svc${s}`, metric: `m${m}`, samples: Array.from({ length: PER_REQUEST }, (_, i): [number, number] => [base + i * 1000, 10 + ((i * 31 + s + m) % 7)]) });
        }
      }
      const res = await fetch(`${node.url}/v1/metrics`, {
        method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-protobuf' }, body: encodeMetricBatch('acme', series),
      });
      await res.arrayBuffer();
      if (res.status === 202) for (const s of series) accepted.set(`${s.service}/${s.metric}`, (accepted.get(`${s.service}/${s.metric}`) ?? 0) + PER_REQUEST);
      else assert.equal(res.status, 503, `only 202 or 503 (overloaded) expected, got ${res.status}`);
    };

    let readopted = 0;
    for (let attempt = 0; attempt < ATTEMPTS && readopted === 0; attempt++) {
      let sent = 0;
      let restarted = false;
      // the senders go on until the restart is answered, so its request always lands while
      // the services' mailboxes are full, however long the CLI takes to start on a busy machine
      const senders = Array.from({ length: 4 }, async () => {
        while (!restarted && sent < MAX_REQUESTS) {
          sent++;
          await post();
        }
      });
      await eventually(async () => (sent >= MIN_REQUESTS ? true : undefined), 30_000, 5);
      const r = await runVigil(['ctl', 'restart', '/root/tenants/acme', '--url', node.url, '--admin-key', ADMIN]);
      restarted = true;
      assert.equal(r.code, 0, r.stderr);
      await Promise.all(senders);
      await eventually(async () => ((await gauge(node.url, 'vigil_ingest_backlog_samples')) === 0 ? true : undefined), 60_000);
      readopted = await gauge(node.url, 'vigil_actor_readopted_messages_total');
    }
    assert.ok(readopted > 0, `the restart found batches queued at services in ${ATTEMPTS} attempts (readopted ${readopted})`);

    // the store is eventually consistent: every sample answered 202 is there once the writers flushed
    for (const [key, n] of accepted) {
      const [service, metric] = key.split('/') as [string, string];
      const count = async (): Promise<number> => {
        const res = await fetch(`${node.url}/v1/series?service=${service}&metric=${metric}`, { headers: { authorization: `Bearer ${KEY}` } });
        return ((await res.json()) as { samples: Array<[number, number]> }).samples.length;
      };
      const got = await eventually(async () => { const c = await count(); return c >= n ? c : undefined; }, 60_000, 200).catch(count);
      assert.equal(got, n, `${key}: every sample answered 202 is stored`);
    }
    assert.equal(await gauge(node.url, 'vigil_ingest_backlog_samples'), 0);
  });
});

describe('an append to the ingest log that fails', () => {
  it('gives its samples back to the backlog and answers UNAVAILABLE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-append-fails-'));
    const log = await DiskIngestLog.open(dir);
    await log.close(); // a closed log refuses every append: the failure a full disk also gives
    const system = createActorSystem({ name: 'append-fails' });
    const backlog = new IngestBacklog(1000);
    const tenants = system.spawn('tenants', { kind: 'tenant-supervisor', init: () => null, receive: (s) => s });
    const admitted = new Map<string, AdmittedBatch>();
    const engine = new NodeEngine({
      system, clock: system.clock, tenants, log, shards: 4, backlog, admitted,
      store: undefined as never, graph: undefined as never, audit: undefined as never, cache: undefined as never, // never reached: the append fails first
      incidents: new OpenIncidentsCache(), live: new LiveHub(), metrics: new Registry(), tenantMetrics: new Registry(), isReady: () => true,
      limits: new SeriesLimits(() => ({ maxSeries: 10, maxServices: 10 })), writerDepth: () => 0, incidentsStored: async () => undefined,
    });
    await assert.rejects(engine.ingest('acme', [{ service: 'db', metric: 'cpu', samples: [[1, 1], [2, 2]] }]), (e: unknown) => VigilError.is(e, 'UNAVAILABLE'));
    assert.equal(backlog.size, 0);
    assert.equal(admitted.size, 0, 'no receipt waits for a batch that is not in the log');
    await system.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
