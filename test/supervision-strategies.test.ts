// Supervision hosted by the runtime: the three strategies, backoff on the injected clock,
// messages kept across a restart, escalation, and the root giving up.
import assert from 'node:assert/strict';
import pino from 'pino';
import {
  createActorSystem, SeededRng, VirtualClock,
  type ActorSystem, type ActorSystemOptions, type Behavior, type RuntimeEvent, type SupervisionOptions,
} from '../actors/runtime/index.ts';
import { VigilError } from '../protocols/index.ts';

type Msg =
  | { type: 'add'; n: number }
  | { type: 'poison' }
  | { type: 'reject' }
  | { type: 'get'; reply: (s: number[]) => void };

const silent = pino({ level: 'silent' });

function worker(journal: string[], name: string): Behavior<Msg, number[]> {
  return {
    kind: 'worker',
    init: () => {
      journal.push(name);
      return [];
    },
    receive(s, m) {
      switch (m.type) {
        case 'add': return [...s, m.n];
        case 'poison': throw new Error(`poisoned ${name}`);
        case 'reject': return Promise.reject(new Error(`rejected ${name}`));
        case 'get': m.reply(s); return s;
      }
    },
  };
}

/** A supervisor whose init starts `kids` in order under `supervision`. */
function team(journal: string[], supervision: SupervisionOptions, kids: string[]): Behavior<Msg, number[]> {
  return {
    kind: 'team',
    supervision,
    init: (ctx) => {
      journal.push('team');
      for (const k of kids) ctx.spawn(k, worker(journal, k));
      return [];
    },
    receive: (s, m) => {
      if (m.type === 'get') m.reply(s);
      if (m.type === 'poison') throw new Error('team poisoned');
      return s;
    },
  };
}

