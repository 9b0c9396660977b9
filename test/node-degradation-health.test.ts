// NodeHealth (cluster/health.ts) on a virtual clock: the signals it reads (writer events,
// ingest-log appends, the cache's L2 state, graph calls through graph_db), injected faults
// in their three modes and their expiry, and the dwell before a better level applies.
import { strict as assert } from 'node:assert';
import { VirtualClock } from '../actors/runtime/index.ts';
import { NodeHealth, InjectedFaultError, type NodeStatus } from '../cluster/health.ts';
import { IngestLogError } from '../cluster/ingest-log/index.ts';
import { VigilError } from '../protocols/index.ts';

const DWELL = 1_000;

describe('node health: the degradation level from what the node observes', () => {
  let clock: VirtualClock;
  let health: NodeHealth;
  let changes: Array<{ from: number; to: number; status: NodeStatus }>;

  beforeEach(() => {
    clock = new VirtualClock(1_000_000);
    health = new NodeHealth({ clock, dwellMs: DWELL, checkIntervalMs: 100, slowFaultMs: 300 });
    changes = [];
    health.onChange((status, c) => changes.push({ from: c.from, to: c.to, status }));
    health.start();
  });
  afterEach(() => health.stop());

  it('tsdb: a writer going down is L3 at once; up again is L0 only after the dwell', () => {
    health.writerEvent({ type: 'down', table: 'samples', error: new Error('refused') });
    assert.equal(health.level, 3);
    assert.equal(health.status().dependencies.tsdb, 'down');
    health.writerEvent({ type: 'down', table: 'alerts', error: new Error('refused') });
    health.writerEvent({ type: 'up', table: 'samples' });
    clock.advance(5 * DWELL);
    assert.equal(health.level, 3, 'one table still refuses writes');
    health.writerEvent({ type: 'up', table: 'alerts' });
    clock.advance(DWELL - 1);
    assert.equal(health.level, 3, 'not before the dwell');
    clock.advance(1);
    assert.equal(health.level, 0);
    assert.deepEqual(changes.map((c) => [c.from, c.to]), [[0, 3], [3, 0]]);
    assert.equal(changes[1]!.status.since, clock.now());
  });

  it('bus: an ingest-log failure is L3, with tsdb L4; a refused input says nothing; an append that works brings it back', () => {
    health.logAppend(new IngestLogError('PAYLOAD_TOO_LARGE', 'bad-input', 'too big'));
    assert.equal(health.level, 0);
    health.logAppend(new IngestLogError('UNAVAILABLE', 'disk-full', 'disk full'));
    assert.equal(health.level, 3);
    health.writerEvent({ type: 'down', table: 'samples', error: new Error('refused') });
    assert.equal(health.level, 4);
    assert.equal(health.status().levelName, 'emergency');
    health.logAppend();
    health.writerEvent({ type: 'up', table: 'samples' });
    clock.advance(DWELL);
    assert.equal(health.level, 0);
  });

  it('cache: Redis down shows, and alone leaves the node at L0', () => {
    let up = true;
    health.watchCache(() => up);
    clock.advance(100);
    assert.equal(health.status().dependencies.cache, 'up');
    up = false;
    clock.advance(100); // read each check round
    assert.equal(health.status().dependencies.cache, 'down');
    assert.equal(health.level, 0);
  });

  it('injected faults: the mapped level while they last, gone by themselves after durationMs', () => {
    health.inject('model', 'fail', 5_000);
    assert.equal(health.level, 1);
    health.inject('graph', 'fail', 2_000);
    assert.equal(health.level, 2);
    clock.advance(2_000);
    assert.equal(health.status().faults.length, 1, 'the graph fault ended');
    assert.equal(health.level, 2, 'L1 holds only after the dwell');
    clock.advance(DWELL);
    assert.equal(health.level, 1);
    clock.advance(3_000 + DWELL);
    assert.equal(health.level, 0);
    assert.deepEqual(health.status().faults, []);
  });

  it('refuses an unknown dependency, mode or duration with BAD_REQUEST', () => {
    for (const [d, m, ms] of [['disk', 'fail', 1], ['tsdb', 'explode', 1], ['tsdb', 'fail', 0], ['tsdb', 'fail', 1.5]] as const) {
      assert.throws(() => health.inject(d, m, ms), (e: unknown) => VigilError.is(e) && e.code === 'BAD_REQUEST');
    }
    assert.equal(health.level, 0);
  });

  it('gate: fail rejects at once, slow waits on the clock, hang waits until the fault ends and then rejects', async () => {
    await health.gate('tsdb'); // no fault: nothing
    health.inject('tsdb', 'fail', 10_000);
    await assert.rejects(health.gate('tsdb'), InjectedFaultError);
    health.inject('tsdb', 'slow', 10_000);
    let slowDone = false;
    const slow = health.gate('tsdb').then(() => { slowDone = true; });
    clock.advance(299);
    await Promise.resolve();
    assert.equal(slowDone, false);
    clock.advance(1);
    await slow;
    assert.equal(slowDone, true);
    health.inject('tsdb', 'hang', 10_000);
    let hangEnded: unknown;
    const hung = health.gate('tsdb').catch((e: unknown) => { hangEnded = e; });
    clock.advance(5_000);
    await Promise.resolve();
    assert.equal(hangEnded, undefined, 'still hanging');
    assert.equal(health.clearFaults(), 1);
    await hung;
    assert.ok((hangEnded as unknown) instanceof InjectedFaultError);
  });

  it('graph: failing calls open graph_db (graph down); ending the fault closes it', async () => {
    health.inject('graph', 'fail', 60_000);
    for (let i = 0; i < 3; i++) await assert.rejects(health.guardGraph(async () => 'topology'));
    assert.equal(health.status().breakers.graph_db, 'open');
    health.clearFaults();
    assert.equal(health.status().breakers.graph_db, 'closed');
    assert.equal(await health.guardGraph(async () => 'topology'), 'topology');
  });

  it('a real graph outage: graph_db opens, and a probe closes it once the store answers', async () => {
    let storeUp = false;
    const topology = async (): Promise<string> => {
      if (!storeUp) throw new Error('connection refused');
      return 'ok';
    };
    health.watchGraph(topology);
    health.inject('model', 'fail', 600_000);
    for (let i = 0; i < 3; i++) await assert.rejects(health.guardGraph(topology));
    assert.equal(health.level, 2);
    storeUp = true;
    clock.advance(60_000); // graph_db's reset timeout: half-open, and the next round probes
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    assert.equal(health.status().breakers.graph_db, 'closed');
    clock.advance(DWELL);
    assert.equal(health.level, 1, 'back to the model fault alone');
  });

  it('operators: a forced breaker degrades, an override holds and expires', () => {
    assert.equal(health.breaker('ml_inference', 'open'), 'forcedOpen');
    assert.equal(health.level, 1);
    health.breaker('ml_inference', 'close');
    clock.advance(DWELL);
    assert.equal(health.level, 0);
    assert.throws(() => health.breaker('nope', 'open'), (e: unknown) => VigilError.is(e) && e.code === 'NOT_FOUND');
    const held = health.degrade(3, 10_000);
    assert.equal(held.level, 3);
    assert.equal(held.override?.until, clock.now() + 10_000);
    clock.advance(10_000);
    assert.equal(health.level, 0);
    assert.equal(health.status().override, undefined);
  });
});
