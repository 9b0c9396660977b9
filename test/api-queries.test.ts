// Reads over a real node: anomalies, alerts and incidents with filters and paging, the
// incident status changes, topology, and tenant isolation of all of them.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { Alert, AnomalyEvent, Incident } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, startTestNode } from './support/api-node.ts';

const MIN = 60_000;

type AnomalyPage = { anomalies: AnomalyEvent[]; next?: string };
type AlertPage = { alerts: Alert[]; next?: string };
type IncidentPage = { incidents: Incident[]; next?: string };

/** Follows `next` until the last page; returns every page's items. */
async function allPages<P extends { next?: string }>(api: ApiClient, path: string, key: keyof P): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api.get<P>(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    pages.push(r.body[key] as unknown[]);
    cursor = r.body.next;
    assert.ok(pages.length < 100, 'paging terminates');
  } while (cursor);
  return pages;
}

describe('api: queries, incidents, topology', () => {
  let node: NodeHandle;
  let acme: ApiClient;
  let globex: ApiClient;
  const now = Date.now();
  const base = now - 25 * MIN;
  const spikes = [1, 7, 13, 19].map((m) => base + m * MIN); // > 5 min apart: one incident each

  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
    // One series per spike: one series spiking again while its alert still fires is the same
    // alert (deduplicated by fingerprint), so four incidents need four series.
    const latency = (spike: number): Array<[number, number]> => {
      const out: Array<[number, number]> = [];
      for (let m = 0; m < 24; m++) out.push([base + m * MIN, base + m * MIN === spike ? SPIKE + m : 10]);
      return out;
    };
    const r = await acme.postMetrics([
      ...spikes.map((t, i) => ({ service: 'checkout', metric: 'latency_ms', labels: { region: `eu-${i}` }, samples: latency(t) })),
      { service: 'payments', metric: 'errors', samples: [[spikes[2]! + 1000, SPIKE]] },
    ]);
    assert.equal(r.status, 202);
    await eventually(async () => {
      const inc = await acme.get<IncidentPage>('/v1/incidents');
      const an = await acme.get<AnomalyPage>('/v1/anomalies');
      return inc.body.incidents.length === 4 && an.body.anomalies.length === 5 ? true : undefined;
    }, '5 anomalies and 4 incidents');
  });
  after(async () => node.stop());

  it('pages anomalies with an opaque cursor, no gaps or repeats', async () => {
    const pages = await allPages<AnomalyPage>(acme, '/v1/anomalies?limit=2', 'anomalies');
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
    const all = pages.flat() as AnomalyEvent[];
    assert.equal(new Set(all.map((a) => a.id)).size, 5);
    // the pages, joined, are the one-page listing in the same order (the store's newest first)
    const one = await acme.get<AnomalyPage>('/v1/anomalies?limit=1000');
    assert.deepEqual(all.map((a) => a.id), one.body.anomalies.map((a) => a.id));
    assert.equal(one.body.next, undefined);
    assert.ok(all.every((a) => a.tenant === 'acme'));
  });

  it('filters anomalies and alerts by service, metric and time', async () => {
    const bySvc = await acme.get<AnomalyPage>('/v1/anomalies?service=payments');
    assert.deepEqual(bySvc.body.anomalies.map((a) => a.metric), ['errors']);
    const byMetric = await acme.get<AnomalyPage>('/v1/anomalies?metric=latency_ms&limit=1000');
    assert.equal(byMetric.body.anomalies.length, 4);
    const byTime = await acme.get<AnomalyPage>(`/v1/anomalies?from=${spikes[1]}&to=${spikes[2]}`);
    assert.deepEqual(byTime.body.anomalies.map((a) => a.timestamp).sort(), [spikes[1], spikes[2]]);
    const alerts = await acme.get<AlertPage>('/v1/alerts?service=checkout');
    assert.equal(alerts.body.alerts.length, 4);
    assert.ok(alerts.body.alerts.every((a) => a.service === 'checkout' && a.incidentId));
  });

  it('lists incidents, pages them, and reads one by id', async () => {
    const pages = await allPages<IncidentPage>(acme, '/v1/incidents?limit=3', 'incidents');
    assert.deepEqual(pages.map((p) => p.length), [3, 1]);
    const incidents = pages.flat() as Incident[];
    assert.ok(incidents.every((i) => i.status === 'open' && i.services.length > 0 && typeof i.openedAt === 'number'));
    const shared = incidents.find((i) => i.services.includes('payments'));
    assert.deepEqual(shared?.services.slice().sort(), ['checkout', 'payments']);
    const one = await acme.get<Incident>(`/v1/incidents/${shared!.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, shared!.id);
    const missing = await acme.get<ErrorReply>('/v1/incidents/no-such-incident');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'NOT_FOUND');
  });

  it('acknowledges and resolves an incident; the status filter follows', async () => {
    const [first, second] = (await acme.get<IncidentPage>('/v1/incidents')).body.incidents;
    const acked = await acme.request<Incident>('POST', `/v1/incidents/${first!.id}/ack`);
    assert.equal(acked.status, 200);
    assert.equal(acked.body.status, 'acknowledged');
    const resolved = await acme.request<Incident>('POST', `/v1/incidents/${second!.id}/resolve`);
    assert.equal(resolved.body.status, 'resolved');
    assert.equal((await acme.get<IncidentPage>('/v1/incidents?status=acknowledged')).body.incidents.map((i) => i.id).join(), first!.id);
    assert.equal((await acme.get<IncidentPage>('/v1/incidents?status=resolved')).body.incidents.map((i) => i.id).join(), second!.id);
    assert.equal((await acme.get<IncidentPage>('/v1/incidents?status=open')).body.incidents.length, 2);
    const conflict = await acme.request<ErrorReply>('POST', `/v1/incidents/${second!.id}/ack`);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'CONFLICT');
    assert.equal((await acme.request('POST', '/v1/incidents/nope/resolve')).status, 404);
    // an empty JSON body on a route that takes none is fine (curl -H 'content-type: application/json')
    const empty = await acme.request<Incident>('POST', `/v1/incidents/${second!.id}/resolve`, '', { 'content-type': 'application/json' });
    assert.equal(empty.status, 200);
  });

  it('refuses bad query strings with 400 and a reason', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/v1/anomalies?limit=0', /limit: must be between 1 and 1000/],
      ['/v1/anomalies?limit=1001', /limit: must be between 1 and 1000/],
      ['/v1/alerts?limit=ten', /querystring\.limit: must match pattern/],
      ['/v1/incidents?status=closed', /querystring\.status: must be equal to one of the allowed values/],
      ['/v1/anomalies?from=10&to=5', /from is after to/],
      ['/v1/anomalies?from=-5', /querystring\.from/],
      ['/v1/anomalies?colour=red', /unknown field 'colour'/],
      ['/v1/series?service=checkout', /missing field 'metric'/],
      ['/v1/series?service=checkout&metric=latency_ms&limit=10001', /limit: must be between 1 and 10000/],
    ];
    for (const [path, reason] of cases) {
      const r = await acme.get<ErrorReply>(path);
      assert.equal(r.status, 400, path);
      assert.match(r.body.error.message, reason, path);
    }
  });

  it('replaces and reads the topology; refuses a malformed one', async () => {
    const topology = { services: [{ name: 'frontend', dependsOn: ['checkout'] }, { name: 'checkout', dependsOn: ['payments', 'db'] }] };
    const put = await acme.request('PUT', '/v1/topology', topology);
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { services: 2, dependencies: 3 });
    const got = await acme.get<typeof topology>('/v1/topology');
    assert.deepEqual(
      got.body.services.map((s) => [s.name, [...s.dependsOn].sort()]).sort(),
      // services named only as a dependency are services of the graph too, with none of their own
      [['checkout', ['db', 'payments']], ['db', []], ['frontend', ['checkout']], ['payments', []]],
    );
    const bad = await acme.request<ErrorReply>('PUT', '/v1/topology', { services: [{ name: 'x', dependsOn: 'y' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /services\[0\]\.dependsOn: must be array/);
    const proto = await acme.request<ErrorReply>('PUT', '/v1/topology', new Uint8Array([1, 2]), { 'content-type': 'application/x-protobuf' });
    assert.equal(proto.status, 415);
    assert.match(proto.body.error.message, /only for POST \/v1\/metrics/);
  });

  it('shows another tenant none of this data', async () => {
    assert.deepEqual((await globex.get<AnomalyPage>('/v1/anomalies')).body.anomalies, []);
    assert.deepEqual((await globex.get<AlertPage>('/v1/alerts')).body.alerts, []);
    assert.deepEqual((await globex.get<IncidentPage>('/v1/incidents')).body.incidents, []);
    assert.deepEqual(await globex.samples('checkout', 'latency_ms'), []);
    const topo = await globex.get<{ services: unknown[] }>('/v1/topology');
    assert.deepEqual(topo.body.services, []);
    const id = (await acme.get<IncidentPage>('/v1/incidents?status=open')).body.incidents[0]!.id;
    assert.equal((await globex.get(`/v1/incidents/${id}`)).status, 404);
    assert.equal((await globex.request('POST', `/v1/incidents/${id}/resolve`)).status, 404);
    // and the failed attempt changed nothing for the owner
    assert.equal((await acme.get<Incident>(`/v1/incidents/${id}`)).body.status, 'open');
    // a second key of the same tenant sees the same data
    assert.equal((await acme.withKey('acme-key-2').get<AnomalyPage>('/v1/anomalies')).body.anomalies.length, 5);
  });
});
