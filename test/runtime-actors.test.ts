// The actor runtime without crashes: spawn, tell/ask, tree and mailbox, operator restart,
// passivation, stop order, names, logging and per-actor rng.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  createActorSystem, SeededRng, VirtualClock, DEFAULT_ASK_TIMEOUT_MS,
  type ActorSystem, type Behavior, type RuntimeEvent,
} from '../actors/runtime/index.ts';
import { VigilError } from '../protocols/index.ts';

type Msg =
  | { type: 'add'; n: number }
  | { type: 'get'; reply: (s: number[]) => void }
  | { type: 'hold'; until: Promise<void> }
  | { type: 'ignore' };

const silent = pino({ level: 'silent' });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A counter actor that records its inits, stops and what it was asked to do. */
function counter(kind: string, journal: string[], name: string, extra: Partial<Behavior<Msg, number[]>> = {}): Behavior<Msg, number[]> {
  return {
    kind,
    init: () => {
      journal.push(`init:${name}`);
      return [];
    },
    async receive(s, m) {
      switch (m.type) {
        case 'add': return [...s, m.n];
        case 'get': m.reply(s); return s;
        case 'hold': await m.until; return s;
        case 'ignore': return s;
      }
    },
    onStop: (s) => void journal.push(`stop:${name}:${s.join(',')}`),
    ...extra,
  };
}

const get = (sys: ActorSystem, path: string): Promise<number[]> =>
  sys.find<Msg>(path)!.ask<number[]>((reply) => ({ type: 'get', reply }));

