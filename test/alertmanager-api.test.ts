// The Alertmanager-compatible face on an in-process node: alerts posted in Alertmanager's API
// v2 shape join the tenant's correlator (one alert and one incident however often posted,
// resolved when the sender says), read back in Alertmanager's shapes and stored like the
// alerts raised from anomalies (GET /v1/alerts); silences through /api/v2; the tenant is the
// bearer key's and sees only its own.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { Alert, Incident } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { KEYS, startTestNode } from './support/api-node.ts';

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  updatedAt: string;
  fingerprint: string;
  generatorURL: string;
  receivers: Array<{ name: string }>;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}
interface GettableSilence { id: string; status: { state: string }; matchers: unknown[]; startsAt: string; endsAt: string; createdBy: string; comment: string }

const MIN = 60_000;

describe('api: Alertmanager API v2', function () {
  this.timeout(30_000);
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  const startsAt = new Date(Date.now() - MIN).toISOString();
  const firing = { labels: { alertname: 'HighErrorRate', job: 'checkout', severity: 'critical' }, annotations: { summary: 'errors over 5%' }, startsAt, endsAt: new Date(Date.now() + 10 * MIN).toISOString(), generatorURL: 'http://prom/graph?g0.expr=x' };

  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
  });
  after(async () => node.stop());

  const open = async (): Promise<Incident[]> => (await acme.get<{ incidents: Incident[] }>('/v1/incidents?status=open')).body.incidents;
  const stored = async (client: ApiClient, query = ''): Promise<Alert[]> => (await client.get<{ alerts: Alert[] }>(`/v1/alerts${query}`)).body.alerts;

  it('an alert posted three times is one alert in one incident, listed in Alertmanager\'s shape', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await acme.request('POST', '/api/v2/alerts', [firing])).status, 200);
    const alerts = (await acme.get<GettableAlert[]>('/api/v2/alerts')).body;
    assert.equal(alerts.length, 1);
    const a = alerts[0]!;
    assert.deepEqual(a.labels, firing.labels);
    assert.deepEqual(a.annotations, firing.annotations);
    assert.equal(a.startsAt, startsAt);
    assert.equal(a.endsAt, firing.endsAt);
    assert.equal(a.generatorURL, firing.generatorURL);
    assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
    assert.deepEqual(a.receivers, [{ name: 'vigil' }]);
    assert.deepEqual(a.status, { state: 'active', silencedBy: [], inhibitedBy: [], mutedBy: [] });
    const incidents = await eventually(async () => ((await open()).length > 0 ? open() : undefined), 'the incident stored');
    assert.equal(incidents.length, 1);
    assert.deepEqual(incidents[0]!.services, ['checkout'], 'the job label names the service');
    assert.equal(incidents[0]!.alertIds.length, 1);
    assert.equal(incidents[0]!.title, 'checkout: errors over 5%');
    // stored once, as an anomaly's alert is: its service, the alertname as metric, every label, no tier, no anomaly
    const inc = incidents[0]!;
    const [rec] = await eventually(async () => ((await stored(acme)).length > 0 ? stored(acme) : undefined), 'the alert stored');
    assert.deepEqual(rec, {
      id: inc.alertIds[0], tenant: 'acme', service: 'checkout', metric: 'HighErrorRate', labels: firing.labels, timestamp: Date.parse(startsAt),
      score: 1, severity: 'critical', anomalyId: '', incidentId: inc.id,
    });
    assert.deepEqual((await stored(acme, `?incident=${inc.id}`)).map((a) => a.id), inc.alertIds);
    assert.deepEqual(await stored(acme, '?incident=inc_0000000000000000'), []);
    assert.deepEqual((await stored(acme, '?service=checkout&metric=HighErrorRate')).map((a) => a.id), inc.alertIds);
  });

  it('another tenant sees none of it; no key, no entry', async () => {
    assert.deepEqual((await globex.get('/api/v2/alerts')).body, []);
    assert.deepEqual(await stored(globex), []);
    assert.equal((await new ApiClient(node.url).get('/api/v2/alerts')).status, 401);
    assert.equal((await new ApiClient(node.url).request('POST', '/api/v2/alerts', [firing])).status, 401);
  });

  it('filters by matchers and by state, as amtool asks', async () => {
    assert.equal((await acme.request('POST', '/api/v2/alerts', [{ labels: { alertname: 'DiskFull', job: 'db', severity: 'warning' } }])).status, 200);
    const names = async (q: string): Promise<string[]> => (await acme.get<GettableAlert[]>(`/api/v2/alerts${q}`)).body.map((a) => a.labels.alertname!).sort();
    assert.deepEqual(await names(''), ['DiskFull', 'HighErrorRate']);
    assert.deepEqual(await names(`?filter=${encodeURIComponent('severity="warning"')}`), ['DiskFull']);
    assert.deepEqual(await names(`?filter=${encodeURIComponent('alertname=~"High.*"')}&filter=${encodeURIComponent('job!="db"')}`), ['HighErrorRate']);
    assert.deepEqual(await names('?active=false'), []);
    assert.deepEqual(await names('?receiver=other'), []);
    const bad = await acme.get<ErrorReply>(`/api/v2/alerts?filter=${encodeURIComponent('alertname')}`);
    assert.equal(bad.status, 400);
  });

  it('silences in Alertmanager\'s shape: create, read, expire; a silenced alert is suppressed', async () => {
    const body = {
      matchers: [{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 60 * MIN).toISOString(), createdBy: 'amtool', comment: 'known',
    };
    const made = await acme.request<{ silenceID: string }>('POST', '/api/v2/silences', body);
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const id = made.body.silenceID;
    const got = await acme.get<GettableSilence>(`/api/v2/silence/${id}`);
    assert.equal(got.status, 200);
    assert.deepEqual([got.body.status.state, got.body.createdBy, got.body.comment], ['active', 'amtool', 'known']);
    assert.deepEqual((await acme.get<GettableSilence[]>('/api/v2/silences')).body.map((s) => s.id), [id]);
    assert.deepEqual((await acme.get<GettableSilence[]>(`/api/v2/silences?filter=${encodeURIComponent('alertname="Other"')}`)).body, []);
    // a new DiskFull firing (another instance) is silenced
    assert.equal((await acme.request('POST', '/api/v2/alerts', [{ labels: { alertname: 'DiskFull', job: 'db', instance: 'b' } }])).status, 200);
    const alerts = (await acme.get<GettableAlert[]>('/api/v2/alerts?silenced=true')).body;
    const silenced = alerts.find((a) => a.labels.instance === 'b')!;
    assert.deepEqual([silenced.status.state, silenced.status.silencedBy], ['suppressed', [id]]);
    assert.equal((await acme.get<GettableAlert[]>('/api/v2/alerts?silenced=false')).body.some((a) => a.labels.instance === 'b'), false);
    assert.equal((await globex.get(`/api/v2/silence/${id}`)).status, 404);
    assert.equal((await acme.request('DELETE', `/api/v2/silence/${id}`)).status, 200);
    assert.equal((await acme.get<GettableSilence>(`/api/v2/silence/${id}`)).body.status.state, 'expired');
    assert.equal((await acme.request('DELETE', '/api/v2/silence/nope')).status, 404);
  });

  it('a resolved alert (endsAt in the past) clears it, and its incident resolves when its alerts have', async () => {
    const before = await open();
    const inc = before.find((i) => i.services.includes('checkout'))!;
    const resolved = { ...firing, endsAt: new Date(Date.now() - 1000).toISOString() };
    assert.equal((await acme.request('POST', '/api/v2/alerts', [resolved])).status, 200);
    assert.equal((await acme.get<GettableAlert[]>('/api/v2/alerts')).body.some((a) => a.labels.alertname === 'HighErrorRate'), false);
    assert.equal((await acme.get<Incident>(`/v1/incidents/${inc.id}`)).body.status, 'open', 'its other alerts still fire');
    // both DiskFull alerts (db) joined the same incident by time (one once its silence ended): it waits for them too
    const gone = new Date(Date.now() - 1000).toISOString();
    const rest = [{ labels: { alertname: 'DiskFull', job: 'db', severity: 'warning' }, endsAt: gone }, { labels: { alertname: 'DiskFull', job: 'db', instance: 'b' }, endsAt: gone }];
    // every alert of the incident is stored under it, the one silenced until its silence ended included
    const ids = (await acme.get<Incident>(`/v1/incidents/${inc.id}`)).body.alertIds;
    const joined = await eventually(async () => {
      const list = await stored(acme, `?incident=${inc.id}`);
      return list.length === ids.length ? list : undefined;
    }, 'the incident\'s alerts stored');
    assert.deepEqual(joined.map((a) => a.id).sort(), [...ids].sort());
    assert.deepEqual(joined.map((a) => [a.metric, a.labels.instance ?? '']).sort(), [['DiskFull', ''], ['DiskFull', 'b'], ['HighErrorRate', '']]);
    assert.equal((await acme.request('POST', '/api/v2/alerts', rest)).status, 200);
    const done = await eventually(async () => {
      const r = await acme.get<Incident>(`/v1/incidents/${inc.id}`);
      return r.body.status === 'resolved' ? r.body : undefined;
    }, 'the incident resolved');
    assert.ok(done.resolvedAt! >= Date.parse(resolved.endsAt) - 5_000);
  });

  it('refuses what Alertmanager would refuse, with a reason', async () => {
    const bad = async (body: unknown, re: RegExp): Promise<void> => {
      const r = await acme.request<ErrorReply>('POST', '/api/v2/alerts', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, re);
    };
    await bad([{ annotations: {} }], /labels/);
    await bad([{ labels: {} }], /labels/);
    await bad([{ labels: { a: 'b' }, startsAt: 'yesterday' }], /startsAt.*RFC 3339/);
    await bad({ labels: { a: 'b' } }, /array/);
    const silence = await acme.request<ErrorReply>('POST', '/api/v2/silences', { matchers: [{ name: 'a', value: 'b', isRegex: false }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() - MIN).toISOString(), createdBy: 'x', comment: '' });
    assert.equal(silence.status, 400);
    assert.match(silence.body.error.message, /endsAt/);
  });

  it('answers the status and receivers Grafana and amtool ask for', async () => {
    const status = await acme.get<{ cluster: { status: string }; versionInfo: { version: string } }>('/api/v2/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.cluster.status, 'disabled');
    assert.deepEqual((await acme.get('/api/v2/receivers')).body, [{ name: 'vigil' }]);
  });
});
