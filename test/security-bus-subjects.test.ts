// No cross-tenant access through a bus subject: in cluster mode every accepted batch goes to
// JetStream on `<cluster>.metrics.<shard>`, the shard a hash of the key's tenant. A tenant
// cannot choose the subject (no name it sends is part of it), nor the tenant a message
// carries (the protobuf `tenant` field, a remote-write `tenant` label, subject-like service
// names). Watched on a nats-server of the test's own, with a plain subscriber on every subject.
import assert from 'node:assert/strict';
import pino from 'pino';
import { compress } from 'snappyjs';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { shardOf } from '../cluster/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { decodeMetricBatch, encodeMetricBatch, remoteWire } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const CLUSTER = 'secbus';
const SHARDS = 16;

describe('security: bus subjects carry the key\'s tenant only (cluster mode)', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let node: NodeHandle;
  let nc: NatsConnection;
  let sub: Subscription;
  const seen: Array<{ subject: string; tenant: string; services: string[] }> = [];

  before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    sub = nc.subscribe(`${CLUSTER}.>`);
    void (async () => {
      for await (const m of sub) {
        if (!m.subject.startsWith(`${CLUSTER}.metrics.`)) continue;
        const batch = decodeMetricBatch(m.data);
        seen.push({ subject: m.subject, tenant: batch.tenant, services: batch.series.map((s) => s.service) });
      }
    })();
    const config = testConfig();
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500 };
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
  });

  after(async () => {
    await node?.stop();
    await nc?.close();
    await nats?.stop();
  });

  it('puts every batch of a tenant on its shard\'s subject with its tenant, whatever the batch names', async () => {
    assert.notEqual(shardOf('acme', SHARDS), shardOf('globex', SHARDS), 'the two tenants hash to different shards (else the subject check below proves less)');
    const acme = new ApiClient(node.url, KEYS.acme);
    const globex = new ApiClient(node.url, KEYS.globex);
    const t = Date.now() - 60_000;
    // service names shaped like subjects (wildcards and `$` are not name characters: refused at the schema)
    const hostile = ['globex', `${CLUSTER}.metrics.1`, 'a.b.c', '_INBOX.x', `JS.API.STREAM.DELETE.${CLUSTER.toUpperCase()}_INGEST`];
    assert.equal((await acme.postMetrics(hostile.map((service) => ({ service, metric: 'm', samples: [[t, 1]] })))).status, 202);
    const pb = encodeMetricBatch('globex', [{ service: 'pb-svc', metric: 'm', samples: [[t + 1, 2]] }]);
    assert.equal((await acme.request('POST', '/v1/metrics', pb, { 'content-type': 'application/x-protobuf' })).status, 202);
    const rw = compress(Buffer.from(remoteWire.WriteRequest.encode({
      timeseries: [{ labels: [{ name: '__name__', value: 'm' }, { name: 'job', value: 'rw-svc' }, { name: 'tenant', value: 'globex' }], samples: [{ timestamp: t + 2, value: 3 }] }],
    }).finish()));
    assert.equal((await acme.request('POST', '/api/v1/write', rw, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' })).status, 204);
    assert.equal((await globex.postMetrics([{ service: 'globex-own', metric: 'm', samples: [[t, 1]] }])).status, 202);

    await eventually(async () => (seen.length >= 4 ? true : undefined), 'four batches on the bus');
    const subjectOf = (tenant: string) => `${CLUSTER}.metrics.${shardOf(tenant, SHARDS)}`;
    for (const m of seen) {
      assert.match(m.subject, new RegExp(`^${CLUSTER}\\.metrics\\.\\d+$`), 'a subject is the prefix and a shard number');
      assert.equal(m.subject, subjectOf(m.tenant), `${m.tenant}'s batch on its own shard`);
    }
    const acmeBatches = seen.filter((m) => m.services.some((s) => s !== 'globex-own'));
    assert.equal(acmeBatches.length, 3);
    for (const m of acmeBatches) assert.equal(m.tenant, 'acme', `sent with acme's key: ${m.services.join(', ')}`);
    assert.deepEqual(seen.filter((m) => m.tenant === 'globex').map((m) => m.services), [['globex-own']]);
  });
});
