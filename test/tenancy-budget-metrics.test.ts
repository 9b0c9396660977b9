// Isolation tiers (issue 12): a medium tenant's budget, set in the tenants file, shows in
// /metrics, for the admin key only. The tenant's detectors are slowed so one batch spends more
// than the budget's tick, which puts it in debt and holds its next batches back; /metrics must
// say so while it lasts, and say nothing is held once every batch is taken in. An admin change
// of the budget's backlog bound refuses the tenant's next requests past it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashKey } from '../api/index.ts';
import { MEDIUM_BUDGET } from '../actors/tenant/index.ts';
import type { TenantBudgetSettings } from '../api/tenancy/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { ApiClient } from './support/api-client.ts';
import { KEYS, testConfig } from './support/api-node.ts';
import { busyDetectors } from './support/busy-detector.ts';

/** each sample holds the thread this long, as real detection would */
const SAMPLE_MS = 1;
let taken = 0;
const slow = busyDetectors(SAMPLE_MS, () => taken++);

const MED_KEY = 'med-key-1';
const SMALL_KEY = 'small-key-1';
/** 10 ms of processing a 100 ms tick: a 50-sample batch (~50 ms) leaves the tenant ~40 ms in debt, 0.4 s to repay */
const BUDGET = { inFlight: 1, tickMs: 100, share: 0.1 } satisfies TenantBudgetSettings;
const BATCHES = 5;
const BATCH = 50;

