// Correlation through an in-process node: silences CRUD (tenant-scoped, audited, kept across
// a restart), a silenced anomaly joins no incident until the silence ends, topology grouping
// of alerts from the Alertmanager intake, and incident notifications on the live stream.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import pino from 'pino';
import WebSocket from 'ws';
import { startNode, type NodeHandle } from '../node/index.ts';
import type { Incident, LiveEvent } from '../protocols/index.ts';
import { hashKey } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE, thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

interface SilenceView { id: string; state: string; matchers: unknown[]; startsAt: number; endsAt: number; createdBy: string; comment: string }
interface AuditEntry { action: string; tenant: string | null; actor: string; target: string; before: unknown; after: unknown }

const HOUR = 3600_000;
const config = testConfig();
config.correlation.groupWaitMs = 0; // notifications at once, so the stream test need not wait 30 s

const start = (): Promise<NodeHandle> => startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });

describe('api: silences and correlation on a node', function () {
  this.timeout(30_000);
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  let admin: ApiClient;
  const who = `key:${hashKey(KEYS.acme).slice(0, 12)}`;

  before(async () => {
    node = await start();
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
    admin = new ApiClient(node.url, KEYS.admin);
  });
  after(async () => node.stop());

  let silenceId: string;

  it('creates, reads, changes and expires a silence; each change is in the audit log', async () => {
    const now = Date.now();
    const created = await acme.request<SilenceView>('POST', '/v1/silences', {
      matchers: [{ name: 'service', value: 'db' }, { name: 'env', value: 'dev.*', isRegex: true, isEqual: false }], endsAt: now + HOUR, comment: 'db maintenance',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.state, 'active');
    assert.equal(created.body.createdBy, who, 'the caller, when createdBy is not given');
    assert.deepEqual(created.body.matchers, [
      { name: 'service', value: 'db', isRegex: false, isEqual: true }, { name: 'env', value: 'dev.*', isRegex: true, isEqual: false },
    ]);
    silenceId = created.body.id;
    assert.equal((await acme.get<SilenceView>(`/v1/silences/${silenceId}`)).body.comment, 'db maintenance');
    const changed = await acme.request<SilenceView>('PUT', `/v1/silences/${silenceId}`, { matchers: [{ name: 'service', value: 'db' }], endsAt: now + 2 * HOUR, comment: 'longer' });
    assert.equal(changed.status, 200);
    assert.deepEqual([changed.body.id, changed.body.endsAt, changed.body.startsAt], [silenceId, now + 2 * HOUR, created.body.startsAt]);
    const list = await acme.get<{ silences: SilenceView[] }>('/v1/silences?state=active');
    assert.deepEqual(list.body.silences.map((s) => s.id), [silenceId]);

    const audit = await admin.get<{ entries: AuditEntry[] }>('/v1/audit?tenant=acme');
    const mine = audit.body.entries.filter((e) => e.target === silenceId).map((e) => [e.action, e.actor]);
    assert.deepEqual(mine, [['silence.update', who], ['silence.create', who]]);
  });

  it('another tenant cannot see, change or expire it', async () => {
    assert.equal((await globex.get(`/v1/silences/${silenceId}`)).status, 404);
    assert.deepEqual((await globex.get<{ silences: SilenceView[] }>('/v1/silences')).body.silences, []);
    assert.equal((await globex.request('DELETE', `/v1/silences/${silenceId}`)).status, 404);
    assert.equal((await globex.request('PUT', `/v1/silences/${silenceId}`, { matchers: [{ name: 'a', value: 'b' }], endsAt: Date.now() + HOUR })).status, 404);
    assert.equal((await acme.get<SilenceView>(`/v1/silences/${silenceId}`)).body.state, 'active');
  });

  it('refuses bad silences with a reason', async () => {
    const bad = async (body: unknown, re: RegExp): Promise<void> => {
      const r = await acme.request<ErrorReply>('POST', '/v1/silences', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, re);
    };
    await bad({ matchers: [{ name: 'a', value: '(', isRegex: true }], endsAt: Date.now() + HOUR }, /not a valid regular expression/);
    await bad({ matchers: [{ name: 'a', value: '.*', isRegex: true }], endsAt: Date.now() + HOUR }, /empty string/);
    await bad({ matchers: [], endsAt: Date.now() + HOUR }, /matchers/);
    await bad({ matchers: [{ name: 'a', value: 'b' }], endsAt: Date.now() - HOUR }, /endsAt must be after startsAt/);
    await bad({ matchers: [{ name: '1a', value: 'b' }], endsAt: Date.now() + HOUR }, /name/);
  });

  it('a silenced anomaly joins no incident; expired, the silence lets it in', async () => {
    assert.equal((await acme.postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 1000, SPIKE]] }])).status, 202);
    const alert = await eventually(async () => {
      const r = await acme.get<Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>>('/api/v2/alerts');
      return r.body.find((a) => a.labels.service === 'db');
    }, 'the anomaly\'s alert');
    assert.deepEqual(alert.status, { state: 'suppressed', silencedBy: [silenceId], inhibitedBy: [], mutedBy: [] });
    assert.equal(alert.labels.alertname, 'cpu');
    assert.deepEqual((await acme.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents, []);

    const expired = await acme.request<SilenceView>('DELETE', `/v1/silences/${silenceId}`);
    assert.equal(expired.status, 200);
    assert.equal(expired.body.state, 'expired');
    const inc = await eventually(async () => (await acme.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents[0], 'an incident once unsilenced');
    assert.deepEqual(inc.services, ['db']);
    const audit = await admin.get<{ entries: AuditEntry[] }>('/v1/audit?tenant=acme');
    assert.equal(audit.body.entries[0]!.action, 'silence.expire');
    assert.equal((await acme.request('POST', `/v1/incidents/${inc.id}/resolve`)).status, 200);
  });

  it('groups Alertmanager alerts by the tenant\'s topology: related services one incident, an unrelated one its own', async () => {
    assert.equal((await acme.request('PUT', '/v1/topology', { services: [{ name: 'web', dependsOn: ['orders'] }, { name: 'orders', dependsOn: [] }, { name: 'mail', dependsOn: [] }] })).status, 200);
    const at = new Date().toISOString();
    const post = (service: string) => acme.request('POST', '/api/v2/alerts', [{ labels: { alertname: 'Down', service }, startsAt: at }]);
    for (const s of ['orders', 'web', 'mail']) assert.equal((await post(s)).status, 200);
    const open = await eventually(async () => {
      const list = (await acme.get<{ incidents: Incident[] }>('/v1/incidents?status=open')).body.incidents;
      return list.length === 2 ? list : undefined;
    }, 'two open incidents');
    assert.deepEqual(open.map((i) => [...i.services].sort().join(',')).sort(), ['mail', 'orders,web']);
  });

  it('incident notifications reach the tenant\'s live stream', async () => {
    const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${KEYS.globex}` } });
    const events: LiveEvent[] = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d)) as LiveEvent));
    await once(ws, 'open');
    assert.equal((await globex.request('POST', '/api/v2/alerts', [{ labels: { alertname: 'Full', service: 'disk' } }])).status, 200);
    const n = await eventually(async () => events.find((e) => e.type === 'notification'), 'a notification');
    assert.ok(n.type === 'notification');
    assert.equal(n.data.reason, 'opened');
    assert.equal(n.data.tenant, 'globex');
    assert.deepEqual(n.data.alerts.map((a) => a.labels.alertname), ['Full']);
    ws.close();
  });

  it('silences outlive a restart of the node', async () => {
    const kept = await acme.request<SilenceView>('POST', '/v1/silences', { matchers: [{ name: 'service', value: 'cache' }], endsAt: Date.now() + HOUR, comment: 'kept' });
    assert.equal(kept.status, 201);
    await node.stop();
    node = await start();
    acme = new ApiClient(node.url, KEYS.acme);
    const again = await acme.get<SilenceView>(`/v1/silences/${kept.body.id}`);
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.comment, again.body.state], ['kept', 'active']);
    assert.equal((await acme.get<SilenceView>(`/v1/silences/${silenceId}`)).body.state, 'expired');
  });
});