describe('actor runtime', () => {
  let sys: ActorSystem;
  let clock: VirtualClock;
  let events: RuntimeEvent[];
  let journal: string[];

  beforeEach(() => {
    clock = new VirtualClock(0);
    sys = createActorSystem({ name: 'test', clock, rng: new SeededRng(1), log: silent });
    events = [];
    journal = [];
    sys.onEvent((e) => events.push(e));
  });
  afterEach(() => sys.stop());

  it('delivers told messages in order and answers asks', async () => {
    const ref = sys.spawn<Msg>('c', counter('counter', journal, 'c'));
    assert.equal(ref.path, '/root/c');
    for (let i = 1; i <= 5; i++) ref.tell({ type: 'add', n: i });
    assert.deepEqual(await ref.ask<number[]>((reply) => ({ type: 'get', reply })), [1, 2, 3, 4, 5]);
    assert.deepEqual(events.filter((e) => e.type === 'started').map((e) => e.path), ['/root/c']);
  });

  it('ask rejects with TIMEOUT on the injected clock', async () => {
    const ref = sys.spawn<Msg>('mute', counter('counter', journal, 'mute'));
    let outcome: unknown = 'pending';
    const p = ref.ask<number[]>(() => ({ type: 'ignore' }), 100).then((v) => (outcome = v), (e) => (outcome = e));
    await sys.settled();
    clock.advance(99);
    await tick();
    assert.equal(outcome, 'pending', 'not before the timeout');
    clock.advance(1);
    await p;
    assert.ok(VigilError.is(outcome, 'TIMEOUT'), String(outcome));
    assert.equal(DEFAULT_ASK_TIMEOUT_MS, 5000);
  });

  it('ask to a stopped actor, or one stopped before answering, rejects UNAVAILABLE', async () => {
    const parent = sys.spawn<Msg>('p', {
      ...counter('parent', journal, 'p'),
      init: (ctx) => {
        ctx.spawn('kid', counter('kid', journal, 'kid'));
        return [];
      },
    });
    const kid = sys.find<Msg>('/root/p/kid')!;
    let release!: () => void;
    kid.tell({ type: 'hold', until: new Promise<void>((r) => (release = r)) });
    const waiting = kid.ask<number[]>((reply) => ({ type: 'get', reply }));
    await tick();
    await sys.stop();
    await assert.rejects(waiting, (e) => VigilError.is(e, 'UNAVAILABLE'));
    await assert.rejects(parent.ask<number[]>((reply) => ({ type: 'get', reply })), (e) => VigilError.is(e, 'UNAVAILABLE'));
    release();
  });

  it('tree shows kinds, status, restarts and mailbox depth', async () => {
    const ref = sys.spawn<Msg>('t', {
      ...counter('tenant', journal, 't'),
      init: (ctx) => {
        ctx.spawn('svc', counter('service', journal, 'svc'));
        return [];
      },
    });
    let release!: () => void;
    ref.tell({ type: 'hold', until: new Promise<void>((r) => (release = r)) });
    for (let i = 0; i < 3; i++) ref.tell({ type: 'add', n: i });
    await tick();
    await tick();
    const tree = sys.tree();
    assert.equal(tree.path, '/root');
    assert.equal(tree.kind, 'root');
    const t = tree.children[0]!;
    assert.deepEqual({ path: t.path, kind: t.kind, status: t.status, restarts: t.restarts, mailbox: t.mailbox },
      { path: '/root/t', kind: 'tenant', status: 'running', restarts: 0, mailbox: 3 });
    assert.deepEqual(t.children.map((c) => [c.path, c.kind]), [['/root/t/svc', 'service']]);
    assert.equal(sys.stats().mailboxDepth, 3);
    assert.equal(sys.stats().actorsAlive, 2);
    release();
    await sys.settled();
    assert.equal(sys.tree().children[0]!.mailbox, 0);
    assert.deepEqual(await get(sys, '/root/t'), [0, 1, 2]);
  });

  it('operator restart re-inits the actor and its subtree and counts it', async () => {
    const ref = sys.spawn<Msg>('t', {
      ...counter('tenant', journal, 't'),
      init: (ctx) => {
        journal.push('init:t');
        ctx.spawn('svc', counter('service', journal, 'svc'));
        return [];
      },
    });
    ref.tell({ type: 'add', n: 1 });
    sys.find<Msg>('/root/t/svc')!.tell({ type: 'add', n: 9 });
    await sys.settled();
    journal.length = 0;
    await sys.restart('/root/t');
    assert.deepEqual(journal, ['stop:svc:9', 'init:t', 'init:svc'], 'the subtree stops (onStop) and init rebuilds it');
    assert.deepEqual(await ref.ask<number[]>((reply) => ({ type: 'get', reply })), []);
    assert.deepEqual(await get(sys, '/root/t/svc'), []);
    assert.equal(sys.tree().children[0]!.restarts, 1);
    assert.equal(sys.stats().restartsTotal, 1);
    const restarted = events.find((e) => e.type === 'restarted');
    assert.deepEqual(restarted && { ...restarted }, { type: 'restarted', path: '/root/t', kind: 'tenant', delayMs: 0, restarts: 1, reason: 'operator' });
    await assert.rejects(sys.restart('/root/nope'), (e) => VigilError.is(e, 'NOT_FOUND'));
  });

  it('hands what a child had queued to its parent\'s next incarnation (readopt), in order', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const routed: Array<[string, unknown[]]> = [];
    const parent: Behavior<Msg, number[]> = {
      ...counter('tenant', journal, 't'),
      init: (ctx) => {
        if (!ctx.child('kid')) ctx.spawn('kid', counter('service', journal, 'kid'));
        return [];
      },
      readopt(state, child, messages, ctx) {
        routed.push([child, [...messages]]);
        for (const m of messages) ctx.child<Msg>(child)!.tell(m as Msg);
        return state;
      },
    };
    sys.spawn('t', parent);
    const kid = sys.find<Msg>('/root/t/kid')!;
    kid.tell({ type: 'hold', until: held }); // busy: what follows stays queued
    await tick();
    kid.tell({ type: 'add', n: 1 });
    kid.tell({ type: 'add', n: 2 });
    await sys.restart('/root/t');
    release();
    assert.deepEqual(routed.map(([c, m]) => [c, m.length]), [['kid', 2]]);
    assert.deepEqual(await get(sys, '/root/t/kid'), [1, 2], 'the new kid handled both, in order');
    assert.equal(sys.stats().readoptedTotal, 2);
    assert.equal(sys.stats().deadLettersTotal, 0);
  });

  it('counts a stopped child\'s queued messages as dead letters without readopt, and reports them', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    sys.spawn('t', { ...counter('tenant', journal, 't'), init: (ctx) => { ctx.spawn('kid', counter('service', journal, 'kid')); return []; } });
    const kid = sys.find<Msg>('/root/t/kid')!;
    kid.tell({ type: 'hold', until: held });
    await tick();
    kid.tell({ type: 'add', n: 9 });
    await sys.restart('/root/t');
    release();
    const dead = events.filter((e) => e.type === 'dead-letters');
    assert.deepEqual(dead.map((e) => e.type === 'dead-letters' && [e.path, e.messages]), [['/root/t/kid', [{ type: 'add', n: 9 }]]]);
    assert.equal(sys.stats().deadLettersTotal, 1);
  });

  it('passivates an idle actor on the injected clock; the parent sees it go', async () => {
    const parent = sys.spawn<Msg>('p', {
      ...counter('parent', journal, 'p'),
      init: (ctx) => {
        ctx.spawn('idle', counter('service', journal, 'idle', { idleAfterMs: 1000 }));
        return [];
      },
    });
    const kid = sys.find<Msg>('/root/p/idle')!;
    clock.advance(600);
    kid.tell({ type: 'add', n: 7 });
    await sys.settled();
    clock.advance(999);
    assert.ok(sys.find('/root/p/idle'), 'activity at t=600 postpones passivation to t=1600');
    clock.advance(1);
    assert.equal(sys.find('/root/p/idle'), undefined);
    assert.deepEqual(journal.filter((j) => j.startsWith('stop:')), ['stop:idle:7'], 'onStop hands off the state');
    assert.deepEqual(events.filter((e) => e.type === 'passivated').map((e) => e.path), ['/root/p/idle']);
    assert.equal(sys.stats().passivationsTotal, 1);
    assert.deepEqual(sys.tree().children[0]!.children, []);
    // the parent lives on, running, and still answers through the ref it was spawned with
    assert.deepEqual(sys.tree().children.map((c) => [c.path, c.status]), [['/root/p', 'running']]);
    parent.tell({ type: 'add', n: 3 });
    assert.deepEqual(await get(sys, parent.path), [3]);
  });

  it('a ref follows its path to a re-spawned actor', async () => {
    const first = sys.spawn<Msg>('s', counter('service', journal, 's', { idleAfterMs: 10 }));
    clock.advance(10);
    assert.equal(sys.find('/root/s'), undefined);
    first.tell({ type: 'add', n: 1 });
    assert.equal(sys.stats().deadLettersTotal, 1, 'nobody lives at the path: a dead letter');
    sys.spawn<Msg>('s', counter('service', journal, 's'));
    first.tell({ type: 'add', n: 2 });
    assert.deepEqual(await first.ask<number[]>((reply) => ({ type: 'get', reply })), [2]);
  });

  it('stop runs onStop children before parents, later siblings first, then refuses work', async () => {
    sys.spawn<Msg>('a', {
      ...counter('x', journal, 'a'),
      init: (ctx) => {
        ctx.spawn('a1', counter('x', journal, 'a1'));
        ctx.spawn('a2', counter('x', journal, 'a2'));
        return [];
      },
    });
    sys.spawn<Msg>('b', counter('x', journal, 'b'));
    journal.length = 0;
    await sys.stop();
    assert.deepEqual(journal, ['stop:b:', 'stop:a2:', 'stop:a1:', 'stop:a:']);
    assert.throws(() => sys.spawn('c', counter('x', journal, 'c')), (e) => VigilError.is(e, 'UNAVAILABLE'));
    assert.equal(sys.stats().actorsAlive, 0);
    assert.equal(sys.tree().status, 'stopped');
  });

  it('refuses duplicate and malformed names; a failing init spawns nothing', () => {
    sys.spawn<Msg>('a', counter('x', journal, 'a'));
    assert.throws(() => sys.spawn('a', counter('x', journal, 'a')), (e) => VigilError.is(e, 'CONFLICT'));
    assert.throws(() => sys.spawn('a/b', counter('x', journal, 'ab')), (e) => VigilError.is(e, 'BAD_REQUEST'));
    assert.throws(() => sys.spawn('', counter('x', journal, 'e')), (e) => VigilError.is(e, 'BAD_REQUEST'));
    assert.throws(
      () => sys.spawn('bad', { ...counter('x', journal, 'bad'), init: () => { throw new Error('no config'); } }),
      (e) => VigilError.is(e, 'INTERNAL') && e.cause instanceof Error && e.cause.message === 'no config',
    );
    assert.equal(sys.find('/root/bad'), undefined);
    assert.deepEqual(sys.tree().children.map((c) => c.path), ['/root/a']);
  });

  it('ctx.log carries the actor path; ctx.rng is a stable stream per path', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const draws: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const s = createActorSystem({ clock: new VirtualClock(), rng: new SeededRng(99), log: pino({ level: 'info' }, sink) });
      if (run === 1) s.spawn('other', counter('x', [], 'other')); // spawn order must not matter
      s.spawn<Msg>('r', {
        kind: 'x',
        init: (ctx) => {
          ctx.log.info('hello');
          draws.push([ctx.rng.next(), ctx.rng.next()]);
          return [];
        },
        receive: (st) => st,
      });
      await s.stop();
    }
    assert.deepEqual(draws[0], draws[1]);
    assert.equal(JSON.parse(lines[0]!).actor, '/root/r');
  });
});
