// A checkpoint asks a tenant for its state: the TenantActor asks its services a few at a time
// (SNAPSHOT_SERVICES_PER_TURN), so a tenant of many services does not hold the event loop in
// one piece; each service packs its own state (bytes, so the objects die young), and the
// state is still the state as of the ask (no batch told after it is in it).
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createActorSystem, SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { SNAPSHOT_SERVICES_PER_TURN, tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import type { DetectorFactory, SeriesSnapshot } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import type { EventSink } from '../actors/sink.ts';

const SERVICES = 4 * SNAPSHOT_SERVICES_PER_TURN + 5;

describe('TenantActor snapshot in turns', () => {
  it('takes every service\'s state, a few services per turn of the event loop, as of the ask', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const system = createActorSystem({ clock, rng: new SeededRng(1), log: pino({ level: 'silent' }) });
    const sink: EventSink = { anomaly: () => {}, alert: () => {}, incident: () => {}, samples: async () => {} };
    let taken = 0;
    const base = tierDetectors();
    const detectors: DetectorFactory = {
      create: (...args) => {
        const d = base.create(...args);
        const snapshot = d.snapshot.bind(d);
        d.snapshot = () => { taken++; return snapshot(); };
        return d;
      },
      restore: base.restore,
    };
    const tenants = system.spawn<TenantsMsg>('tenants', tenantsBehavior({
      tenantSettings: (id) => ({ id, tier: 'basic', metricTiers: new Map() }),
      supervision: { strategy: 'one_for_one' },
      correlation: { windowMs: 60_000, autoResolveMs: 600_000, minAlertScore: 0.9, criticalScore: 0.99 },
      detectors, incidents: { unresolved: () => [] }, sink, serviceIdleMs: 3_600_000,
    }));
    const batch = (position: number) => ({
      type: 'to-tenant' as const, tenant: 'acme',
      msg: {
        type: 'ingest' as const, position,
        series: Array.from({ length: SERVICES }, (_, s) => ({
          service: `svc-${s}`, metric: 'cpu', samples: [[clock.now() + position * 1000, 50 + s] as [number, number]],
        })),
      },
    });
    tenants.tell(batch(1));
    await system.settled();

    // how many services' states were taken between two turns of the event loop, at most
    let most = 0;
    let last = 0;
    let watching = true;
    const watch = (): void => {
      most = Math.max(most, taken - last);
      last = taken;
      if (watching) setImmediate(watch);
    };
    setImmediate(watch);
    // packed where it is taken (a checkpoint packs with the snapshot codec; JSON here)
    const pack = (tenant: string) => (series: SeriesSnapshot[]) => Buffer.from(JSON.stringify(series.map((x) => ({ ...x, tenant }))));
    const state = tenants.ask<Map<string, Uint8Array[]>>((reply) => ({ type: 'snapshot', tenants: ['acme'], pack, reply }));
    tenants.tell(batch(2)); // after the ask: not in the state it answers
    const parts = (await state).get('acme') ?? [];
    const series = parts.flatMap((p) => JSON.parse(Buffer.from(p).toString()) as Array<SeriesSnapshot & { tenant: string }>);
    assert.equal(parts.length, SERVICES, 'one packed part per service');
    assert.ok(series.every((x) => x.tenant === 'acme'));
    watching = false;
    await system.settled();

    assert.equal(series.length, SERVICES, 'one series per service');
    assert.equal(new Set(series.map((s) => s.service)).size, SERVICES);
    assert.deepEqual([...new Set(series.map((s) => s.position ?? 0))], [1], 'the state as of the ask: the batch told after it is not in it');
    assert.equal(taken, SERVICES);
    assert.ok(most <= 2 * SNAPSHOT_SERVICES_PER_TURN && most < SERVICES, `at most ${2 * SNAPSHOT_SERVICES_PER_TURN} services per turn (took ${most})`);
    await system.stop();
  });
});
