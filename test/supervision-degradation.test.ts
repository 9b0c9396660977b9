// The degradation controller: faults to levels, hysteresis on a VirtualClock, the operator
// override and its expiry, and the capability table every stage reads.
import assert from 'node:assert/strict';
import { VirtualClock } from '../actors/runtime/index.ts';
import {
  BreakerRegistry, CAPABILITIES, DEPENDENCIES, DegradationController, LEVELS, levelFor, parseLevel,
  type Dependency, type Level, type LevelChange, type StageCapabilities,
} from '../supervisors/index.ts';
import { VigilError } from '../protocols/index.ts';

const down = (...deps: Dependency[]): { health: Partial<Record<Dependency, boolean>> } =>
  ({ health: Object.fromEntries(DEPENDENCIES.map((d) => [d, !deps.includes(d)])) });

describe('degradation', () => {
  describe('mapping from faults to levels', () => {
    it('follows the design for the named faults', () => {
      const cases: Array<[Dependency[], Level]> = [
        [[], 0],
        [['model'], 1],
        [['model', 'graph'], 2],
        [['tsdb'], 3],
        [['tsdb', 'bus'], 4],
        [['cache'], 0],
        [['graph'], 0],
        [['webhook'], 0],
        [['bus'], 3],
        [['model', 'graph', 'cache', 'webhook'], 2],
        [['model', 'tsdb'], 3],
        [['model', 'graph', 'tsdb', 'bus', 'cache', 'webhook'], 4],
      ];
      for (const [deps, level] of cases) assert.equal(levelFor(new Set(deps)), level, deps.join('+') || 'nothing');
    });

    it('one more failure never makes the level better (all 64 combinations)', () => {
      for (let mask = 0; mask < 1 << DEPENDENCIES.length; mask++) {
        const set = new Set(DEPENDENCIES.filter((_, i) => mask & (1 << i)));
        for (const extra of DEPENDENCIES) {
          assert.ok(levelFor(new Set([...set, extra])) >= levelFor(set), `${[...set].join('+')} plus ${extra}`);
        }
      }
    });

    it('reads breaker states: open, forcedOpen and halfOpen count as down; disabled and unknown names do not', () => {
      const clock = new VirtualClock();
      const c = new DegradationController({ clock, dwellMs: 0 });
      const reg = new BreakerRegistry(clock);
      reg.create('ml_inference/acme/checkout', 'ml_inference', { lean: true });
      reg.create('graph_db', 'graph_db');
      reg.create('something_else', 'graph_db');
      reg.command('something_else', 'open');
      assert.equal(c.observe({ breakers: reg.states() }), undefined);
      reg.command('ml_inference/acme/checkout', 'open');
      assert.equal(c.observe({ breakers: reg.states() })?.to, 1);
      reg.get('graph_db')!.trip();
      assert.deepEqual(c.observe({ breakers: reg.states() }), { from: 1, to: 2, at: 0, cause: 'fault', down: ['model', 'graph'] });
      clock.advance(60_000);
      assert.equal(reg.states().graph_db, 'halfOpen');
      assert.equal(c.observe({ breakers: reg.states() }), undefined, 'half-open is not yet up');
      reg.command('graph_db', 'disable');
      reg.command('ml_inference/acme/checkout', 'disable');
      assert.equal(c.observe({ breakers: reg.states() })?.to, 0);
      reg.stop();
    });
  });

  describe('hysteresis on a virtual clock', () => {
    it('steps down at once, up only after the better level held for the dwell time', () => {
      const clock = new VirtualClock();
      const c = new DegradationController({ clock, dwellMs: 30_000 });
      const changes: LevelChange[] = [];
      c.onChange((ch) => changes.push(ch));
      c.observe(down('tsdb', 'model'));
      assert.equal(c.level, 3);
      clock.advance(5_000);
      c.observe(down('model')); // the store is back; the model is not
      assert.equal(c.level, 3, 'not before the dwell');
      assert.equal(c.nextChangeAt(), 35_000);
      clock.advance(29_999);
      assert.equal(c.tick(), undefined);
      clock.advance(1);
      assert.equal(c.tick()?.to, 1, 'to the level that held, not past it');
      c.observe(down());
      assert.equal(c.nextChangeAt(), 65_000);
      clock.advanceTo(65_000);
      c.tick();
      assert.deepEqual(changes.map((ch) => [ch.from, ch.to, ch.at, ch.cause]), [
        [0, 3, 0, 'fault'], [3, 1, 35_000, 'recovery'], [1, 0, 65_000, 'recovery'],
      ]);
      assert.equal(c.nextChangeAt(), undefined);
    });

    it('a flapping store keeps the level down until it is steady', () => {
      const clock = new VirtualClock();
      const c = new DegradationController({ clock, dwellMs: 10_000 });
      let changes = 0;
      c.onChange(() => changes++);
      for (let i = 0; i < 20; i++) {
        c.observe(i % 2 === 0 ? down('tsdb') : down());
        clock.advance(4_000);
        c.tick();
      }
      assert.equal(c.level, 3);
      assert.equal(changes, 1, 'one step down, no flapping');
      clock.advance(6_000);
      c.tick();
      assert.equal(c.level, 0);
      assert.equal(changes, 2);
    });

    it('a worse fault during a recovery restarts the wait', () => {
      const clock = new VirtualClock();
      const c = new DegradationController({ clock, dwellMs: 10_000 });
      c.observe(down('model'));
      c.observe(down());
      clock.advance(9_000);
      c.observe(down('model'));
      clock.advance(2_000);
      c.observe(down());
      clock.advance(9_999);
      c.tick();
      assert.equal(c.level, 1);
      clock.advance(1);
      c.tick();
      assert.equal(c.level, 0);
    });
  });

  describe('operator override', () => {
    it('holds at least the given level until it expires, then the derived level applies', () => {
      const clock = new VirtualClock();
      const c = new DegradationController({ clock, dwellMs: 1_000 });
      const changes: LevelChange[] = [];
      c.onChange((ch) => changes.push(ch));
      c.override(2, 600_000); // degrade --level 2 --for 10m
      assert.equal(c.level, 2);
      c.observe(down('tsdb'));
      assert.equal(c.level, 3, 'a worse fault still shows');
      clock.advance(5_000);
      c.observe(down());
      clock.advance(1_000);
      c.tick();
      assert.equal(c.level, 2, 'the fault is over, the override is not');
      assert.deepEqual(c.status(), { level: 2, derived: 0, raw: 0, down: [], override: { level: 2, until: 600_000 } });
      assert.equal(c.nextChangeAt(), 600_000);
      clock.advanceTo(599_999);
      c.tick();
      assert.equal(c.level, 2);
      clock.advance(1);
      c.tick();
      assert.equal(c.level, 0);
      assert.deepEqual(changes.map((ch) => [ch.to, ch.cause]), [[2, 'override'], [3, 'fault'], [2, 'recovery'], [0, 'override_expired']]);
      c.override(4, 60_000);
      assert.equal(c.clearOverride()?.cause, 'override_cleared');
      assert.equal(c.level, 0);
      assert.equal(c.clearOverride(), undefined);
    });

    it('refuses a bad level, duration or dependency name with BAD_REQUEST', () => {
      const c = new DegradationController({ clock: new VirtualClock() });
      assert.throws(() => c.override(5 as Level, 1_000), (e) => VigilError.is(e, 'BAD_REQUEST'));
      assert.throws(() => c.override(1, 0), (e) => VigilError.is(e, 'BAD_REQUEST'));
      assert.throws(() => c.override(1, Infinity), (e) => VigilError.is(e, 'BAD_REQUEST'));
      assert.deepEqual(['L3', '0', 4, 'l2'].map(parseLevel), [3, 0, 4, 2]);
      for (const bad of ['L5', '1.5', -1, 'high', null]) assert.throws(() => parseLevel(bad), (e) => VigilError.is(e, 'BAD_REQUEST'), String(bad));
      assert.throws(() => new DegradationController({ clock: new VirtualClock(), dwellMs: -1 }), (e) => VigilError.is(e, 'CONFIG_INVALID'));
      assert.throws(() => c.observe({ health: { tsdb_store: false } as Partial<Record<Dependency, boolean>> }), (e) => VigilError.is(e, 'BAD_REQUEST') && /tsdb_store/.test(e.message));
    });
  });

  describe('capability table', () => {
    // Each field's values from most to least capable: a higher level may only stay or get worse.
    const RANK: { [K in keyof StageCapabilities]: ReadonlyArray<StageCapabilities[K]> } = {
      detection: ['ml', 'statistical', 'rule', 'static'],
      rca: ['causal', 'correlation', 'rule', 'none'],
      correlation: ['topology', 'time', 'none'],
      runbooks: ['automatic', 'suggested', 'none'],
      alerting: ['incidents', 'pass_through', 'static_fallback'],
      notify: ['routing', 'on_call', 'sre_team'],
      statusPage: [false, true],
    };

    it('never gets more capable as the level rises, and each level changes something', () => {
      for (const level of LEVELS.slice(1)) {
        const prev = CAPABILITIES[(level - 1) as Level];
        const cur = CAPABILITIES[level];
        let changed = false;
        for (const key of Object.keys(RANK) as Array<keyof StageCapabilities>) {
          const order = RANK[key] as readonly unknown[];
          const a = order.indexOf(prev[key]);
          const b = order.indexOf(cur[key]);
          assert.ok(a >= 0 && b >= 0, `L${level} ${key}: unknown value`);
          assert.ok(b >= a, `L${level} ${key}: ${String(cur[key])} is better than L${level - 1}'s ${String(prev[key])}`);
          changed ||= b > a;
        }
        assert.ok(changed, `L${level} is the same as L${level - 1}`);
      }
    });
  });
});
