// Isolation tiers (issue 12): a medium tenant's budget (actors/tenant/budget.ts), the pure
// rule and on a node. On the node every detector is slowed and records the order in which
// samples reach it; tenant `noisy` floods, tenant `quiet` sends one sample at a time. The
// figure is a count, not a speed: how many of noisy's samples the detectors took between
// quiet's 202 and quiet's sample. Without a budget quiet's batch waits behind all of noisy's
// queue (the shared mailbox is first in first out); with one, behind a few batches.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashKey } from '../api/index.ts';
import { MEDIUM_BUDGET, TenantBudget, type BudgetLimits } from '../actors/tenant/index.ts';
import { startNode, type NodeHandle } from '../node/index.ts';
import { testConfig } from './support/api-node.ts';
import { busyDetectors } from './support/busy-detector.ts';

describe('isolation: the budget rule (pure)', () => {
  const limits: BudgetLimits = { inFlight: 2, tickMs: 100, share: 0.5, backlogSamples: 1_000 };

  it('lets at most inFlight batches inside, in order, and the next as one is taken in', () => {
    const b = new TenantBudget<number>(limits, 0);
    assert.deepEqual(b.offer(1, 0), [1]);
    assert.deepEqual(b.offer(2, 0), [2]);
    assert.deepEqual(b.offer(3, 0), []);
    assert.deepEqual(b.offer(4, 0), []);
    assert.equal(b.waiting, 2);
    assert.deepEqual(b.done(1), [3]);
    assert.deepEqual(b.done(1), [4]);
    assert.equal(b.inFlight, 2);
    assert.equal(b.waiting, 0);
  });

  it('holds batches once the tick\'s processing time is spent and says when they may go', () => {
    const b = new TenantBudget<string>(limits, 0);
    assert.deepEqual(b.offer('a', 0), ['a']);
    b.spent(80, 10); // 50 ms allowed per 100 ms tick: 30 ms in debt
    assert.deepEqual(b.done(10), []);
    assert.deepEqual(b.offer('b', 10), [], 'in debt: held although nothing is inside');
    const at = b.resumeAt(10)!;
    assert.ok(at > 10 && at <= 10 + 30 / 0.5 + 2, `resumes at ${at}`);
    assert.deepEqual(b.release(at - 2), [], 'not before the debt is paid');
    assert.deepEqual(b.release(at), ['b']);
  });

  it('refills to one tick\'s worth at most: an idle tenant does not save up a burst', () => {
    const b = new TenantBudget<number>(limits, 0);
    b.spent(10, 0);
    b.release(60_000);
    assert.equal(b.left, 50);
  });

  it('has nothing to wait for when nothing is held or the mailbox budget holds it', () => {
    const b = new TenantBudget<number>({ ...limits, inFlight: 1 }, 0);
    assert.equal(b.resumeAt(0), undefined);
    b.offer(1, 0);
    b.offer(2, 0);
    b.spent(500, 0);
    assert.equal(b.resumeAt(0), undefined, 'a batch taken in releases the next, not a timer');
    b.done(0);
    assert.ok(b.resumeAt(0)! > 0);
  });
});

/** Every detector costs SLOW_US a sample and records the value it is given, in order. */
const SLOW_US = 100;
let taken: number[] = [];
const recording = busyDetectors(SLOW_US / 1000, (v) => taken.push(v));

const NOISY_KEY = 'noisy-key-1';
const QUIET_KEY = 'quiet-key-1';
const CLIENTS = 10;
const BATCHES_PER_CLIENT = 15;
const BATCH = 100;
const QUIET_BATCHES = 30;
const BUDGET: BudgetLimits = { ...MEDIUM_BUDGET, backlogSamples: 30 * BATCH };

interface Run {
  /** per quiet batch: noisy samples taken between its 202 and its sample */
  lags: number[];
  refused: number;
  retryAfter: Set<string>;
  noisyAcked: number[];
  quietAcked: number[];
}

