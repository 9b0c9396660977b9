// Grouping: by topology (services within k hops, close in time), by labels (groupBy), by time
// where the topology does not know a service; time only at L2; none (pass-through) at L3.
import { strict as assert } from 'node:assert';
import { TenantCorrelation, TopologyIndex } from '../actors/correlation/index.ts';
import type { Level } from '../supervisors/index.ts';
import { amAlert, incidents, lastStates, notices, SETTINGS, topologyOf } from './support/correlation-fixtures.ts';

// web → api → orders → db → disk (each depends on the next); and apart: mail → smtp
const SHOP = topologyOf([['web', 'api'], ['api', 'orders'], ['orders', 'db'], ['db', 'disk'], ['mail', 'smtp']]);

function correlator(extra: Partial<typeof SETTINGS & { groupBy: string[]; hops: number }> = {}, level: () => Level = () => 0): TenantCorrelation {
  return new TenantCorrelation('acme', { ...SETTINGS, ...extra }, [], { topology: new TopologyIndex(SHOP), level });
}

function incidentOf(c: TenantCorrelation, now: number, fp: string): string | undefined {
  return c.alertViews(now).find((v) => v.fingerprint === fp)?.incidentId;
}

describe('correlation: grouping', () => {
  it('the topology index walks both ways, k hops, itself included; an unknown service is near nothing', () => {
    const t = new TopologyIndex(SHOP);
    assert.deepEqual([...t.near('orders', 1)].sort(), ['api', 'db', 'orders']);
    assert.deepEqual([...t.near('orders', 2)].sort(), ['api', 'db', 'disk', 'orders', 'web']);
    assert.deepEqual([...t.near('mail', 5)].sort(), ['mail', 'smtp']);
    assert.equal(t.has('nowhere'), false);
    assert.equal(t.near('nowhere', 2).size, 0);
  });

  it('alerts on services within k hops, close in time, join one incident; an unrelated service opens its own', () => {
    const c = correlator();
    const db = amAlert('db', 'Slow', 1_000);
    const api = amAlert('api', 'Errors', 5_000); // 2 hops from db
    const mail = amAlert('mail', 'Queue', 6_000); // not connected
    c.onAlerts([db], 1_000);
    c.onAlerts([api], 5_000);
    c.onAlerts([mail], 6_000);
    assert.equal(c.activeCount(), 2);
    assert.equal(incidentOf(c, 6_000, db.fingerprint), incidentOf(c, 6_000, api.fingerprint));
    assert.notEqual(incidentOf(c, 6_000, db.fingerprint), incidentOf(c, 6_000, mail.fingerprint));
  });

  it('a service farther than k hops from every service of the incident opens another one', () => {
    const c = correlator({ hops: 1 });
    c.onAlerts([amAlert('disk', 'Full', 1_000)], 1_000);
    c.onAlerts([amAlert('api', 'Errors', 2_000)], 2_000); // 3 hops from disk
    assert.equal(c.activeCount(), 2);
  });

  it('a fault spreading hop by hop keeps one incident, though its ends are farther apart than k', () => {
    const c = correlator({ hops: 1 });
    let t = 1_000;
    for (const s of ['disk', 'db', 'orders', 'api', 'web']) c.onAlerts([amAlert(s, 'Bad', t)], (t += 5_000));
    assert.equal(c.activeCount(), 1);
    const [inc] = [...lastStates(c.tick(t)).values()];
    assert.equal(inc, undefined, 'nothing changed at the tick');
    const views = c.alertViews(t);
    assert.equal(new Set(views.map((v) => v.incidentId)).size, 1);
    assert.equal(views.length, 5);
  });

  it('related services far apart in time open separate incidents', () => {
    const c = correlator();
    c.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 10_000 })], 1_000);
    assert.equal(incidents(c.tick(10_000))[0]?.status, 'resolved');
    c.onAlerts([amAlert('orders', 'Slow', 200_000)], 200_000);
    assert.equal(c.activeCount(), 1, 'the first resolved (its alert ended) and the second is its own');
    const c2 = correlator();
    c2.onAlerts([amAlert('db', 'Slow', 1_000, { endsAt: 1_000_000 })], 1_000);
    c2.onAlerts([amAlert('orders', 'Slow', 200_000)], 200_000);
    assert.equal(c2.activeCount(), 2, 'still firing, but 199 s after the incident\'s last activity');
  });

  it('a service the topology does not know joins by time; without any topology, everything close in time is one incident', () => {
    const c = correlator();
    c.onAlerts([amAlert('db', 'Slow', 1_000)], 1_000);
    c.onAlerts([amAlert('billing', 'Slow', 2_000)], 2_000); // not in the topology
    assert.equal(c.activeCount(), 1);
    c.onAlerts([amAlert('mail', 'Queue', 2_500)], 2_500); // known, and related to nothing in it: not through billing
    assert.equal(c.activeCount(), 2);
    const bare = new TenantCorrelation('acme', SETTINGS);
    for (const [i, s] of ['db', 'mail', 'web'].entries()) bare.onAlerts([amAlert(s, 'Slow', 1_000 + i)], 1_000 + i);
    assert.equal(bare.activeCount(), 1);
  });

  it('label grouping: equal groupBy values join across the topology; others stay apart', () => {
    const c = correlator({ groupBy: ['cluster'], hops: 0 }); // hops 0: topology relates a service only to itself
    c.onAlerts([amAlert('db', 'Slow', 1_000, { labels: { cluster: 'eu' } })], 1_000);
    c.onAlerts([amAlert('mail', 'Queue', 2_000, { labels: { cluster: 'eu' } })], 2_000); // unrelated by topology, same cluster
    c.onAlerts([amAlert('smtp', 'Down', 3_000, { labels: { cluster: 'us' } })], 3_000);
    assert.equal(c.activeCount(), 2);
    const views = c.alertViews(3_000);
    const byService = new Map(views.map((v) => [v.service, v.incidentId]));
    assert.equal(byService.get('db'), byService.get('mail'));
    assert.notEqual(byService.get('db'), byService.get('smtp'));
  });

  it('at L2 grouping is by time only; the level is read at each decision', () => {
    let level: Level = 2;
    const c = correlator({}, () => level);
    c.onAlerts([amAlert('db', 'Slow', 1_000)], 1_000);
    c.onAlerts([amAlert('mail', 'Queue', 2_000)], 2_000);
    assert.equal(c.activeCount(), 1, 'unrelated services, close in time: one incident at L2');
    level = 0;
    c.onAlerts([amAlert('smtp', 'Down', 3_000)], 3_000);
    // smtp is next to mail, which is in the incident: it joins by topology at L0 too
    c.onAlerts([amAlert('billing-x', 'Down', 3_500)], 3_500);
    assert.equal(c.activeCount(), 1);
    const d = correlator({}, () => 0);
    d.onAlerts([amAlert('db', 'Slow', 1_000)], 1_000);
    d.onAlerts([amAlert('mail', 'Queue', 2_000)], 2_000);
    assert.equal(d.activeCount(), 2, 'the same alerts at L0: two incidents');
  });

  it('at L3 nothing is correlated: each alert is its own incident, told at once; duplicates still count once', () => {
    const c = correlator({}, () => 3);
    const db = amAlert('db', 'Slow', 1_000);
    const first = c.onAlerts([db], 1_000).effects;
    assert.equal(incidents(first).length, 1);
    assert.deepEqual(notices(first).map((n) => n.reason), ['opened'], 'no group_wait at pass-through');
    const second = c.onAlerts([amAlert('orders', 'Slow', 1_500), db], 1_500).effects;
    assert.equal(incidents(second).length, 1, 'orders alone: db was a duplicate');
    assert.equal(c.activeCount(), 2);
  });
});
