// The audit log through the node: an ack, a resolve, a topology change and an actor restart
// are recorded with who did it (never the key itself), before and after; only the admin
// key reads it, filtered by tenant and paged.
import assert from 'node:assert/strict';
import type { NodeHandle } from '../node/index.ts';
import type { Incident } from '../protocols/index.ts';
import { hashKey } from '../protocols/index.ts';
import { ApiClient, eventually, type ErrorReply } from './support/api-client.ts';
import { SPIKE } from './support/api-detector.ts';
import { KEYS, startTestNode } from './support/api-node.ts';

interface Entry { seq: number; tenant: string | null; actor: string; action: string; target: string; before: unknown; after: unknown }

describe('api: the audit log', () => {
  let node: NodeHandle;
  let acme: ApiClient;
  let admin: ApiClient;
  before(async () => {
    node = await startTestNode();
    acme = new ApiClient(node.url, KEYS.acme);
    admin = new ApiClient(node.url, KEYS.admin);
  });
  after(async () => node.stop());

  it('records acks, resolves, topology changes and restarts, with who and what', async () => {
    assert.equal((await acme.postMetrics([{ service: 'db', metric: 'cpu', samples: [[Date.now() - 1000, SPIKE]] }])).status, 202);
    const inc = await eventually(async () => (await acme.get<{ incidents: Incident[] }>('/v1/incidents')).body.incidents[0], 'an incident');
    assert.equal((await acme.request('POST', `/v1/incidents/${inc.id}/ack`)).status, 200);
    assert.equal((await acme.request('POST', `/v1/incidents/${inc.id}/resolve`)).status, 200);
    assert.equal((await acme.request('PUT', '/v1/topology', { services: [{ name: 'api', dependsOn: ['db'] }] })).status, 200);
    assert.equal((await admin.request('POST', '/v1/admin/restart', { path: '/root/tenants' })).status, 200);

    const page = await admin.get<{ entries: Entry[] }>('/v1/audit');
    assert.equal(page.status, 200);
    const who = `key:${hashKey(KEYS.acme).slice(0, 12)}`;
    assert.deepEqual(page.body.entries.map((e) => [e.action, e.tenant, e.actor, e.target]), [
      ['admin.restart', null, 'admin', '/root/tenants'],
      ['topology.replace', 'acme', who, 'topology'],
      ['incident.resolve', 'acme', who, inc.id],
      ['incident.ack', 'acme', who, inc.id],
    ]);
    assert.deepEqual([page.body.entries[3]!.before, page.body.entries[3]!.after], [{ status: 'open' }, { status: 'acknowledged' }]);
    assert.ok(!JSON.stringify(page.body).includes(KEYS.acme), 'the key itself is never stored');

    const mine = await admin.get<{ entries: Entry[] }>('/v1/audit?tenant=acme&limit=2');
    assert.deepEqual(mine.body.entries.map((e) => e.action), ['topology.replace', 'incident.resolve']);
    const nodeLevel = await admin.get<{ entries: Entry[] }>('/v1/audit?tenant=-');
    assert.deepEqual(nodeLevel.body.entries.map((e) => e.action), ['admin.restart']);
  });

  it('is for the admin key only', async () => {
    const r = await acme.get<ErrorReply>('/v1/audit');
    assert.equal(r.status, 403);
    assert.equal((await admin.get<ErrorReply>('/v1/audit?limit=0')).status, 400);
  });
});