describe('supervision over the runtime', () => {
  let clock: VirtualClock;
  let sys: ActorSystem;
  let events: RuntimeEvent[];
  let journal: string[];

  const boot = (extra: Partial<ActorSystemOptions> = {}): void => {
    clock = new VirtualClock(0);
    sys = createActorSystem({ clock, rng: new SeededRng(3), log: silent, ...extra });
    events = [];
    journal = [];
    sys.onEvent((e) => events.push(e));
  };
  const tell = (path: string, m: Msg): void => sys.find<Msg>(path)!.tell(m);
  const state = (path: string): Promise<number[]> => sys.find<Msg>(path)!.ask<number[]>((reply) => ({ type: 'get', reply }));
  const fill = async (kids: string[]): Promise<void> => {
    for (const k of kids) tell(`/root/team/${k}`, { type: 'add', n: 1 });
    await sys.settled();
  };
  const states = async (kids: string[]): Promise<number[][]> => Promise.all(kids.map((k) => state(`/root/team/${k}`)));

  afterEach(() => sys.stop());

  const kids = ['a', 'b', 'c'];
  const fast = { initialMs: 10, factor: 2, maxMs: 1000 };

  it('one_for_one restarts only the crashed child', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one', backoff: fast }, kids));
    await fill(kids);
    journal.length = 0;
    tell('/root/team/b', { type: 'poison' });
    await sys.settled();
    assert.equal(sys.tree().children[0]!.children[1]!.status, 'restarting');
    clock.advance(10);
    assert.deepEqual(journal, ['b']);
    assert.deepEqual(await states(kids), [[1], [], [1]]);
    assert.deepEqual(sys.tree().children[0]!.children.map((c) => c.restarts), [0, 1, 0]);
  });

  it('one_for_all restarts every sibling', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_all', backoff: fast }, kids));
    await fill(kids);
    journal.length = 0;
    tell('/root/team/b', { type: 'poison' });
    await sys.settled();
    clock.advance(10);
    assert.deepEqual(journal, ['a', 'b', 'c'], 'restarted in start order');
    assert.deepEqual(await states(kids), [[], [], []]);
    const restarted = events.filter((e) => e.type === 'restarted');
    assert.deepEqual(restarted.map((e) => e.type === 'restarted' && [e.path, e.reason]),
      [['/root/team/a', 'sibling'], ['/root/team/b', 'crash'], ['/root/team/c', 'sibling']]);
  });

  it('rest_for_one restarts the crashed child and those started after it', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'rest_for_one', backoff: fast }, kids));
    await fill(kids);
    journal.length = 0;
    tell('/root/team/b', { type: 'poison' });
    await sys.settled();
    clock.advance(10);
    assert.deepEqual(journal, ['b', 'c']);
    assert.deepEqual(await states(kids), [[1], [], []]);
  });

  it('keeps messages queued behind the poison one and those told during the backoff, in order', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one', backoff: { initialMs: 100 } }, ['w']));
    const w = '/root/team/w';
    tell(w, { type: 'add', n: 1 });
    tell(w, { type: 'poison' });
    tell(w, { type: 'add', n: 2 });
    tell(w, { type: 'add', n: 3 });
    await sys.settled();
    tell(w, { type: 'add', n: 4 }); // during the backoff
    await sys.settled();
    assert.equal(sys.tree().children[0]!.children[0]!.mailbox, 3);
    clock.advance(99);
    assert.equal(sys.tree().children[0]!.children[0]!.status, 'restarting', 'not before the backoff');
    tell(w, { type: 'add', n: 5 }); // still in nact's mailbox when the restart happens
    clock.advance(1);
    tell(w, { type: 'add', n: 6 }); // after the restart, behind the kept ones
    assert.deepEqual(await state(w), [2, 3, 4, 5, 6], 'the crashing message is dropped, the rest kept in order');
    assert.equal(sys.stats().deadLettersTotal, 0);
  });

  it('a rejected promise from receive is a crash too', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one', backoff: { initialMs: 0 } }, ['w']));
    tell('/root/team/w', { type: 'add', n: 1 });
    tell('/root/team/w', { type: 'reject' });
    tell('/root/team/w', { type: 'add', n: 2 });
    assert.deepEqual(await state('/root/team/w'), [2]);
    const crash = events.find((e) => e.type === 'crashed');
    assert.ok(crash?.type === 'crashed' && crash.error.message === 'rejected w');
  });

  it('backoff delays grow by the factor and are capped, on the injected clock', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one', intensity: 10, periodMs: 60_000, backoff: { initialMs: 10, factor: 2, maxMs: 50 } }, ['w']));
    const w = '/root/team/w';
    const expected = [10, 20, 40, 50, 50];
    for (const delay of expected) {
      tell(w, { type: 'poison' });
      await sys.settled();
      clock.advance(delay - 1);
      assert.equal(sys.tree().children[0]!.children[0]!.status, 'restarting', `still waiting at ${delay - 1} of ${delay} ms`);
      clock.advance(1);
      assert.equal(sys.tree().children[0]!.children[0]!.status, 'running');
    }
    assert.deepEqual(events.flatMap((e) => (e.type === 'restarted' ? [e.delayMs] : [])), expected);
    assert.equal(sys.stats().restartsTotal, 5);
  });

  it('exceeding the intensity escalates: the parent restarts with a fresh subtree', async () => {
    boot({ supervision: { strategy: 'one_for_one', backoff: fast } });
    sys.spawn('team', team(journal, { strategy: 'one_for_one', intensity: 1, periodMs: 5000, backoff: fast }, ['a', 'b']));
    await fill(['a', 'b']);
    journal.length = 0;
    tell('/root/team/a', { type: 'poison' });
    await sys.settled();
    clock.advance(10);
    tell('/root/team/a', { type: 'poison' }); // second within the period: more than 1
    await sys.settled();
    const escalated = events.filter((e) => e.type === 'escalated');
    assert.deepEqual(escalated.map((e) => e.path), ['/root/team']);
    assert.ok(escalated[0]?.type === 'escalated' && VigilError.is(escalated[0].error, 'INTERNAL'));
    assert.equal(sys.tree().children[0]!.status, 'restarting');
    assert.deepEqual(sys.tree().children[0]!.children, [], 'the subtree is down while the team waits');
    clock.advance(10);
    assert.deepEqual(journal, ['a', 'team', 'a', 'b']);
    assert.deepEqual(await states(['a', 'b']), [[], []]);
    assert.equal(sys.tree().children[0]!.restarts, 1);
    assert.equal(sys.stats().escalationsTotal, 1);
  });

  it('at the root, exceeding the intensity calls onRootFailure', async () => {
    const failures: Error[] = [];
    boot({ supervision: { strategy: 'one_for_one', intensity: 0 }, onRootFailure: (err) => failures.push(err) });
    sys.spawn('team', team(journal, { strategy: 'one_for_one' }, []));
    tell('/root/team', { type: 'poison' });
    await sys.settled();
    assert.equal(failures.length, 1);
    assert.ok(VigilError.is(failures[0], 'INTERNAL'));
    assert.equal((failures[0]!.cause as Error).message, 'team poisoned');
    assert.deepEqual(events.filter((e) => e.type === 'escalated').map((e) => e.path), ['/root']);
    assert.equal(sys.tree().status, 'failed');
    assert.equal(sys.tree().children[0]!.status, 'failed');
  });

  it('without onRootFailure the root stops the system', async () => {
    boot({ supervision: { strategy: 'one_for_one', intensity: 0 } });
    sys.spawn('w', worker(journal, 'w'));
    tell('/root/w', { type: 'poison' });
    await sys.settled();
    assert.equal(sys.stats().actorsAlive, 0);
    assert.throws(() => sys.spawn('x', worker(journal, 'x')), (e) => VigilError.is(e, 'UNAVAILABLE'));
  });

  it('a poisoned service restarts while its siblings keep ingesting', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one', intensity: 100, backoff: { initialMs: 10, factor: 1 } }, ['sick', 'well']));
    for (let i = 0; i < 20; i++) {
      tell('/root/team/well', { type: 'add', n: i });
      tell('/root/team/sick', i % 5 === 0 ? { type: 'poison' } : { type: 'add', n: i });
      await sys.settled();
      clock.advance(10);
    }
    assert.equal((await state('/root/team/well')).length, 20);
    assert.deepEqual(await state('/root/team/sick'), [16, 17, 18, 19]);
    assert.equal(sys.tree().children[0]!.children[0]!.restarts, 4);
  });

  it('ignores the late result of a sibling that was mid-message when it restarted', async () => {
    boot();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Behavior<Msg, number[]> = {
      kind: 'worker',
      init: () => [],
      async receive(st, m) {
        if (m.type === 'get') { m.reply(st); return st; }
        if (m.type === 'add' && m.n === 99) { await gate; return [...st, 99]; }
        return m.type === 'add' ? [...st, m.n] : st;
      },
    };
    sys.spawn('team', {
      kind: 'team',
      supervision: { strategy: 'one_for_all', backoff: { initialMs: 0 } },
      init: (ctx) => {
        ctx.spawn<Msg>('slow', slow);
        ctx.spawn('b', worker(journal, 'b'));
        return [];
      },
      receive: (st) => st,
    });
    tell('/root/team/slow', { type: 'add', n: 99 }); // held mid-message
    await new Promise((r) => setImmediate(r));
    tell('/root/team/b', { type: 'poison' }); // restarts 'slow' too, now
    tell('/root/team/slow', { type: 'add', n: 1 });
    await new Promise((r) => setImmediate(r));
    release();
    assert.deepEqual(await state('/root/team/slow'), [1], 'the stale incarnation\'s 99 is not kept');
  });

  it('a ref held across its parent\'s restart reaches the rebuilt child', async () => {
    boot();
    sys.spawn('team', team(journal, { strategy: 'one_for_one' }, ['a']));
    const a = sys.find<Msg>('/root/team/a')!;
    a.tell({ type: 'add', n: 1 });
    await sys.restart('/root/team');
    a.tell({ type: 'add', n: 2 });
    assert.deepEqual(await a.ask<number[]>((reply) => ({ type: 'get', reply })), [2]);
  });

  it('replays the same lifecycle on the same seed and virtual clock', async () => {
    const runOnce = async (): Promise<string[]> => {
      boot({ supervision: { strategy: 'one_for_one', backoff: fast } });
      sys.spawn('team', team(journal, { strategy: 'rest_for_one', intensity: 2, backoff: fast }, kids));
      for (let i = 0; i < 6; i++) {
        tell(`/root/team/${kids[i % 3]}`, i % 2 === 0 ? { type: 'poison' } : { type: 'add', n: i });
        await sys.settled();
        clock.advance(15);
      }
      await sys.stop();
      return events.map((e) => `${e.type} ${e.path}${e.type === 'restarted' ? ` ${e.delayMs} ${e.reason}` : ''}`);
    };
    const first = await runOnce();
    const second = await runOnce();
    assert.deepEqual(second, first);
    assert.ok(first.some((l) => l.startsWith('escalated /root/team')), 'the scenario reaches an escalation');
  });
});
