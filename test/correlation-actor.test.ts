// The correlator actor on a virtual clock: it ticks itself while alerts are live (alerts end,
// notifications go out, with no tick from the node), loads the tenant's topology and keeps
// grouping by time when it cannot, keeps silences through its store across a restart, and
// answers a bad silence with the error rather than crashing.
import { strict as assert } from 'node:assert';
import pino from 'pino';
import { correlatorBehavior, type CorrelatorMsg, type Silence, type SilenceReply, type SilenceStore } from '../actors/correlation/index.ts';
import { createActorSystem, SeededRng, VirtualClock, type ActorRef, type ActorSystem } from '../actors/runtime/index.ts';
import type { EventSink } from '../actors/sink.ts';
import type { Incident, IncidentNotification, Topology } from '../protocols/index.ts';
import { amAlert, SETTINGS, topologyOf } from './support/correlation-fixtures.ts';

const silent = pino({ level: 'silent' });

interface Rig {
  sys: ActorSystem;
  clock: VirtualClock;
  ref: ActorRef<CorrelatorMsg>;
  incidents: Map<string, Incident>;
  notes: IncidentNotification[];
}

function rig(options: { topology?: () => Promise<Topology>; silences?: SilenceStore } = {}): Rig {
  const clock = new VirtualClock(1_000_000);
  const sys = createActorSystem({ name: 'test', clock, rng: new SeededRng(1), log: silent });
  const incidents = new Map<string, Incident>();
  const notes: IncidentNotification[] = [];
  const sink: EventSink = {
    samples: async () => undefined, anomaly: () => undefined, alert: () => undefined,
    incident: (i) => incidents.set(i.id, i), notify: (n) => notes.push(n),
  };
  const ref = sys.spawn<CorrelatorMsg>('correlator', correlatorBehavior({
    tenant: 'acme', settings: { ...SETTINGS, groupWaitMs: 30_000 }, incidents: { unresolved: () => [] }, sink,
    ...(options.topology ? { topology: options.topology } : {}), ...(options.silences ? { silences: options.silences } : {}),
  }));
  return { sys, clock, ref, incidents, notes };
}

async function advance(r: Rig, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1_000) {
    r.clock.advance(Math.min(1_000, ms - t));
    await r.sys.settled();
  }
}

const post = (r: Rig, ...alerts: ReturnType<typeof amAlert>[]) =>
  r.ref.ask<{ accepted: number; refused: number }>((reply) => ({ type: 'alerts', alerts, reply }));

describe('correlation: the correlator actor', () => {
  it('ticks itself: notifications after group_wait, and an incident resolves when its alert ends', async () => {
    const r = rig();
    const now = r.clock.now();
    await post(r, amAlert('db', 'Slow', now, { endsAt: now + 45_000, now }));
    assert.equal(r.incidents.size, 1);
    await advance(r, 29_000);
    assert.equal(r.notes.length, 0);
    await advance(r, 2_000);
    assert.deepEqual(r.notes.map((n) => n.reason), ['opened']);
    await advance(r, 15_000);
    assert.equal([...r.incidents.values()][0]!.status, 'resolved');
    assert.deepEqual(r.notes.map((n) => n.reason), ['opened', 'resolved']);
    await r.sys.stop();
  });

  it('groups by the topology it loaded; a loader that fails leaves it grouping by time', async () => {
    const good = rig({ topology: async () => topologyOf([['web', 'db']], ['mail']) });
    await good.sys.settled();
    const now = good.clock.now();
    await post(good, amAlert('db', 'Slow', now), amAlert('mail', 'Queue', now));
    assert.equal(good.incidents.size, 2, 'unrelated by the topology');
    await good.sys.stop();

    const bad = rig({ topology: () => Promise.reject(new Error('graph store down')) });
    await bad.sys.settled();
    await post(bad, amAlert('db', 'Slow', now), amAlert('mail', 'Queue', now));
    assert.equal(bad.incidents.size, 1, 'time grouping');
    await bad.sys.stop();
  });

  it('keeps silences through its store across a restart, and answers a bad one with the reason', async () => {
    const saved = new Map<string, Silence[]>();
    const store: SilenceStore = { load: (t) => saved.get(t) ?? [], save: async (t, s) => { saved.set(t, [...s]); } };
    const r = rig({ silences: store });
    const put = (matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual: boolean }>) =>
      r.ref.ask<SilenceReply>((reply) => ({ type: 'silence-put', draft: { matchers, endsAt: r.clock.now() + 3600_000, createdBy: 't', comment: '' }, reply }));
    const ok = await put([{ name: 'service', value: 'db', isRegex: false, isEqual: true }]);
    assert.ok(ok.ok);
    const refused = await put([{ name: 'service', value: '(', isRegex: true, isEqual: true }]);
    assert.ok(!refused.ok && refused.error.code === 'BAD_REQUEST');
    assert.equal(saved.get('acme')!.length, 1);
    await r.sys.restart('/root/correlator');
    const list = await r.ref.ask<Array<{ id: string; state: string }>>((reply) => ({ type: 'silences', reply }));
    assert.deepEqual(list.map((s) => [s.id, s.state]), [[ok.silence.id, 'active']]);
    const now = r.clock.now();
    await post(r, amAlert('db', 'Slow', now));
    assert.equal(r.incidents.size, 0, 'still silenced after the restart');
    await r.sys.stop();
  });
});