async function flood(noisyTier: 'medium' | 'small'): Promise<Run> {
  taken = [];
  const c = testConfig();
  const file = join(mkdtempSync(join(tmpdir(), 'vigil-isolation-')), 'tenants.yaml');
  writeFileSync(file, [
    'tenants:',
    `  - { id: noisy, tier: ${noisyTier}, rate: unlimited, keys: [{ id: k, sha256: ${hashKey(NOISY_KEY)} }] }`,
    `  - { id: quiet, tier: small, rate: unlimited, keys: [{ id: k, sha256: ${hashKey(QUIET_KEY)} }] }`,
    '',
  ].join('\n'));
  c.tenancy = { ...c.tenancy, file };
  c.http.bodyLimitBytes = 1024 * 1024;
  const node: NodeHandle = await startNode(c, { logger: pino({ level: 'silent' }), detectors: recording, mediumBudget: BUDGET });
  const run: Run = { lags: [], refused: 0, retryAfter: new Set(), noisyAcked: [], quietAcked: [] };
  const base = Date.now() - 3_600_000;
  const noisyTaken = (): number => taken.reduce((n, v) => n + (v >= 0 ? 1 : 0), 0);
  let noisyCount = 0; // kept up to date cheaply: taken only grows
  let scanned = 0;
  const countNoisy = (): number => {
    for (; scanned < taken.length; scanned++) if (taken[scanned]! >= 0) noisyCount++;
    return noisyCount;
  };
  const post = (key: string, body: unknown): Promise<Response> => fetch(`${node.url}/v1/metrics`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  try {
    const noisy = async (client: number): Promise<void> => {
      for (let b = 0; b < BATCHES_PER_CLIENT; b++) {
        // values: client, batch, sample, all >= 0 and distinct
        const values = Array.from({ length: BATCH }, (_, i) => (client * BATCHES_PER_CLIENT + b) * BATCH + i);
        const body = { series: [{ service: 'web', metric: `m${client}`, samples: values.map((v, i) => [base + (b * BATCH + i) * 1000, v]) }] };
        for (;;) {
          const r = await post(NOISY_KEY, body);
          await r.arrayBuffer();
          if (r.status === 202) break;
          assert.equal(r.status, 503, `noisy got ${r.status}`);
          run.refused++;
          run.retryAfter.add(r.headers.get('retry-after') ?? '');
          await new Promise((res) => setTimeout(res, 50)); // sooner than Retry-After: keeps the test short, and the pressure on
        }
        run.noisyAcked.push(...values);
      }
    };
    const quiet = async (): Promise<void> => {
      const waits: Array<Promise<void>> = [];
      for (let q = 0; q < QUIET_BATCHES; q++) {
        const value = -(q + 1);
        const r = await post(QUIET_KEY, { series: [{ service: 'api', metric: 'q', samples: [[base + q * 1000, value]] }] });
        await r.arrayBuffer();
        assert.equal(r.status, 202, 'quiet is never pushed back');
        run.quietAcked.push(value);
        const at = countNoisy();
        waits.push((async () => {
          while (!taken.includes(value)) await new Promise((res) => setTimeout(res, 2));
          // noisy samples taken before quiet's, after its 202
          const upTo = taken.indexOf(value);
          let n = 0;
          for (let i = 0; i < upTo; i++) if (taken[i]! >= 0) n++;
          run.lags[q] = Math.max(0, n - at);
        })());
        await new Promise((res) => setTimeout(res, 40));
      }
      await Promise.all(waits);
    };
    // noisy starts first so its queue is there when quiet begins
    const floods = Array.from({ length: CLIENTS }, (_, i) => noisy(i));
    await new Promise((res) => setTimeout(res, 300));
    await Promise.all([...floods, quiet()]);
    // nothing acknowledged is lost: every acked sample reaches its detector, once
    const deadline = Date.now() + 120_000;
    while (noisyTaken() < run.noisyAcked.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    return run;
  } finally {
    const seen = new Map<number, number>();
    for (const v of taken) seen.set(v, (seen.get(v) ?? 0) + 1);
    await node.stop();
    (run as Run & { seen?: Map<number, number> }).seen = seen;
  }
}

describe('isolation: a medium tenant floods, a small one keeps its place', function () {
  this.timeout(240_000);
  // noisy's batches a quiet batch may wait behind with the budget: those inside (inFlight),
  // those released while quiet's moves through its hops, and one or two taken while its
  // shard reader wakes up; without the budget it waits behind noisy's whole queue
  const BOUND = (2 * BUDGET.inFlight + 4) * BATCH;
  let budgeted: Run;
  let shared: Run;

  before(async () => {
    budgeted = await flood('medium');
    shared = await flood('small');
  });

  it('keeps quiet\'s lag bounded while noisy floods as a medium tenant, and pushes noisy back with Retry-After', () => {
    const worst = Math.max(...budgeted.lags);
    const meanLag = budgeted.lags.reduce((a, b) => a + b, 0) / budgeted.lags.length;
    console.log(`      medium: quiet's lag in noisy samples taken first: max ${worst}, mean ${meanLag.toFixed(0)} (bound ${BOUND}); noisy refused ${budgeted.refused}x`);
    assert.equal(budgeted.lags.length, QUIET_BATCHES);
    assert.ok(worst <= BOUND, `quiet waited behind ${worst} noisy samples (bound ${BOUND}): ${budgeted.lags.join(',')}`);
    assert.ok(budgeted.refused > 0, 'noisy met its backlog bound');
    for (const r of budgeted.retryAfter) assert.ok(Number(r) >= 1, `Retry-After ${r}`);
  });

  it('without the budget (noisy small) quiet waits behind noisy\'s queue: the measure can fail', () => {
    const worst = Math.max(...shared.lags);
    console.log(`      small:  quiet's lag in noisy samples taken first: max ${worst}, mean ${(shared.lags.reduce((a, b) => a + b, 0) / shared.lags.length).toFixed(0)}; noisy refused ${shared.refused}x`);
    assert.ok(worst > BOUND, `the shared mailbox kept quiet's lag at ${worst}: the flood did not queue`);
  });

  it('loses nothing acknowledged and takes nothing twice', () => {
    for (const run of [budgeted, shared]) {
      const seen = (run as Run & { seen: Map<number, number> }).seen;
      assert.equal(run.noisyAcked.length, CLIENTS * BATCHES_PER_CLIENT * BATCH);
      for (const v of [...run.noisyAcked, ...run.quietAcked]) assert.equal(seen.get(v), 1, `sample ${v} taken ${seen.get(v) ?? 0} times`);
    }
  });
});
