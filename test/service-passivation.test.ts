// A ServiceActor idle for serviceIdleMs is passivated; when its service speaks again it
// comes back with the detector state it had (the TenantActor kept the snapshot).
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createActorSystem, SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import type { DetectorFactory } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import type { EventSink } from '../actors/sink.ts';
import type { AnomalyEvent } from '../protocols/index.ts';

const IDLE = 60_000;

describe('ServiceActor passivation', () => {
  it('passivates an idle service and restores its detectors when it speaks again', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const system = createActorSystem({ clock, rng: new SeededRng(1), log: pino({ level: 'silent' }) });
    const anomalies: AnomalyEvent[] = [];
    const sink: EventSink = { anomaly: (e) => anomalies.push(e), alert: () => {}, incident: () => {}, samples: async () => {} };
    const restored: number[] = [];
    const base = tierDetectors();
    const detectors: DetectorFactory = {
      create: base.create,
      restore: (s) => { restored.push(1); return base.restore(s); },
    };
    const tenants = system.spawn<TenantsMsg>('tenants', tenantsBehavior({
      tenantSettings: (id) => ({ id, tier: 'basic', metricTiers: new Map() }),
      supervision: { strategy: 'one_for_one' },
      correlation: { windowMs: 60_000, autoResolveMs: 600_000, minAlertScore: 0.9, criticalScore: 0.99 },
      detectors, incidents: { unresolved: () => [] }, sink, serviceIdleMs: IDLE,
    }));
    const rng = new SeededRng(3);
    const batch = (from: number, n: number, spikeAt = -1) => ({
      type: 'to-tenant' as const, tenant: 'acme',
      msg: {
        type: 'ingest' as const,
        series: [{ service: 'db', metric: 'cpu', samples: Array.from({ length: n }, (_, i): [number, number] => [from + i * 1000, (i === spikeAt ? 500 : 50) + rng.normal()]) }],
      },
    });
    const serviceAlive = (): boolean => JSON.stringify(system.tree()).includes('/root/tenants/acme/db"');

    tenants.tell(batch(clock.now(), 1500));
    await system.settled();
    assert.ok(serviceAlive());
    clock.advance(IDLE + 1);
    await system.settled();
    assert.equal(serviceAlive(), false, 'idle service passivated');
    assert.equal(restored.length, 0);

    // Speaks again: it must come back trained (restored from the snapshot), so a spike
    // right away is an anomaly, which a fresh detector in warm-up would not report.
    tenants.tell(batch(clock.now(), 20, 10));
    await system.settled();
    assert.ok(serviceAlive());
    assert.equal(restored.length, 1, 'the detector was restored, not created anew');
    assert.ok(anomalies.some((a) => a.value > 400), 'the restored detector flags the spike at once');
    await system.stop();
  });
});