describe('isolation: a medium tenant\'s budget in /metrics', function () {
  this.timeout(60_000);
  let node: NodeHandle;

  before(async () => {
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-budget-metrics-')), 'tenants.yaml');
    writeFileSync(file, [
      'tenants:',
      `  - { id: med, tier: medium, rate: unlimited, budget: ${JSON.stringify(BUDGET)}, keys: [{ id: k, sha256: ${hashKey(MED_KEY)} }] }`,
      `  - { id: little, tier: small, rate: unlimited, keys: [{ id: k, sha256: ${hashKey(SMALL_KEY)} }] }`,
      '',
    ].join('\n'));
    c.tenancy = { ...c.tenancy, file };
    // the node's own default stays MEDIUM_BUDGET: what differs comes from the file
    node = await startNode(c, { logger: pino({ level: 'silent' }), detectors: slow });
  });

  after(async () => {
    await node?.stop();
  });

  const post = async (key: string, b: number): Promise<number> => (await send(key, b)).status;
  const send = async (key: string, b: number): Promise<{ status: number; retryAfter: string | null }> => {
    const base = Date.now() - 3_600_000;
    const samples = Array.from({ length: BATCH }, (_, i) => [base + (b * BATCH + i) * 1000, i]);
    const r = await fetch(`${node.url}/v1/metrics`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ series: [{ service: 'web', metric: 'cpu', samples }] }),
    });
    await r.arrayBuffer();
    return { status: r.status, retryAfter: r.headers.get('retry-after') };
  };
  const scrape = async (key?: string): Promise<string> => {
    const r = await fetch(`${node.url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    assert.equal(r.status, 200);
    return r.text();
  };
  const gauge = (text: string, name: string, tenant: string): number | undefined => {
    const m = new RegExp(`^${name}\\{tenant="${tenant}"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('shows the batches a budget holds back and its debt, then nothing held once all are taken in', async () => {
    taken = 0;
    for (let b = 0; b < BATCHES; b++) assert.equal(await post(MED_KEY, b), 202);
    assert.equal(await post(SMALL_KEY, 0), 202);
    let held: { waiting: number; left: number } | undefined;
    const deadline = Date.now() + 20_000;
    while (held === undefined && Date.now() < deadline) {
      const text = await scrape(KEYS.admin);
      const waiting = gauge(text, 'vigil_tenant_budget_waiting_batches', 'med');
      if (waiting !== undefined && waiting > 0) held = { waiting, left: gauge(text, 'vigil_tenant_budget_left_ms', 'med') ?? NaN };
      else await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(held, 'the budget was seen holding batches back');
    assert.ok(held.waiting <= BATCHES - 1, `at most ${BATCHES - 1} held, one inside: ${held.waiting}`);
    assert.ok(held.left <= BUDGET.tickMs * BUDGET.share, `time left within one tick's share: ${held.left}`);

    while (taken < (BATCHES + 1) * BATCH && Date.now() < deadline + 20_000) await new Promise((res) => setTimeout(res, 50));
    assert.equal(taken, (BATCHES + 1) * BATCH, 'every accepted sample reached its detector');
    let text = await scrape(KEYS.admin);
    for (let i = 0; i < 50 && gauge(text, 'vigil_tenant_budget_in_flight_batches', 'med') !== 0; i++) {
      await new Promise((res) => setTimeout(res, 50)); // the last batch's receipt settles after its samples
      text = await scrape(KEYS.admin);
    }
    assert.equal(gauge(text, 'vigil_tenant_budget_waiting_batches', 'med'), 0);
    assert.equal(gauge(text, 'vigil_tenant_budget_in_flight_batches', 'med'), 0);
    assert.equal(gauge(text, 'vigil_tenant_budget_waiting_batches', 'little'), undefined, 'a small tenant has no budget');
  });

  it('takes a budget changed by the admin API: past its new backlog bound the tenant gets 503 with Retry-After, and keeps what was accepted', async () => {
    const admin = new ApiClient(node.url, KEYS.admin);
    const before = await admin.request<{ tenant: { budget?: TenantBudgetSettings } }>('GET', '/v1/admin/tenants/med');
    assert.deepEqual(before.body.tenant.budget, BUDGET);
    const bound = BATCH + 10; // one batch waiting, and the next does not fit
    const put = await admin.request('PUT', '/v1/admin/tenants/med', {
      tier: 'medium', rate: 'unlimited', budget: { ...BUDGET, backlogSamples: bound }, keys: [{ id: 'k', sha256: hashKey(MED_KEY) }],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    taken = 0;
    // at 1 ms a sample the first batch waits 50 ms or more, so some of these find it waiting
    const replies = await Promise.all(Array.from({ length: 6 }, (_, b) => send(MED_KEY, BATCHES + b)));
    const statuses = replies.map((r) => r.status);
    for (const r of replies) if (r.status === 503) assert.match(r.retryAfter ?? '', /^[1-9]\d*$/, 'a 503 says when to retry');
    const accepted = statuses.filter((s) => s === 202).length;
    assert.ok(accepted >= 1, `the first fits: ${statuses.join(',')}`);
    assert.ok(statuses.includes(503), `past ${bound} samples waiting the tenant is refused: ${statuses.join(',')}`);
    assert.ok(statuses.every((s) => s === 202 || s === 503), statuses.join(','));
    assert.ok(bound < MEDIUM_BUDGET.backlogSamples, 'the node\'s default would have taken all six');
    const deadline = Date.now() + 20_000;
    while (taken < accepted * BATCH && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(taken, accepted * BATCH, 'every accepted sample reached its detector, and no refused one');
    assert.equal(await post(SMALL_KEY, 1), 202, 'another tenant is not refused');
  });

  it('meters a running small tenant made medium from its next batch (no respawn)', async () => {
    // little's actors spawned as small in the first test; now it becomes medium with a small budget
    const admin = new ApiClient(node.url, KEYS.admin);
    const put = await admin.request('PUT', '/v1/admin/tenants/little', {
      tier: 'medium', rate: 'unlimited', budget: { inFlight: 4, tickMs: 100, share: 0.1 }, keys: [{ id: 'k', sha256: hashKey(SMALL_KEY) }],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // three batches at 1 ms a sample: 150 ms spent against 10 ms a tick, so 1.4 s in debt if metered
    for (let b = 0; b < 3; b++) assert.equal(await post(SMALL_KEY, 10 + b), 202);
    let lowest = Infinity;
    const until = Date.now() + 10_000;
    while (lowest >= 0 && Date.now() < until) {
      lowest = Math.min(lowest, gauge(await scrape(KEYS.admin), 'vigil_tenant_budget_left_ms', 'little') ?? Infinity);
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(lowest < 0, `little's detectors report their time to its new budget: lowest time left ${lowest} ms`);
  });

  it('keeps the budgets out of the public /metrics and a tenant\'s key', async () => {
    const pub = await scrape();
    assert.doesNotMatch(pub, /vigil_tenant_budget_/);
    const tenant = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${MED_KEY}` } });
    assert.equal(tenant.status, 403, 'a tenant key reads no node metrics');
    assert.doesNotMatch(await tenant.text(), /vigil_tenant_budget_/);
    const admin = await scrape(KEYS.admin);
    assert.match(admin, /^# HELP vigil_tenant_budget_left_ms /m);
  });
});
