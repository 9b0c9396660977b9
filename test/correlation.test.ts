import { strict as assert } from 'node:assert';
import { TenantCorrelation, type CorrelationSettings } from '../actors/correlation/index.ts';
import type { AnomalyEvent } from '../protocols/index.ts';

const settings: CorrelationSettings = { windowMs: 60_000, autoResolveMs: 300_000, minAlertScore: 0.9, criticalScore: 0.99 };

function anomaly(service: string, timestamp: number, score = 0.95, metric = 'latency_ms'): AnomalyEvent {
  return {
    id: `an-${service}-${metric}-${timestamp}`, tenant: 'acme', service, metric, labels: {}, timestamp,
    value: 100, expected: 10, score, tier: 'basic', direction: 'up',
  };
}

describe('correlation: anomalies to alerts to incidents', () => {
  it('groups anomalies close in time into one incident, one alert per series', () => {
    const c = new TenantCorrelation('acme', settings);
    const e1 = c.onAnomaly(anomaly('db', 1_000));
    const e2 = c.onAnomaly(anomaly('checkout', 20_000));
    const e3 = c.onAnomaly(anomaly('db', 30_000));
    const alerts = [...e1, ...e2, ...e3].filter((e) => e.type === 'alert');
    assert.equal(alerts.length, 2);
    const incIds = new Set([...e1, ...e2].flatMap((e) => (e.type === 'incident' ? [e.incident.id] : [])));
    assert.equal(incIds.size, 1);
    const last = [...e2].reverse().find((e) => e.type === 'incident');
    assert.ok(last && last.type === 'incident');
    assert.deepEqual(last.incident.services, ['db', 'checkout']);
    assert.equal(c.activeCount(), 1);
  });

  it('titles the incident after its earliest alert, whatever the arrival order', () => {
    const c = new TenantCorrelation('acme', settings);
    c.onAnomaly(anomaly('payments', 20_000));
    const eff = c.onAnomaly(anomaly('db', 10_000));
    const inc = eff.find((e) => e.type === 'incident');
    assert.ok(inc && inc.type === 'incident');
    assert.match(inc.incident.title, /^db: latency_ms/);
    const later = c.onAnomaly(anomaly('api', 30_000)).find((e) => e.type === 'incident');
    assert.ok(later && later.type === 'incident');
    assert.match(later.incident.title, /^db:/);
  });

  it('opens a second incident after the window has passed', () => {
    // (The same series again would be the same alert, still firing: another series shows the window.)
    const c = new TenantCorrelation('acme', settings);
    c.onAnomaly(anomaly('db', 1_000));
    c.onAnomaly(anomaly('checkout', 1_000 + 61_000 + 1));
    assert.equal(c.activeCount(), 2);
  });

  it('a duplicate anomaly (at-least-once delivery) creates nothing', () => {
    const c = new TenantCorrelation('acme', settings);
    assert.equal(c.onAnomaly(anomaly('db', 5_000)).length, 2);
    assert.equal(c.onAnomaly(anomaly('db', 5_000)).length, 0);
  });

  it('a restarted correlator resumes unresolved incidents and still de-duplicates', () => {
    const c = new TenantCorrelation('acme', settings);
    const effects = c.onAnomaly(anomaly('db', 5_000));
    const inc = effects.find((e) => e.type === 'incident');
    assert.ok(inc && inc.type === 'incident');
    const again = new TenantCorrelation('acme', settings, [inc.incident]);
    assert.equal(again.onAnomaly(anomaly('db', 5_000)).length, 0);
    const joined = again.onAnomaly(anomaly('api', 6_000));
    assert.ok(joined.some((e) => e.type === 'incident' && e.incident.id === inc.incident.id));
  });

  it('ignores low scores, marks critical ones, and auto-resolves quiet incidents', () => {
    const c = new TenantCorrelation('acme', settings);
    assert.equal(c.onAnomaly(anomaly('db', 1_000, 0.5)).length, 0);
    const eff = c.onAnomaly(anomaly('db', 2_000, 0.995));
    const alert = eff.find((e) => e.type === 'alert');
    assert.ok(alert && alert.type === 'alert');
    assert.equal(alert.alert.severity, 'critical');
    // (tick also returns notifications now: the incidents among its effects are what this checks)
    const incidentsOf = (effects: ReturnType<typeof c.tick>) => effects.filter((e) => e.type === 'incident');
    assert.equal(incidentsOf(c.tick(2_000 + 299_999)).length, 0);
    const resolved = incidentsOf(c.tick(2_000 + 300_000));
    assert.equal(resolved.length, 1);
    assert.ok(resolved[0]!.type === 'incident' && resolved[0]!.incident.status === 'resolved');
    assert.equal(c.activeCount(), 0);
  });

  it('ack keeps the incident active; resolve ends it', () => {
    const c = new TenantCorrelation('acme', settings);
    const eff = c.onAnomaly(anomaly('db', 1_000));
    const id = eff.find((e) => e.type === 'incident')!.type === 'incident'
      ? (eff.find((e) => e.type === 'incident') as { incident: { id: string } }).incident.id : '';
    assert.equal(c.setStatus(id, 'acknowledged', 9_000)?.status, 'acknowledged');
    assert.equal(c.activeCount(), 1);
    assert.equal(c.setStatus(id, 'resolved', 10_000)?.resolvedAt, 10_000);
    assert.equal(c.activeCount(), 0);
    assert.equal(c.setStatus(id, 'resolved', 11_000), undefined);
  });
});
