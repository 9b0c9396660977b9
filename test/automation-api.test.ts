// Runbooks through a real node's API: admin CRUD (YAML and JSON, errors naming the place,
// the allow-list from the tenants file), a run triggered by an incident reaching a real local
// HTTP server and showing on the API, the WebSocket stream and the audit log, the approval
// gate and cancel, hand-started dry runs, tenant isolation, and runbooks and runs kept across
// a restart.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { DEFAULT_MAX_UNFINISHED_RUNS, UNFINISHED_RETRY_AFTER_S } from '../actors/automation/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { hashKey, type LiveEvent, type RunbookRun } from '../protocols/index.ts';
import type { VigilConfig } from '../cluster/index.ts';
import { ApiClient, eventually } from './support/api-client.ts';
import { SPIKE, thresholdDetectors } from './support/api-detector.ts';
import { KEYS, testConfig } from './support/api-node.ts';

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function receiver(): Promise<{ server: Server; port: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, hits };
}

type Runs = { runs: RunbookRun[] };

/** acme's bound on unfinished runs, from its tenants-file entry (the node's default is DEFAULT_MAX_UNFINISHED_RUNS) */
const ACME_RUNS = 5;

describe('api: runbooks and runbook runs on a real node', function () {
  this.timeout(60_000);
  let hook: Awaited<ReturnType<typeof receiver>>;
  let config: VigilConfig;
  let node: NodeHandle;
  let admin: ApiClient;
  let acme: ApiClient;
  let globex: ApiClient;
  let stream: { ws: WebSocket; events: LiveEvent[] };
  const t = Date.now() - 60_000;
  let hookUrl = '';

  const yaml = (client: ApiClient, method: string, path: string, text: string) => client.request(method, path, text, { 'content-type': 'application/yaml' });
  const spike = async (service: string): Promise<void> => {
    const r = await acme.postMetrics([{ service, metric: 'latency_ms', samples: [[t, 10], [t + 1000, SPIKE]] }]);
    assert.equal(r.status, 202);
  };
  const runOf = (runbook: string, status?: string): Promise<RunbookRun> => eventually(async () => {
    const r = await acme.get<Runs>(`/v1/runbook-runs?runbook=${runbook}`);
    const run = r.body.runs[0];
    return run && (status === undefined || run.status === status) ? run : undefined;
  }, `a run of ${runbook}${status ? ` ${status}` : ''}`, 10_000);

  async function start(): Promise<void> {
    node = await startNode(config, { logger: pino({ level: 'silent' }), detectors: thresholdDetectors });
    admin = new ApiClient(node.url, KEYS.admin);
    acme = new ApiClient(node.url, KEYS.acme);
    globex = new ApiClient(node.url, KEYS.globex);
  }

  before(async () => {
    hook = await receiver();
    hookUrl = `http://127.0.0.1:${hook.port}/hooks`;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-runbooks-'));
    const tenants = join(dir, 'tenants.yaml');
    writeFileSync(tenants, [
      'tenants:',
      `  - { id: acme, keys: [{ id: acme-1, sha256: ${hashKey(KEYS.acme)} }], webhooks: ["${hookUrl}/"], maxUnfinishedRuns: ${ACME_RUNS} }`,
      `  - { id: globex, keys: [{ id: globex-1, sha256: ${hashKey(KEYS.globex)} }] }`,
      '',
    ].join('\n'));
    config = testConfig();
    config.tenants = [];
    config.tenancy.file = tenants;
    await start();
    const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    const events: LiveEvent[] = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d)) as LiveEvent));
    await once(ws, 'open');
    stream = { ws, events };
  });

  after(async () => {
    stream?.ws.close();
    await node?.stop();
    hook?.server.closeAllConnections();
    hook?.server.close();
  });

  it('admin CRUD: YAML or JSON, versions, refusals naming the place, and only the admin key', async () => {
    const text = `name: Diagnose\ntrigger: { services: checkout }\nsteps:\n  - id: diag\n    webhook: { url: "${hookUrl}/diag", body: { incident: "{{incident.id}}" } }\n  - notify: "diagnosed {{incident.id}}"\n`;
    let r = await yaml(admin, 'PUT', '/v1/admin/tenants/acme/runbooks/diag', text);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([(r.body as { version: number }).version, (r.body as { steps: number }).steps], [1, 2]);
    r = await yaml(admin, 'PUT', '/v1/admin/tenants/acme/runbooks/diag', text);
    assert.equal(r.status, 200);
    assert.equal((r.body as { version: number }).version, 2);
    const one = await admin.get<{ source: string; name: string }>('/v1/admin/tenants/acme/runbooks/diag');
    assert.equal(one.body.source, text);
    assert.equal(one.body.name, 'Diagnose');

    const bad = await yaml(admin, 'PUT', '/v1/admin/tenants/acme/runbooks/evil', 'trigger: {}\nsteps:\n  - webhook:\n      url: http://169.254.169.254/latest\n');
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: { message: string } }).error.message,
      /^runbook evil: steps\[0\]\.webhook\.url http:\/\/169\.254\.169\.254 is not among this tenant's allowed webhook destinations .*\(line 4\)$/);
    const wrongId = await admin.request('PUT', '/v1/admin/tenants/acme/runbooks/a', { id: 'b', trigger: {}, steps: [{ wait: '1s' }] });
    assert.equal(wrongId.status, 400);
    assert.match(JSON.stringify(wrongId.body), /id \\"b\\" differs from the runbook in the path/);
    const json = await admin.request('PUT', '/v1/admin/tenants/acme/runbooks/from-json', { trigger: { services: ['nothing-here'] }, steps: [{ wait: '1s' }] });
    assert.equal(json.status, 201, JSON.stringify(json.body));
    assert.equal((await admin.request('DELETE', '/v1/admin/tenants/acme/runbooks/from-json')).status, 200);
    assert.equal((await admin.request('DELETE', '/v1/admin/tenants/acme/runbooks/from-json')).status, 404);

    assert.equal((await yaml(acme, 'PUT', '/v1/admin/tenants/acme/runbooks/diag', text)).status, 403, 'a tenant key cannot change runbooks');
    assert.equal((await yaml(new ApiClient(node.url), 'PUT', '/v1/admin/tenants/acme/runbooks/diag', text)).status, 401);
    assert.equal((await yaml(admin, 'PUT', '/v1/admin/tenants/globex/runbooks/diag', text)).status, 400, 'acme\'s destination is not globex\'s');
    assert.equal((await yaml(admin, 'PUT', '/v1/admin/tenants/initech/runbooks/diag', 'trigger: {}\nsteps: [{ wait: 1s }]\n')).status, 404, 'no such tenant');
    assert.equal((await admin.get('/v1/admin/tenants/initech/runbooks')).status, 404);

    const mine = await acme.get<{ runbooks: Array<{ id: string }> }>('/v1/runbooks');
    assert.deepEqual(mine.body.runbooks.map((x) => x.id), ['diag']);
    assert.deepEqual((await globex.get<{ runbooks: unknown[] }>('/v1/runbooks')).body.runbooks, []);
    const audit = await admin.get<{ entries: Array<{ action: string; target: string }> }>('/v1/audit?tenant=acme');
    const actions = audit.body.entries.map((e) => `${e.action} ${e.target}`);
    for (const a of ['runbook.create diag', 'runbook.update diag', 'runbook.create from-json', 'runbook.delete from-json']) assert.ok(actions.includes(a), a);
  });

  it('an incident starts the runbook: the request reaches the receiver; the run shows on the API, the stream and the audit log', async () => {
    await spike('checkout');
    const run = await runOf('diag', 'succeeded');
    const hit = hook.hits.find((h) => h.url === '/hooks/diag');
    assert.ok(hit, 'the receiver got the request');
    assert.deepEqual(JSON.parse(hit.body), { incident: run.incidentId });
    assert.equal(hit.headers['idempotency-key'], `${run.id}.0`);
    assert.deepEqual(run.steps.map((s) => s.status), ['succeeded', 'succeeded']);
    assert.equal(run.steps[1]!.message, `diagnosed ${run.incidentId}`);
    assert.equal((await acme.get<RunbookRun>(`/v1/runbook-runs/${run.id}`)).body.id, run.id);
    assert.equal((await globex.get(`/v1/runbook-runs/${run.id}`)).status, 404, 'another tenant\'s run is not found');
    assert.deepEqual((await globex.get<Runs>('/v1/runbook-runs')).body.runs, []);
    assert.equal((await acme.get<Runs>(`/v1/runbook-runs?incident=${run.incidentId}`)).body.runs.length, 1);
    assert.equal((await acme.get('/v1/runbook-runs?status=bogus')).status, 400);

    await eventually(async () => (stream.events.some((e) => e.type === 'runbook_run' && e.data.id === run.id && e.data.status === 'succeeded') ? true : undefined), 'the run on the stream');
    const audit = await eventually(async () => {
      const r = await admin.get<{ entries: Array<{ action: string; target: string; actor: string }> }>('/v1/audit?tenant=acme');
      const mine = r.body.entries.filter((e) => e.target === run.id);
      return mine.some((e) => e.action === 'runbook_run.end') ? mine : undefined;
    }, 'the run in the audit log');
    assert.deepEqual(audit.map((e) => e.action).reverse(), ['runbook_run.start', 'runbook_run.step', 'runbook_run.step', 'runbook_run.end']);
    assert.ok(audit.every((e) => e.actor === 'automation'));

    const status = await acme.get<{ level: number; runbooks: string; breakers: Record<string, string>; queued: number }>('/v1/automation');
    assert.deepEqual(status.body, { level: 0, runbooks: 'automatic', breakers: { [`http://127.0.0.1:${hook.port}`]: 'closed' }, queued: 0, count: 1 });
  });

  it('a destructive step waits for the tenant\'s approve; cancel and dry runs by hand', async () => {
    const text = `trigger: { services: payments }\nsteps:\n  - restart: { url: "${hookUrl}/restart", service: payments }\n`;
    assert.equal((await yaml(admin, 'PUT', '/v1/admin/tenants/acme/runbooks/restart', text)).status, 201);
    await spike('payments');
    const waiting = await runOf('restart', 'awaiting_approval');
    assert.ok(!hook.hits.some((h) => h.url === '/hooks/restart'), 'nothing sent before the approve');
    assert.equal((await globex.request('POST', `/v1/runbook-runs/${waiting.id}/approve`)).status, 404);
    const approved = await acme.request<RunbookRun>('POST', `/v1/runbook-runs/${waiting.id}/approve`);
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.match(approved.body.steps[0]!.approvedBy!, /^key:[0-9a-f]{12}$/);
    await runOf('restart', 'succeeded');
    const sent = hook.hits.find((h) => h.url === '/hooks/restart')!;
    assert.deepEqual(JSON.parse(sent.body), { action: 'restart', service: 'payments', incident: waiting.incidentId, run: waiting.id });
    const again = await acme.request<{ error: { code: string } }>('POST', `/v1/runbook-runs/${waiting.id}/approve`);
    assert.deepEqual([again.status, again.body.error.code], [409, 'CONFLICT']);

    const dry = await acme.request<RunbookRun>('POST', '/v1/runbook-runs', { runbook: 'restart', incident: waiting.incidentId, dryRun: true });
    assert.equal(dry.status, 201, JSON.stringify(dry.body));
    assert.deepEqual([dry.body.status, dry.body.dryRun, dry.body.steps[0]!.status], ['succeeded', true, 'dry_run']);
    const byHand = await acme.request<RunbookRun>('POST', '/v1/runbook-runs', { runbook: 'restart', incident: waiting.incidentId });
    assert.equal(byHand.body.status, 'awaiting_approval');
    const cancelled = await acme.request<RunbookRun>('POST', `/v1/runbook-runs/${byHand.body.id}/cancel`);
    assert.deepEqual([cancelled.status, cancelled.body.status], [200, 'cancelled']);
    assert.equal(hook.hits.filter((h) => h.url === '/hooks/restart').length, 1, 'the dry run and the cancelled run sent nothing');
    assert.equal((await acme.request('POST', '/v1/runbook-runs', { runbook: 'nope', incident: waiting.incidentId })).status, 404);
    assert.equal((await acme.request('POST', '/v1/runbook-runs', { runbook: 'restart' })).status, 400);
    assert.equal((await globex.request('POST', '/v1/runbook-runs', { runbook: 'restart', incident: waiting.incidentId })).status, 404, 'not globex\'s runbook');
  });

  it('runbooks and runs are kept across a restart', async () => {
    const before = (await acme.get<Runs>('/v1/runbook-runs')).body.runs.map((r) => `${r.id}:${r.status}`).sort();
    assert.ok(before.length >= 4);
    stream.ws.close();
    await node.stop();
    await start();
    stream.ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}/v1/stream`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    assert.deepEqual((await admin.get<{ runbooks: Array<{ id: string; version: number }> }>('/v1/admin/tenants/acme/runbooks')).body.runbooks.map((r) => [r.id, r.version]),
      [['diag', 2], ['restart', 1]]);
    const after = await eventually(async () => {
      const runs = (await acme.get<Runs>('/v1/runbook-runs')).body.runs.map((r) => `${r.id}:${r.status}`).sort();
      return runs.length === before.length ? runs : undefined;
    }, 'the runs after the restart');
    assert.deepEqual(after, before);
  });

  it('a tenant\'s unfinished runs are bounded by its tenants-file entry: the start beyond gets 429 with Retry-After and why; a cancel makes room', async () => {
    assert.ok(ACME_RUNS < DEFAULT_MAX_UNFINISHED_RUNS, 'the file\'s bound, not the default, is what is tested');
    const text = `trigger: { services: inventory }\nsteps:\n  - restart: { url: "${hookUrl}/hold", service: inventory }\n`;
    assert.equal((await yaml(admin, 'PUT', '/v1/admin/tenants/acme/runbooks/hold', text)).status, 201);
    await spike('inventory');
    const first = await runOf('hold', 'awaiting_approval');
    const unfinished = async (): Promise<RunbookRun[]> => (await acme.get<Runs>('/v1/runbook-runs?limit=1000')).body.runs
      .filter((r) => !['succeeded', 'failed', 'cancelled'].includes(r.status));
    let refused: Awaited<ReturnType<ApiClient['request']>> | undefined;
    for (let i = 0; i <= ACME_RUNS && refused === undefined; i++) {
      const r = await acme.request('POST', '/v1/runbook-runs', { runbook: 'hold', incident: first.incidentId });
      if (r.status !== 201) refused = r;
    }
    assert.ok(refused, `no start was refused after ${ACME_RUNS + 1}`);
    const body = refused.body as { error: { code: string; message: string } };
    assert.equal(refused.status, 429, JSON.stringify(body));
    assert.equal(body.error.code, 'QUOTA_EXCEEDED');
    assert.match(body.error.message, new RegExp(`tenant acme has ${ACME_RUNS} unfinished runbook runs`));
    assert.equal(refused.headers.get('retry-after'), String(UNFINISHED_RETRY_AFTER_S));
    const open = await unfinished();
    assert.equal(open.length, ACME_RUNS, 'the refused start left nothing behind');
    assert.equal((await globex.get<Runs>('/v1/runbook-runs')).body.runs.length, 0);

    const cancelled = await acme.request('POST', `/v1/runbook-runs/${open[0]!.id}/cancel`);
    assert.equal(cancelled.status, 200);
    const again = await eventually(async () => {
      const r = await acme.request<RunbookRun>('POST', '/v1/runbook-runs', { runbook: 'hold', incident: first.incidentId });
      return r.status === 201 ? r : undefined;
    }, 'a start once a place is free', 10_000);
    assert.equal(again.body.status, 'awaiting_approval');
    for (const r of await unfinished()) await acme.request('POST', `/v1/runbook-runs/${r.id}/cancel`);
    assert.equal((await unfinished()).length, 0);
    assert.ok(!hook.hits.some((h) => h.url === '/hooks/hold'), 'nothing sent: every run waited for an approve');
    assert.equal((await admin.request('DELETE', '/v1/admin/tenants/acme/runbooks/hold')).status, 200);
  });
});
