// The pure supervision decisions: intensity window, backoff, strategy targets, Supervisor.
import assert from 'node:assert/strict';
import {
  RestartWindow, Supervisor, backoffDelay, flattenTree, renderTree, resolveBackoff, resolveSupervision, restartTargets,
  DEFAULT_RESTART_INTENSITY, DEFAULT_RESTART_PERIOD_MS, DEFAULT_BACKOFF,
} from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';
import type { ActorInfo } from '../actors/runtime/index.ts';

describe('supervision decisions (pure)', () => {
  describe('RestartWindow', () => {
    it('counts restarts inside the sliding period only', () => {
      const w = new RestartWindow(3, 1000);
      assert.equal(w.record(0), 1);
      assert.equal(w.record(400), 2);
      assert.equal(w.record(900), 3);
      assert.equal(w.record(1000), 3, 'the restart at t=0 left the window at t=1000');
      assert.equal(w.count(1901), 1);
    });

    it('is exceeded past the intensity, not at it', () => {
      const w = new RestartWindow(2, 5000);
      assert.equal(w.exceeded(w.record(0)), false);
      assert.equal(w.exceeded(w.record(1)), false);
      assert.equal(w.exceeded(w.record(2)), true);
    });
  });

  describe('backoff', () => {
    it('grows by the factor and stops at the cap', () => {
      const b = resolveBackoff({ initialMs: 10, factor: 3, maxMs: 200 });
      assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, b)), [10, 30, 90, 200, 200]);
    });

    it('fills defaults and rejects a shrinking factor', () => {
      assert.deepEqual(resolveBackoff({}), { ...DEFAULT_BACKOFF });
      assert.throws(() => resolveBackoff({ factor: 0.5 }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
      assert.throws(() => resolveBackoff({ initialMs: -1 }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
    });
  });

  describe('restartTargets', () => {
    const kids = ['a', 'b', 'c', 'd'];
    it('one_for_one restarts the crashed child only', () => assert.deepEqual(restartTargets('one_for_one', kids, 'b'), ['b']));
    it('one_for_all restarts every child in start order', () => assert.deepEqual(restartTargets('one_for_all', kids, 'c'), kids));
    it('rest_for_one restarts the crashed child and those started after it', () => {
      assert.deepEqual(restartTargets('rest_for_one', kids, 'b'), ['b', 'c', 'd']);
      assert.deepEqual(restartTargets('rest_for_one', kids, 'd'), ['d']);
    });
  });

  describe('Supervisor', () => {
    it('defaults to one_for_one, 3 in 5 s', () => {
      const p = resolveSupervision(undefined);
      assert.equal(p.strategy, 'one_for_one');
      assert.equal(p.intensity, DEFAULT_RESTART_INTENSITY);
      assert.equal(p.periodMs, DEFAULT_RESTART_PERIOD_MS);
      assert.equal(DEFAULT_RESTART_INTENSITY, 3);
      assert.equal(DEFAULT_RESTART_PERIOD_MS, 5000);
    });

    it('restarts with growing delays, then escalates when the intensity is exceeded', () => {
      const s = new Supervisor({ strategy: 'one_for_one', intensity: 3, periodMs: 5000, backoff: { initialMs: 50, factor: 2, maxMs: 5000 } });
      const kids = ['x'];
      const d = [0, 10, 20].map((t) => s.decide('x', t, kids));
      assert.deepEqual(d.map((x) => (x.action === 'restart' ? x.delayMs : -1)), [50, 100, 200]);
      assert.deepEqual(s.decide('x', 30, kids), { action: 'escalate', restartsInPeriod: 4 });
    });

    it('forgives restarts once they leave the period', () => {
      const s = new Supervisor({ strategy: 'one_for_one', intensity: 1, periodMs: 1000 });
      assert.equal(s.decide('x', 0, ['x']).action, 'restart');
      assert.equal(s.decide('x', 1500, ['x']).action, 'restart');
      assert.equal(s.decide('x', 1600, ['x']).action, 'escalate');
    });

    it('counts per child under one_for_one, per group under one_for_all', () => {
      const one = new Supervisor({ strategy: 'one_for_one', intensity: 1 });
      assert.equal(one.decide('a', 0, ['a', 'b']).action, 'restart');
      assert.equal(one.decide('b', 1, ['a', 'b']).action, 'restart', 'b has its own window');
      const all = new Supervisor({ strategy: 'one_for_all', intensity: 1 });
      assert.equal(all.decide('a', 0, ['a', 'b']).action, 'restart');
      assert.equal(all.decide('b', 1, ['a', 'b']).action, 'escalate', 'the group shares one window');
    });

    it('forget and reset clear the history', () => {
      const s = new Supervisor({ strategy: 'one_for_one', intensity: 0 });
      assert.equal(s.decide('a', 0, ['a']).action, 'escalate');
      s.reset();
      assert.equal(s.restartsInPeriod('a', 0), 0);
      const t = new Supervisor({ strategy: 'one_for_one', intensity: 1 });
      t.decide('a', 0, ['a']);
      t.forget('a');
      assert.equal(t.restartsInPeriod('a', 0), 0);
    });

    it('rejects nonsense options with CONFIG_INVALID', () => {
      assert.throws(() => new Supervisor({ strategy: 'one_for_one', intensity: -1 }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
      assert.throws(() => new Supervisor({ strategy: 'one_for_one', periodMs: 0 }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
      assert.throws(() => new Supervisor({ strategy: 'bogus' as 'one_for_one' }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
    });
  });

  describe('tree rendering', () => {
    const tree: ActorInfo = {
      path: '/root', kind: 'root', status: 'running', restarts: 0, mailbox: 0, children: [
        { path: '/root/tenants', kind: 'tenant-supervisor', status: 'running', restarts: 1, mailbox: 2, children: [
          { path: '/root/tenants/acme', kind: 'tenant', status: 'restarting', restarts: 4, mailbox: 7, children: [] },
        ] },
      ],
    };
    it('flattens depth-first with depths', () => {
      assert.deepEqual(flattenTree(tree).map((r) => [r.depth, r.path]), [[0, '/root'], [1, '/root/tenants'], [2, '/root/tenants/acme']]);
    });
    it('renders one indented line per actor with kind, status, restarts and mailbox', () => {
      const lines = renderTree(tree).split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[2]!, /^ {4}acme\s+tenant\s+restarting\s+restarts=4 mailbox=7$/);
    });
  });
});
