// A tenant's reads and commands in cluster mode (node/owner-route.ts): whichever node a request
// lands on, the node holding the tenant's shard answers it. Only the owner runs the tenant's
// correlator and stores its incidents, so an Alertmanager alert, an acknowledgement and a
// silence sent to another node must reach the owner, and reads on any node show them. Real
// nodes in cluster mode on a nats-server of the test's own.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import pino from 'pino';
import { ClusterControl, shardOf } from '../cluster/index.ts';
import { answerOwnerCall, startNode, type NodeHandle } from '../node/index.ts';
import type { Incident, LiveEvent } from '../protocols/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const SHARDS = 16;
const CLUSTER = 'ownroute';
const MIN = 60_000;

describe('cluster: a tenant\'s calls are answered by its shard\'s owner', function () {
  this.timeout(90_000);
  let nats: NatsServer;
  const nodes = new Map<string, NodeHandle>();

  async function start(id: string): Promise<NodeHandle> {
    const config = testConfig();
    config.node.id = id;
    config.cluster = { ...config.cluster, enabled: true, natsUrl: nats.url, name: CLUSTER, shards: SHARDS, heartbeatMs: 200, deadAfterMs: 1500 };
    const node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    nodes.set(id, node);
    return node;
  }

  /** acme's owner and the other node, once every shard is held and both nodes hold some. */
  async function roles(): Promise<{ owner: NodeHandle; other: NodeHandle }> {
    const shard = shardOf('acme', SHARDS);
    const control = await ClusterControl.open({ servers: nats.url, name: CLUSTER });
    try {
      return await eventually(async () => {
        const rows = await control.shards();
        if (rows.length !== SHARDS || new Set(rows.map((r) => r.node)).size !== 2) return undefined;
        const ownerId = rows.find((r) => r.shard === shard)!.node;
        const owner = nodes.get(ownerId);
        const other = [...nodes.entries()].find(([id]) => id !== ownerId)?.[1];
        return owner && other ? { owner, other } : undefined;
      }, 'both nodes holding shards', 30_000);
    } finally {
      await control.close();
    }
  }

  before(async () => {
    nats = await startNatsServer();
    await start('n1');
    await start('n2');
  });

  after(async () => {
    for (const n of nodes.values()) await n.stop().catch(() => undefined);
    await nats?.stop();
  });

  it('an alert, an acknowledgement and a silence sent to a node that does not own the tenant reach its owner', async () => {
    const { owner, other } = await roles();
    const via = new ApiClient(other.url, KEYS.acme);
    const firing = { labels: { alertname: 'HighErrorRate', job: 'checkout', severity: 'critical' }, startsAt: new Date(Date.now() - MIN).toISOString(), endsAt: new Date(Date.now() + 10 * MIN).toISOString() };
    assert.equal((await via.request('POST', '/api/v2/alerts', [firing])).status, 200);

    // read through the other node: the owner's incident (the other node's own store has none)
    const incident = await eventually(async () => {
      const r = await via.get<{ incidents: Incident[] }>('/v1/incidents?status=open');
      return r.status === 200 && r.body.incidents.length > 0 ? r.body.incidents[0] : undefined;
    }, 'the incident, read through the other node', 20_000);
    assert.equal((await owner.engine.incidents('acme', { status: 'open' })).items.length, 1, 'stored by the owner');
    assert.equal((await other.engine.incidents('acme', { status: 'open' })).items.length, 0, 'not by the other node');

    const ack = await via.request<Incident>('POST', `/v1/incidents/${incident.id}/ack`);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(ack.body.status, 'acknowledged');
    assert.equal((await owner.engine.incident('acme', incident.id))?.status, 'acknowledged');

    const silence = await via.request<{ silenceID: string }>('POST', '/api/v2/silences', {
      matchers: [{ name: 'job', value: 'db', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60 * MIN).toISOString(), createdBy: 'amtool', comment: 'maintenance',
    });
    assert.equal(silence.status, 200, JSON.stringify(silence.body));
    const onOwner = await new ApiClient(owner.url, KEYS.acme).get<Array<{ id: string }>>('/api/v2/silences');
    assert.deepEqual(onOwner.body.map((s) => s.id), [silence.body.silenceID]);
    // an error the owner gives comes back as the owner gave it
    const missing = await via.request<{ error: { code: string } }>('POST', '/v1/incidents/inc_0000000000000000/ack');
    assert.equal(missing.status, 404);
  });

  it('a stream open on a node that does not own the tenant hears the owner\'s events, and no other tenant\'s', async () => {
    const { owner, other } = await roles();
    const streamUrl = `${other.url.replace(/^http/, 'ws')}/v1/stream`;
    const ws = new WebSocket(streamUrl, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    const events: LiveEvent[] = [];
    ws.on('message', (data) => events.push(JSON.parse(String(data)) as LiveEvent));
    await once(ws, 'open');
    try {
      // globex's alert (wherever globex lives) must not reach acme's stream
      assert.equal((await new ApiClient(owner.url, KEYS.globex).request('POST', '/api/v2/alerts', [{ labels: { alertname: 'GlobexOnly', job: 'x' } }])).status, 200);
      assert.equal((await new ApiClient(owner.url, KEYS.acme).request('POST', '/api/v2/alerts', [{ labels: { alertname: 'StreamMe', job: 'web' } }])).status, 200);
      const alert = await eventually(async () => events.find((e) => e.type === 'alert' && e.data.metric === 'StreamMe'), 'the owner\'s alert on the other node\'s stream', 15_000);
      assert.equal(alert.type === 'alert' && alert.data.tenant, 'acme');
      await eventually(async () => (events.some((e) => e.type === 'incident') ? true : undefined), 'its incident too', 15_000);
      assert.deepEqual(events.filter((e) => e.type !== 'status' && (e.data as { tenant?: string }).tenant !== 'acme'), [], 'nothing of another tenant');
      assert.equal(events.filter((e) => e.type === 'alert' && e.data.metric === 'StreamMe').length, 1, 'once, not once per node');
    } finally {
      ws.close();
    }
  });

  it('a runbook defined on one node is every node\'s, and a run started through another node runs on the owner', async () => {
    const { owner, other } = await roles();
    const admin = new ApiClient(other.url, KEYS.admin);
    const put = await admin.request('PUT', '/v1/admin/tenants/acme/runbooks/pause', 'trigger: { severity: critical }\nsteps: [{ wait: 1s }]\n', { 'content-type': 'application/yaml' });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    await eventually(async () => {
      const r = await new ApiClient(owner.url, KEYS.admin).get<{ runbooks: Array<{ id: string }> }>('/v1/admin/tenants/acme/runbooks');
      return r.body.runbooks?.some((b) => b.id === 'pause') ? true : undefined;
    }, 'the owner holding the runbook', 10_000);
    const via = new ApiClient(other.url, KEYS.acme);
    const incident = (await via.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents[0];
    assert.ok(incident, 'the first test\'s incident');
    const run = await via.request<{ id: string; status: string; dryRun: boolean }>('POST', '/v1/runbook-runs', { runbook: 'pause', incident: incident.id, dryRun: true });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    assert.equal(run.body.dryRun, true);
    const listed = (await via.get<{ runs: Array<{ id: string }> }>('/v1/runbook-runs')).body.runs.map((r) => r.id);
    assert.ok(listed.includes(run.body.id), 'listed through the other node');
    assert.ok((await owner.engine.automation!.runs('acme', { limit: 10 })).items.some((r) => r.id === run.body.id), 'run by the owner');
    assert.equal((await other.engine.automation!.runs('acme', { limit: 10 })).items.length, 0, 'not by the other node');
  });

  it('a silence moves with the tenant\'s shard: after a drain its new owner holds it, and answers for it', async () => {
    const { owner, other } = await roles();
    const ownerId = [...nodes.entries()].find(([, n]) => n === owner)![0];
    const made = await new ApiClient(owner.url, KEYS.acme).request<{ silenceID: string }>('POST', '/api/v2/silences', {
      matchers: [{ name: 'job', value: 'cache', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60 * MIN).toISOString(), createdBy: 'sre', comment: 'before the drain',
    });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const control = await ClusterControl.open({ servers: nats.url, name: CLUSTER });
    try {
      const drained = await control.drain(ownerId, 30_000);
      assert.equal(drained.remaining, 0, 'every shard handed off');
      const otherId = [...nodes.entries()].find(([, n]) => n === other)![0];
      await eventually(async () => ((await control.shards()).find((r) => r.shard === shardOf('acme', SHARDS))?.node === otherId ? true : undefined), 'acme on the other node', 30_000);
      // the control's view can name the new owner before that node's own view has the shard (a
      // call meanwhile is answered 503, to be retried): wait for an answer, then check it
      let last = '';
      const listed = await eventually(async () => {
        const r = await new ApiClient(other.url, KEYS.acme).get<Array<{ id: string; comment: string }>>('/api/v2/silences');
        last = `${r.status} ${JSON.stringify(r.body)}`;
        return r.status === 200 && Array.isArray(r.body) ? r.body : undefined;
      }, 'the new owner answering for the silences', 30_000).catch((err: unknown) => assert.fail(`${String(err)}; last answer: ${last}`));
      const ids = listed.map((s) => s.id);
      assert.ok(ids.includes(made.body.silenceID), `the new owner holds the silence (it has ${ids.join(', ') || 'none'})`);
      // and it is in force there: a matching alert is suppressed
      assert.equal((await new ApiClient(other.url, KEYS.acme).request('POST', '/api/v2/alerts', [{ labels: { alertname: 'CacheDown', job: 'cache' } }])).status, 200);
      const alerts = (await new ApiClient(other.url, KEYS.acme).get<Array<{ labels: Record<string, string>; status: { silencedBy: string[] } }>>('/api/v2/alerts')).body;
      assert.deepEqual(alerts.find((a) => a.labels.alertname === 'CacheDown')?.status.silencedBy, [made.body.silenceID]);
    } finally {
      await control.undrain(ownerId).catch(() => undefined);
      await control.close();
    }
  });

  it('the owner refuses a routed call that is not one (a bad subject payload cannot reach its engine)', async () => {
    const n = nodes.get('n1')!;
    for (const raw of [undefined, {}, { desk: 'engine', method: 'restart', tenant: 'acme', args: [] }, { desk: 'correlation', method: 'receiveAlerts', tenant: 'acme' }]) {
      const a = await answerOwnerCall(n.engine, raw);
      assert.deepEqual(a.ok ? 'ok' : a.code, 'BAD_REQUEST', JSON.stringify(raw));
    }
  });
});
