// Deduplication by fingerprint: alerts are delivered at least once, and a duplicate must
// never make a second alert or incident, whichever way it comes and whenever.
import { strict as assert } from 'node:assert';
import { labelsFingerprint, TenantCorrelation } from '../actors/correlation/index.ts';
import { amAlert, anomaly, incidents, SETTINGS } from './support/correlation-fixtures.ts';

describe('correlation: deduplication by fingerprint', () => {
  it('an Alertmanager alert delivered three times is one alert in one incident; the copies change nothing', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    const a = amAlert('db', 'HighLatency', 1_000, { endsAt: 181_000 });
    const first = c.onAlerts([a], 1_000).effects;
    assert.equal(incidents(first).length, 1);
    assert.deepEqual(c.onAlerts([a], 2_000).effects, []);
    assert.deepEqual(c.onAlerts([a, a], 3_000).effects, []);
    assert.equal(c.activeCount(), 1);
    const views = c.alertViews(3_000);
    assert.equal(views.length, 1);
    assert.equal(views[0]!.incidentId, incidents(first)[0]!.id);
    assert.deepEqual(incidents(first)[0]!.alertIds, [views[0]!.id]);
  });

  it('the fingerprint is the label set, whatever the key order', () => {
    assert.equal(labelsFingerprint({ a: '1', b: '2' }), labelsFingerprint({ b: '2', a: '1' }));
    assert.notEqual(labelsFingerprint({ a: '1', b: '2' }), labelsFingerprint({ a: '1', b: '3' }));
    const c = new TenantCorrelation('acme', SETTINGS);
    c.onAlerts([amAlert('db', 'X', 1_000, { labels: { zone: 'a', pod: 'p1' } })], 1_000);
    assert.deepEqual(c.onAlerts([amAlert('db', 'X', 1_000, { labels: { pod: 'p1', zone: 'a' } })], 1_500).effects, []);
    assert.equal(c.alertViews(1_500).length, 1);
  });

  it('a redelivery with a later end keeps the alert firing past the first end', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    c.onAlerts([amAlert('db', 'X', 1_000, { endsAt: 60_000 })], 1_000);
    assert.deepEqual(incidents(c.onAlerts([amAlert('db', 'X', 1_000, { endsAt: 120_000, now: 50_000 })], 50_000).effects), []);
    assert.equal(incidents(c.tick(90_000)).length, 0, 'still firing at 90 s');
    assert.equal(c.alertViews(90_000).length, 1);
    const ended = incidents(c.tick(120_000));
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.status, 'resolved');
  });

  it('within one batch, copies of an alert count once', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    const a = amAlert('db', 'X', 1_000);
    const b = amAlert('api', 'Y', 1_000);
    const r = c.onAlerts([a, a, b, a, b], 1_000);
    assert.equal(incidents(r.effects).length, 1, 'one incident state out per call');
    assert.equal(incidents(r.effects)[0]!.alertIds.length, 2);
    assert.equal(c.alertViews(1_000).length, 2);
  });

  it('an anomaly delivered twice raises one alert; more anomalies of its series refresh it', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    const first = c.onAnomaly(anomaly('db', 5_000));
    assert.deepEqual(first.map((e) => e.type), ['alert', 'incident']);
    assert.deepEqual(c.onAnomaly(anomaly('db', 5_000)), []);
    assert.deepEqual(c.onAnomaly(anomaly('db', 15_000)), [], 'same series, same alert');
    assert.equal(c.alertViews(15_000).length, 1);
    assert.equal(c.alertViews(15_000)[0]!.endsAt, 15_000 + SETTINGS.autoResolveMs, 'the newer anomaly moved its end');
  });

  it('after a restart, a redelivered alert goes back to the incident the store lists it under, quietly', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    const a = amAlert('db', 'X', 1_000, { endsAt: 200_000 });
    const inc = incidents(c.onAlerts([a], 1_000).effects)[0]!;
    const again = new TenantCorrelation('acme', SETTINGS, [inc]);
    assert.deepEqual(again.onAlerts([a], 30_000).effects, []);
    assert.equal(again.activeCount(), 1);
    assert.equal(again.alertViews(30_000)[0]!.incidentId, inc.id);
    // and when it clears, the incident it went back to resolves
    const ended = incidents(again.tick(200_000));
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.id, inc.id);
    assert.equal(ended[0]!.status, 'resolved');
  });

  it('a resolved delivery of an alert never seen firing changes nothing', () => {
    const c = new TenantCorrelation('acme', SETTINGS);
    assert.deepEqual(c.onAlerts([amAlert('db', 'X', 1_000, { endsAt: 2_000 })], 5_000).effects, []);
    assert.equal(c.activeCount(), 0);
    assert.equal(c.alertViews(5_000).length, 0);
  });
});
