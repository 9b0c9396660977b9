// Inhibition rules: a firing root alert mutes its symptoms (same `equal` labels); the muted
// alerts join no incident until the root clears; no inhibition at L3 (pass-through).
import { strict as assert } from 'node:assert';
import { Inhibitor, TenantCorrelation, type InhibitRule } from '../actors/correlation/index.ts';
import type { Level } from '../supervisors/index.ts';
import { amAlert, incidents, SETTINGS } from './support/correlation-fixtures.ts';

const RULE: InhibitRule = {
  sourceMatchers: [{ name: 'alertname', value: 'DatabaseDown', isRegex: false, isEqual: true }],
  targetMatchers: [{ name: 'severity', value: 'warning|info', isRegex: true, isEqual: true }],
  equal: ['cluster'],
};
const LONG = 10 * 3600_000;

function correlator(level: () => Level = () => 0): TenantCorrelation {
  return new TenantCorrelation('acme', { ...SETTINGS, inhibitRules: [RULE] }, [], { level });
}

const root = (cluster: string, startsAt: number, endsAt = LONG) =>
  amAlert('db', 'DatabaseDown', startsAt, { endsAt, labels: { cluster, severity: 'critical' } });
const symptom = (service: string, cluster: string, startsAt: number) =>
  amAlert(service, 'HighLatency', startsAt, { endsAt: LONG, labels: { cluster, severity: 'warning' } });

describe('correlation: inhibition', () => {
  it('a firing root alert inhibits its symptoms with the same equal labels: they join no incident', () => {
    const c = correlator();
    const r = root('eu', 1_000);
    const s = symptom('api', 'eu', 2_000);
    const rootInc = incidents(c.onAlerts([r], 1_000).effects)[0]!;
    assert.deepEqual(c.onAlerts([s], 2_000).effects, []);
    const view = c.alertViews(2_000).find((v) => v.fingerprint === s.fingerprint)!;
    assert.equal(view.state, 'suppressed');
    assert.deepEqual(view.inhibitedBy, [r.fingerprint]);
    assert.equal(view.incidentId, undefined);
    assert.deepEqual(c.alertViews(2_000).find((v) => v.fingerprint === r.fingerprint)!.incidentId, rootInc.id);
  });

  it('a symptom in another cluster is not inhibited', () => {
    const c = correlator();
    c.onAlerts([root('eu', 1_000)], 1_000);
    const effects = c.onAlerts([symptom('api', 'us', 2_000)], 2_000).effects;
    assert.equal(incidents(effects).length, 1);
    assert.equal(c.alertViews(2_000).every((v) => v.state === 'active'), true);
  });

  it('when the root clears, its symptoms still firing join an incident', () => {
    const c = correlator();
    c.onAlerts([root('eu', 1_000, 50_000)], 1_000);
    const s = symptom('api', 'eu', 2_000);
    c.onAlerts([s], 2_000);
    const after = c.tick(50_000);
    const states = incidents(after);
    assert.equal(states.length, 2, 'the root incident resolved, the symptom opened its own');
    const open = states.find((i) => i.status === 'open')!;
    assert.equal(c.alertViews(50_000).find((v) => v.fingerprint === s.fingerprint)!.incidentId, open.id);
  });

  it('an alert matching both sides never inhibits itself', () => {
    const both: InhibitRule = { sourceMatchers: [{ name: 'severity', value: 'warning', isRegex: false, isEqual: true }], targetMatchers: RULE.targetMatchers, equal: [] };
    const c = new TenantCorrelation('acme', { ...SETTINGS, inhibitRules: [both] });
    const first = symptom('api', 'eu', 1_000);
    assert.equal(incidents(c.onAlerts([first], 1_000).effects).length, 1);
    // a second warning is inhibited by the first, not by itself
    const second = symptom('web', 'eu', 1_500);
    c.onAlerts([second], 1_500);
    assert.deepEqual(c.alertViews(1_500).find((v) => v.fingerprint === second.fingerprint)!.inhibitedBy, [first.fingerprint]);
  });

  it('at L3 (pass-through) nothing is inhibited', () => {
    const c = correlator(() => 3);
    c.onAlerts([root('eu', 1_000)], 1_000);
    assert.equal(incidents(c.onAlerts([symptom('api', 'eu', 2_000)], 2_000).effects).length, 1);
  });

  it('the inhibitor indexes firing sources by their equal labels', () => {
    const inh = new Inhibitor([RULE]);
    assert.equal(inh.firing('r1', { alertname: 'DatabaseDown', cluster: 'eu' }), true);
    assert.equal(inh.firing('x', { alertname: 'Other', cluster: 'eu' }), false);
    assert.deepEqual(inh.inhibitedBy('t', { severity: 'info', cluster: 'eu' }), ['r1']);
    assert.deepEqual(inh.inhibitedBy('t', { severity: 'critical', cluster: 'eu' }), []);
    assert.deepEqual(inh.inhibitedBy('t', { severity: 'warning' }), [], 'a missing equal label is "" and differs from "eu"');
    assert.equal(inh.resolved('r1', { alertname: 'DatabaseDown', cluster: 'eu' }), true);
    assert.deepEqual(inh.inhibitedBy('t', { severity: 'info', cluster: 'eu' }), []);
  });
});
