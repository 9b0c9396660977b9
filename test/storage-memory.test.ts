import { strict as assert } from 'node:assert';
import { MemoryEventStore, MemorySeriesStore } from '../storage/index.ts';
import type { AnomalyEvent, Incident } from '../protocols/index.ts';

function anomaly(i: number, tenant = 'acme', service = 'db'): AnomalyEvent {
  return {
    id: `an-${tenant}-${i}`, tenant, service, metric: 'latency_ms', labels: {}, timestamp: 1000 + i,
    value: i, expected: 0, score: 0.95, tier: 'basic', direction: 'up',
  };
}

describe('storage: in-memory adapters', () => {
  it('pages anomalies newest first with a stable cursor', () => {
    const s = new MemoryEventStore();
    for (let i = 0; i < 25; i++) s.putAnomaly(anomaly(i, 'acme', i % 2 ? 'db' : 'api'));
    const p1 = s.anomalies('acme', { limit: 10 });
    assert.equal(p1.items.length, 10);
    assert.equal(p1.items[0]!.id, 'an-acme-24');
    assert.ok(p1.next);
    s.putAnomaly(anomaly(99)); // arrives between pages: must not shift page 2
    const p2 = s.anomalies('acme', { limit: 10, cursor: p1.next });
    assert.equal(p2.items[0]!.id, 'an-acme-14');
    const p3 = s.anomalies('acme', { limit: 10, cursor: p2.next });
    assert.equal(p3.items.length, 5);
    assert.equal(p3.next, undefined);
    const dbOnly = s.anomalies('acme', { service: 'db', limit: 1000 });
    assert.ok(dbOnly.items.every((a) => a.service === 'db'));
    assert.equal(dbOnly.items.length, 13);
  });

  it('stores an event id once and keeps tenants apart', () => {
    const s = new MemoryEventStore();
    assert.equal(s.putAnomaly(anomaly(1)), true);
    assert.equal(s.putAnomaly(anomaly(1)), false);
    s.putAnomaly(anomaly(2, 'other'));
    assert.deepEqual(s.anomalies('acme', {}).items.map((a) => a.id), ['an-acme-1']);
    assert.deepEqual(s.anomalies('nobody', {}).items, []);
  });

  it('refuses a forged cursor with a typed error', () => {
    const s = new MemoryEventStore();
    s.putAnomaly(anomaly(1));
    assert.throws(() => s.anomalies('acme', { cursor: 'garbage!' }), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST');
  });

  it('replaces incidents by id and lists the unresolved', () => {
    const s = new MemoryEventStore();
    const inc: Incident = {
      id: 'inc-1', tenant: 'acme', status: 'open', title: 't', services: ['db'], alertIds: [], openedAt: 1, updatedAt: 1, peakScore: 0.9,
    };
    assert.equal(s.putIncident(inc), true);
    assert.equal(s.putIncident({ ...inc, status: 'acknowledged' }), false);
    assert.equal(s.incidents('acme', {}).items.length, 1);
    assert.equal(s.incident('acme', 'inc-1')?.status, 'acknowledged');
    assert.equal(s.incident('other', 'inc-1'), undefined);
    assert.equal(s.unresolvedIncidents('acme').length, 1);
    s.putIncident({ ...inc, status: 'resolved' });
    assert.equal(s.unresolvedIncidents('acme').length, 0);
    assert.equal(s.incidents('acme', { status: 'resolved' }).items.length, 1);
  });

  it('keeps the newest samples of a series in a bounded ring, merged in time order', () => {
    const s = new MemorySeriesStore(5);
    s.append('acme', { service: 'db', metric: 'cpu', labels: { host: 'a' } }, [1, 2, 3, 4, 5, 6, 7].map((t) => [t, t] as [number, number]));
    s.append('acme', { service: 'db', metric: 'cpu', labels: { host: 'b' } }, [[3.5, 100]]);
    const all = s.query('acme', 'db', 'cpu', {});
    assert.deepEqual(all.map((p) => p[0]), [3, 3.5, 4, 5, 6, 7]);
    assert.deepEqual(s.query('acme', 'db', 'cpu', { from: 5, to: 6 }), [[5, 5], [6, 6]]);
    assert.deepEqual(s.query('other', 'db', 'cpu', {}), []);
    assert.equal(s.size(), 6);
  });

  it('grows a ring as samples come, keeping their order across the wrap', () => {
    const s = new MemorySeriesStore(1000);
    const key = { service: 'db', metric: 'cpu', labels: {} };
    for (let t = 0; t < 2500; t += 2) s.append('acme', key, [[t, t * 2], [t + 1, t * 2 + 1]]);
    const got = s.query('acme', 'db', 'cpu', { limit: 5000 });
    assert.equal(got.length, 1000);
    assert.equal(s.size(), 1000);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]![0] > got[i - 1]![0]);
    assert.equal(got[got.length - 1]![0], 2499);
    assert.equal(got[0]![0], 1500);
  });
});
