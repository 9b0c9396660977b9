// The incident lifecycle: open → acknowledged → resolved; auto-resolve when all its alerts
// clear; reopen when one of its alerts fires again; an operator's resolve is not undone by
// the redeliveries of alerts still firing.
import { strict as assert } from 'node:assert';
import { TenantCorrelation } from '../actors/correlation/index.ts';
import type { Incident } from '../protocols/index.ts';
import { amAlert, anomaly, incidents, SETTINGS } from './support/correlation-fixtures.ts';

const REOPEN = 600_000;
const S = { ...SETTINGS, reopenMs: REOPEN };

describe('correlation: incident lifecycle', () => {
  it('open → acknowledged → resolved, each with its time', () => {
    const c = new TenantCorrelation('acme', S);
    const inc = incidents(c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 900_000 })], 1_000).effects)[0]!;
    assert.equal(inc.status, 'open');
    const acked = c.setStatus(inc.id, 'acknowledged', 2_000)!;
    assert.deepEqual([acked.status, acked.acknowledgedAt], ['acknowledged', 2_000]);
    const resolved = c.setStatus(inc.id, 'resolved', 3_000)!;
    assert.deepEqual([resolved.status, resolved.resolvedAt], ['resolved', 3_000]);
    assert.equal(c.activeCount(), 0);
    assert.equal(c.setStatus(inc.id, 'acknowledged', 4_000), undefined, 'no longer active here');
  });

  it('resolves by itself when all of its alerts have cleared, not before (acknowledged or not)', () => {
    const c = new TenantCorrelation('acme', S);
    const a = amAlert('db', 'Slow', 1_000, { endsAt: 900_000 });
    const b = amAlert('api', 'Errors', 2_000, { endsAt: 900_000 });
    const id = incidents(c.onAlerts([a, b], 2_000).effects)[0]!.id;
    c.setStatus(id, 'acknowledged', 3_000);
    // Prometheus sends a resolved alert with endsAt in the past
    assert.deepEqual(incidents(c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 9_000, now: 10_000 })], 10_000).effects), []);
    assert.equal(c.activeCount(), 1);
    const last = incidents(c.onAlerts([amAlert('api', 'Errors', 2_000, { endsAt: 11_000, now: 12_000 })], 12_000).effects);
    assert.deepEqual(last.map((i) => [i.id, i.status, i.resolvedAt]), [[id, 'resolved', 12_000]]);
  });

  it('reopens when one of its alerts fires again within reopenMs; a new incident after that', () => {
    const c = new TenantCorrelation('acme', S);
    const id = incidents(c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 50_000 })], 1_000).effects)[0]!.id;
    assert.equal(incidents(c.tick(50_000))[0]!.status, 'resolved');
    const again = incidents(c.onAlerts([amAlert('db', 'Slow', 100_000, { endsAt: 150_000 })], 100_000).effects);
    assert.equal(again.length, 1);
    assert.equal(again[0]!.id, id, 'the same incident');
    assert.equal(again[0]!.status, 'open');
    assert.equal(again[0]!.resolvedAt, undefined);
    assert.equal(again[0]!.alertIds.length, 2, 'the new firing is a new alert of it');
    assert.equal(c.activeCount(), 1);
    assert.equal(incidents(c.tick(150_000))[0]!.status, 'resolved');
    c.tick(150_000 + REOPEN); // past the reopen window, it is forgotten
    const fresh = incidents(c.onAlerts([amAlert('db', 'Slow', 150_000 + REOPEN + 1)], 150_000 + REOPEN + 1).effects);
    assert.equal(fresh.length, 1);
    assert.notEqual(fresh[0]!.id, id, 'a new incident once the window has passed');
    assert.equal(fresh[0]!.status, 'open');
  });

  it('an operator\'s resolve holds while its alerts keep being delivered; a new firing reopens it', () => {
    const c = new TenantCorrelation('acme', S);
    const a = amAlert('db', 'Slow', 1_000, { endsAt: 60_000 });
    const id = incidents(c.onAlerts([a], 1_000).effects)[0]!.id;
    c.setStatus(id, 'resolved', 5_000);
    assert.deepEqual(incidents(c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 120_000, now: 30_000 })], 30_000).effects), [], 'the same firing, redelivered');
    assert.equal(c.activeCount(), 0);
    assert.equal(c.alertViews(30_000)[0]!.incidentId, undefined);
    c.tick(120_000); // it ends at the source
    const reopened = incidents(c.onAlerts([amAlert('db', 'Slow', 200_000)], 200_000).effects);
    assert.deepEqual(reopened.map((i) => [i.id, i.status]), [[id, 'open']]);
  });

  it('an incident taken over from the store, whose alerts never come again, resolves after autoResolveMs', () => {
    const c = new TenantCorrelation('acme', S);
    const inc = incidents(c.onAlerts([amAlert('db', 'Slow', 1_000)], 1_000).effects)[0]!;
    const restarted = new TenantCorrelation('acme', S, [inc]);
    assert.equal(incidents(restarted.tick(1_000 + SETTINGS.autoResolveMs - 1)).length, 0);
    const done = incidents(restarted.tick(1_000 + SETTINGS.autoResolveMs));
    assert.deepEqual(done.map((i) => [i.id, i.status]), [[inc.id, 'resolved']]);
  });

  // test/node-durability.test.ts in pure form: data timestamped days ago (a backfill), acked,
  // two restarts, and an anomaly of the same series sent between them. Alerts and restored
  // incidents end by the node's clock, so nothing resolves (or reopens) it before autoResolveMs
  // of node time has passed without news.
  it('an acknowledged incident of backfilled data stays acknowledged across restarts and a later anomaly of its series', () => {
    const node0 = 10 * 86_400_000;
    const data0 = node0 - 3 * 86_400_000;
    const states: Incident[] = [];
    const c = new TenantCorrelation('acme', S);
    const inc = incidents(c.onAnomalies([anomaly('db', data0)], node0).effects)[0]!;
    let last = c.setStatus(inc.id, 'acknowledged', node0 + 1_000)!;
    const seen = (effects: Parameters<typeof incidents>[0]): void => {
      for (const i of incidents(effects)) if (i.id === inc.id) states.push((last = i));
    };
    const t1 = node0 + 5_000; // restart after kill -9: the stored state is taken over
    const r1 = new TenantCorrelation('acme', S, [last], { now: t1 });
    seen(r1.onAnomalies([anomaly('db', data0 + 3_600_000)], t1 + 1_000).effects);
    for (const at of [t1 + 2_000, t1 + 60_000]) seen(r1.tick(at));
    const t2 = t1 + 90_000; // restart after SIGTERM
    const r2 = new TenantCorrelation('acme', S, [last], { now: t2 });
    for (const at of [t2 + 1_000, t2 + S.autoResolveMs - 1]) seen(r2.tick(at));
    assert.deepEqual([...new Set(states.map((i) => i.status))].filter((x) => x !== 'acknowledged'), [], 'never resolved or reopened');
    assert.equal(last.status, 'acknowledged');
    assert.deepEqual(incidents(r2.tick(t2 + S.autoResolveMs)).map((i) => [i.id, i.status]), [[inc.id, 'resolved']], 'then, without news, it resolves');
  });
});
