// A checkpoint asks a tenant for its state: the TenantActor asks its services a few at a time
// (SNAPSHOT_SERVICES_PER_TURN), so a tenant of many services does not hold the event loop in
// one piece; each service packs its own state (bytes, so the objects die young), and the
// state is still the state as of the ask (no batch told after it is in it). A part that gives
// no state fails the checkpoint's ask; it does not crash the actors that asked.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createActorSystem, SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { IngestReceipt, SNAPSHOT_ASK_TIMEOUT_MS, SNAPSHOT_SERVICES_PER_TURN, tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import { VigilError } from '../protocols/index.ts';
import type { DetectorFactory, SeriesSnapshot } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import type { EventSink } from '../actors/sink.ts';

const SERVICES = 4 * SNAPSHOT_SERVICES_PER_TURN + 5;

/** A tenants supervisor on a virtual clock, and batches of one sample for each of SERVICES services of tenant acme. */
function tenantsOn(clock: VirtualClock, detectors: DetectorFactory, sink: EventSink) {
  const system = createActorSystem({ clock, rng: new SeededRng(1), log: pino({ level: 'silent' }) });
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
  return { system, tenants, batch };
}

describe('TenantActor snapshot in turns', () => {
  it('takes every service\'s state, a few services per turn of the event loop, as of the ask', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
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
    const { system, tenants, batch } = tenantsOn(clock, detectors, sink);
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

  it('a service that gives no state fails the checkpoint\'s ask; neither the tenant nor its supervisor restarts, and other tenants\' batches go on', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const stored: number[] = [];
    const sink: EventSink = {
      anomaly: () => {}, alert: () => {}, incident: () => {},
      samples: async (_tenant, _service, series) => { for (const x of series) for (const [t] of x.samples) stored.push(t); },
    };
    const { system, tenants, batch } = tenantsOn(clock, tierDetectors(), sink);
    const troubles: string[] = [];
    system.onEvent((ev) => { if (ev.type === 'crashed' || ev.type === 'restarted' || ev.type === 'escalated') troubles.push(`${ev.type} ${ev.path}`); });
    tenants.tell(batch(1));
    await system.settled();

    // svc-0's state cannot be packed: its turn throws, it restarts, and its answer never comes
    const pack = (_tenant: string) => (series: SeriesSnapshot[]) => {
      if (series.some((x) => x.service === 'svc-0')) throw new Error('cannot pack this state');
      return Buffer.from(JSON.stringify(series));
    };
    let failure: unknown;
    const asked = tenants.ask<Map<string, Uint8Array[]>>((reply) => ({ type: 'snapshot', tenants: ['acme'], pack, reply }), 2 * SNAPSHOT_ASK_TIMEOUT_MS)
      .then(() => undefined, (err: unknown) => { failure = err; });
    const turns = async (): Promise<void> => { for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r)); };
    await turns();
    // meanwhile another tenant's batch is routed and stored: the supervisor is not held by acme's wait
    const other = batch(1);
    const otherReceipt = new IngestReceipt(SERVICES, () => {});
    let otherStored = false;
    void otherReceipt.stored.then(() => { otherStored = true; });
    tenants.tell({ ...other, tenant: 'beta', msg: { ...other.msg, receipt: otherReceipt } });
    await turns();
    assert.ok(otherStored, 'a batch of another tenant is stored while the snapshot waits');
    clock.advance(SNAPSHOT_ASK_TIMEOUT_MS + 1); // the tenant's ask of svc-0, and the supervisor's of the tenant, time out
    await turns();
    clock.advance(SNAPSHOT_ASK_TIMEOUT_MS); // and the checkpoint's own
    await asked;
    assert.ok(VigilError.is(failure, 'TIMEOUT'), `the checkpoint's ask fails (${String(failure)})`);
    assert.deepEqual([...new Set(troubles)].sort(), ['crashed /root/tenants/acme/svc-0', 'restarted /root/tenants/acme/svc-0'],
      'only the service whose state could not be packed restarted');

    const next = batch(2);
    const receipt = new IngestReceipt(SERVICES, () => {}); // the sink writes what a receipt tracks
    tenants.tell({ ...next, msg: { ...next.msg, receipt } }); // the tree still takes batches
    await receipt.stored;
    const at = next.msg.series[0]!.samples[0]![0];
    assert.equal(stored.filter((t) => t === at).length, SERVICES, 'every service stored the next batch');
    await system.stop();
  });
});
