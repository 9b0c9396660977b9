// Notification timing: group_wait, group_interval, repeat_interval applied to incidents, and
// incident state changes never delayed by them.
import { strict as assert } from 'node:assert';
import { TenantCorrelation } from '../actors/correlation/index.ts';
import { amAlert, incidents, notices, SETTINGS } from './support/correlation-fixtures.ts';

const WAIT = 30_000;
const INTERVAL = 300_000;
const REPEAT = 4 * 3600_000;
const TIMED = { ...SETTINGS, windowMs: 3600_000, groupWaitMs: WAIT, groupIntervalMs: INTERVAL, repeatIntervalMs: REPEAT };
const LONG = 100 * 3600_000; // alerts that keep firing through the test

describe('correlation: notification timing', () => {
  it('group_wait: the first notification waits, and carries every alert that joined meanwhile', () => {
    const c = new TenantCorrelation('acme', TIMED);
    const opened = c.onAlerts([amAlert('db', 'Slow', 0, { endsAt: LONG })], 0).effects;
    assert.equal(incidents(opened).length, 1, 'the incident itself is out at once');
    assert.equal(notices(opened).length, 0);
    assert.equal(notices(c.onAlerts([amAlert('api', 'Errors', 10_000, { endsAt: LONG })], 10_000).effects).length, 0);
    assert.equal(notices(c.tick(WAIT - 1)).length, 0);
    const first = notices(c.tick(WAIT));
    assert.equal(first.length, 1);
    assert.equal(first[0]!.reason, 'opened');
    assert.equal(first[0]!.firing, 2);
    assert.deepEqual(first[0]!.alerts.map((a) => a.service), ['api', 'db'], 'newest first');
    assert.equal(first[0]!.incident.alertIds.length, 2);
  });

  it('group_interval: a change after the first notification is told no sooner than the interval', () => {
    const c = new TenantCorrelation('acme', TIMED);
    c.onAlerts([amAlert('db', 'Slow', 0, { endsAt: LONG })], 0);
    assert.equal(notices(c.tick(WAIT)).length, 1);
    const joined = c.onAlerts([amAlert('api', 'Errors', 60_000, { endsAt: LONG })], 60_000).effects;
    assert.equal(incidents(joined).length, 1, 'the incident change is not delayed');
    assert.equal(notices(joined).length, 0);
    assert.equal(notices(c.tick(WAIT + INTERVAL - 1)).length, 0);
    const update = notices(c.tick(WAIT + INTERVAL));
    assert.deepEqual(update.map((n) => n.reason), ['updated']);
    assert.equal(update[0]!.firing, 2);
  });

  it('repeat_interval: an open incident with no change is told again; an acknowledged one is not', () => {
    const c = new TenantCorrelation('acme', TIMED);
    const inc = incidents(c.onAlerts([amAlert('db', 'Slow', 0, { endsAt: LONG })], 0).effects)[0]!;
    c.tick(WAIT);
    assert.equal(notices(c.tick(WAIT + REPEAT - 1)).length, 0);
    assert.deepEqual(notices(c.tick(WAIT + REPEAT)).map((n) => n.reason), ['repeat']);
    c.setStatus(inc.id, 'acknowledged', WAIT + REPEAT + 1);
    assert.equal(notices(c.tick(WAIT + 3 * REPEAT)).length, 0);
  });

  it('a resolution is told at once; an incident resolved within group_wait is never told', () => {
    const c = new TenantCorrelation('acme', TIMED);
    const inc = incidents(c.onAlerts([amAlert('db', 'Slow', 0, { endsAt: LONG })], 0).effects)[0]!;
    c.tick(WAIT);
    c.setStatus(inc.id, 'resolved', 40_000);
    assert.deepEqual(notices(c.flush(40_000)).map((n) => n.reason), ['resolved']);
    assert.equal(notices(c.tick(50_000)).length, 0, 'once');

    const blip = new TenantCorrelation('acme', TIMED);
    blip.onAlerts([amAlert('db', 'Slow', 0, { endsAt: 10_000 })], 0);
    const ended = blip.tick(10_000);
    assert.equal(incidents(ended)[0]!.status, 'resolved');
    assert.equal(notices(ended).length, 0);
    assert.equal(notices(blip.tick(WAIT * 2)).length, 0);
  });

  it('an alert clearing is a change: told at the next interval', () => {
    const c = new TenantCorrelation('acme', TIMED);
    c.onAlerts([amAlert('db', 'Slow', 0, { endsAt: LONG }), amAlert('api', 'Errors', 0, { endsAt: 100_000 })], 0);
    assert.equal(notices(c.tick(WAIT))[0]!.firing, 2);
    assert.equal(notices(c.tick(100_000)).length, 0);
    const update = notices(c.tick(WAIT + INTERVAL));
    assert.deepEqual(update.map((n) => [n.reason, n.firing]), [['updated', 1]]);
  });
});
