// What each stage does at each degradation level (issue 10), without a node: the rules of
// rule-based detection, ServiceDetection's verdict per level (the detectors learn at every
// level), Robust's model guarded by a shared ml_inference breaker (the node's) and held off by
// the level, the on-call/SRE notifier (a real local HTTP server; retries on a virtual clock),
// and the public status page.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeededRng, VirtualClock } from '../actors/runtime/index.ts';
import { RULES, RuleWindow, ServiceDetection, type MetricDetection } from '../actors/service/index.ts';
import { tierDetectors } from '../cluster/index.ts';
import { REQUEUE_MS, WebhookNotifier, alertAudiences, type AlertsNotice, type LevelNotice, type PostJson } from '../actors/notify/index.ts';
import { createRobust, ROBUST, type ModelRuntime } from '../actors/detection/robust/index.ts';
import { mulberry32, type AutoencoderTrainer, type AutoencoderWeights } from '../actors/detection/ml/index.ts';
import { CircuitBreaker, createBreaker, namedBreakerParams, type Level } from '../supervisors/index.ts';
import { statusPage, statusPageHtml } from '../api/status-page.ts';
import type { AnomalyEvent, SeriesInput } from '../protocols/index.ts';

const STEP = 60_000;

function noisy(n: number, seed: number, at: (i: number) => number = () => 50): Array<[number, number]> {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, (_, i): [number, number] => [i * STEP, at(i) + rng.normal()]);
}

describe('rule-based detection (actors/service/rules.ts)', () => {
  it('the robust z rule flags a spike once the window holds minFill samples, then stays quiet for a step', () => {
    const w = new RuleWindow();
    const values = noisy(200, 3).map(([, v]) => v);
    values[10] = 500; // inside the first minFill samples: not judged
    values[100] = 500;
    values.fill(120, 150); // a step: one hit, not one per sample
    const hits: number[] = [];
    values.forEach((v, i) => {
      if (w.judge(v, undefined, true)) hits.push(i);
    });
    assert.deepEqual(hits.filter((i) => i < 150), [100]);
    const after = hits.filter((i) => i >= 150);
    assert.equal(after[0], 150);
    assert.ok(after.length <= Math.ceil(50 / (RULES.quiet + 1)), `step hits: ${after.join(',')}`);
  });

  it('static limits hit with score 1 on either side; a direction keeps only its side', () => {
    const w = new RuleWindow();
    assert.deepEqual(w.judge(101, { above: 100 }, false), { rule: 'static_limit', direction: 'up', expected: 100, score: 1 });
    const down = new RuleWindow();
    assert.equal(down.judge(-1, { below: 0 }, false, 'up'), undefined, 'only rises count for this metric');
    assert.equal(down.judge(3, { above: 100, below: 0 }, false), undefined);
  });

  it('a constant window flags any other value; NaN is neither judged nor learnt', () => {
    const w = new RuleWindow();
    for (let i = 0; i < RULES.minFill; i++) w.learn(7);
    assert.equal(w.judge(NaN, undefined, true), undefined);
    const hit = w.judge(8, undefined, true);
    assert.equal(hit?.rule, 'robust_z');
    assert.equal(hit?.expected, 7);
    assert.ok(hit!.score >= 0.9 && hit!.score <= 1);
  });
});

describe('ServiceDetection per level', () => {
  const how: MetricDetection = { tier: 'basic', limit: { above: 1000 } };
  const input = (samples: Array<[number, number]>): SeriesInput => ({ service: 'db', metric: 'latency', samples });

  it('L0/L1: the tier decides; L2/L3: the rules; L4: the static limits alone', () => {
    const base = noisy(600, 7);
    base[400]![1] = 400; // a spike every level but L4 sees
    base[500]![1] = 5000; // past the static limit: every level sees it
    const found = (level: Level): number[] => {
      const sd = new ServiceDetection('acme', 'db', () => how, tierDetectors());
      const out: AnomalyEvent[] = [];
      sd.detect(input(base.slice(0, 300)), out, 0, 0); // warm at L0
      sd.detect(input(base.slice(300)), out, 0, level);
      return out.filter((e) => e.timestamp >= 300 * STEP).map((e) => e.timestamp / STEP);
    };
    for (const level of [0, 1, 2, 3] as Level[]) {
      const at = found(level);
      assert.ok(at.includes(400) && at.includes(500), `L${level}: ${at.join(',')}`);
    }
    assert.deepEqual(found(4), [500]);
  });

  it('detectors learn every sample at every level: back at L0 the state is as if it never left', () => {
    const samples = noisy(800, 11, (i) => 50 + 10 * Math.sin(i / 20));
    const a = new ServiceDetection('acme', 'db', () => how, tierDetectors());
    const b = new ServiceDetection('acme', 'db', () => how, tierDetectors());
    a.detect(input(samples.slice(0, 400)), [], 0, 0);
    b.detect(input(samples.slice(0, 400)), [], 0, 0);
    a.detect(input(samples.slice(400, 600)), [], 0, 3);
    b.detect(input(samples.slice(400, 600)), [], 0, 0);
    assert.deepEqual(a.snapshot(), b.snapshot());
    const outA: AnomalyEvent[] = [];
    const outB: AnomalyEvent[] = [];
    a.detect(input(samples.slice(600)), outA, 0, 0);
    b.detect(input(samples.slice(600)), outB, 0, 0);
    assert.deepEqual(outA, outB);
  });
});

/** A trainer with no tfjs: fixed small weights. */
const fixedTrainer: AutoencoderTrainer = {
  fit(_windows, width, seed): AutoencoderWeights {
    const random = mulberry32(seed);
    const w = (n: number): number[] => Array.from({ length: n }, () => (random() - 0.5) * 0.2);
    return { width, hidden: 2, w1: w(width * 2), b1: w(2), w2: w(2 * width), b2: w(width) };
  },
};

describe('Robust\'s model guard on the node\'s shared ml_inference breaker', () => {
  const values = noisy(ROBUST.modelFirstTrain + 40 * ROBUST.modelTimingEvery, 21, (i) => 100 + 20 * Math.sin(i / 40)).map(([, v]) => v);

  it('5 failed blocks open it for every detector sharing it; 30 s later two probes close it', () => {
    const clock = new VirtualClock(0);
    const breaker = new CircuitBreaker('ml_inference', namedBreakerParams('ml_inference'), clock);
    let broken = true;
    const calls = [0, 0];
    const runtime = (k: number): ModelRuntime => ({
      trainer: fixedTrainer,
      build: () => ({
        error: () => {
          calls[k]!++;
          if (broken) throw new Error('model runtime gone');
          return 0.1;
        },
      }),
    });
    const a = createRobust({}, { runtime: runtime(0), modelBreaker: breaker });
    const b = createRobust({}, { runtime: runtime(1), modelBreaker: breaker });
    let i = 0;
    const feed = (n: number): void => {
      for (const end = i + n; i < end; i++) {
        a.update(i * STEP, values[i]!);
        b.update(i * STEP, values[i]!);
      }
    };
    // from sample 512 both have a model; a failed block is one sample while the model throws
    feed(ROBUST.modelFirstTrain + 1);
    assert.equal(breaker.state, 'closed', 'four failed blocks (a, b, a, b) are not enough');
    feed(1);
    assert.equal(breaker.state, 'open', 'the fifth, from either detector, opens it for both');
    assert.equal(a.degradation, 'L1');
    assert.equal(b.degradation, 'L1');
    const before = calls[0]! + calls[1]!;
    feed(100);
    assert.equal(calls[0]! + calls[1]!, before, 'no model call while it is open');
    broken = false;
    clock.advance(30_000);
    assert.equal(breaker.state, 'halfOpen');
    feed(ROBUST.modelProbeCalls);
    assert.equal(breaker.state, 'closed', 'two probe blocks of 16 calls, one per detector');
    assert.equal(a.degradation, 'L0');
    assert.equal(b.modelHealth.breaker, 'closed');
    breaker.stop();
  });

  it('an operator forcing it open scores exactly like no model at all; the level holds the model off', () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('ml_inference', clock);
    let calls = 0;
    const runtime: ModelRuntime = { trainer: fixedTrainer, build: () => ({ error: () => (calls++, 0.01) }) };
    breaker.forceOpen();
    const forced = createRobust({}, { runtime, modelBreaker: breaker });
    const plain = createRobust({}, { runtime: {} });
    for (let i = 0; i < 2000; i++) assert.equal(forced.update(i * STEP, values[i]!), plain.update(i * STEP, values[i]!));
    assert.equal(calls, 0);
    assert.equal(forced.degradation, 'L1');
    breaker.reset();
    let level: Level = 1;
    const held = createRobust({}, { runtime, modelBreaker: breaker, modelAllowed: () => level === 0 });
    for (let i = 0; i < 1000; i++) held.update(i * STEP, values[i]!);
    assert.equal(calls, 0, 'at L1 (held by the level) the model is not called');
    assert.equal(held.degradation, 'L1');
    level = 0;
    for (let i = 1000; i < 1100; i++) held.update(i * STEP, values[i]!);
    assert.ok(calls > 0);
    assert.equal(held.degradation, 'L0');
    breaker.stop();
  });
});

describe('the on-call and SRE notifier (actors/notify)', () => {
  let server: Server;
  let url = '';
  const received: Array<{ path: string; key: string | undefined; body: AlertsNotice | LevelNotice }> = [];
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        received.push({ path: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(body) as AlertsNotice });
        res.writeHead(req.url === '/refuse' ? 400 : 204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => { received.length = 0; });

  const event = (i: number, score = 0.95): AnomalyEvent => ({
    id: `an_${i}`, tenant: 'acme', service: 'db', metric: 'latency', labels: {}, timestamp: i * STEP, value: 900, expected: 50,
    score, tier: 'basic', direction: 'up',
  });

  it('who hears alerts at each level: nobody below L3, the on-call at L3, both at L4', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((l) => alertAudiences(l as Level)), [[], [], [], ['on_call'], ['on_call', 'sre']]);
  });

  it('posts L3 alerts to the on-call, L4 alerts and the L4 notice to the SRE team too, over real HTTP', async () => {
    const clock = new VirtualClock(1_000);
    const n = new WebhookNotifier({ targets: { onCall: `${url}/oncall`, sre: `${url}/sre` }, clock, node: 'node-1', statusPage: () => `${url}/status` });
    n.passThrough([event(1), event(2, 1)], 3);
    n.levelChanged({ from: 3, to: 4, at: 1_000, cause: 'fault', down: ['tsdb', 'bus'] });
    n.passThrough([event(3)], 4);
    n.levelChanged({ from: 2, to: 1, at: 1_000, cause: 'recovery', down: [] }); // not the SRE team's business
    await n.drained();
    const oncall = received.filter((r) => r.path === '/oncall').map((r) => r.body as AlertsNotice);
    const sre = received.filter((r) => r.path === '/sre').map((r) => r.body);
    assert.equal(oncall.length, 2);
    const l3 = oncall.find((b) => b.level === 3)!;
    assert.equal(l3.detection, 'rule');
    assert.deepEqual(l3.alerts.map((a) => [a.id, a.severity]), [['an_1', 'warning'], ['an_2', 'critical']]);
    assert.deepEqual(sre.map((b) => b.type).sort(), ['alerts', 'level']);
    const notice = sre.find((b) => b.type === 'level') as LevelNotice;
    assert.deepEqual([notice.level, notice.levelName, notice.statusPage, notice.down], [4, 'emergency', `${url}/status`, ['tsdb', 'bus']]);
    assert.ok(received.every((r) => r.key === r.body.id), 'the notice id is the idempotency key');
    assert.equal(n.stats().delivered, 4);
    n.close();
  });

  it('retries a failing webhook on the external_webhook schedule, queues it while the breaker is open, drops a refusal', async () => {
    const clock = new VirtualClock(0);
    const breaker = createBreaker('external_integrations', clock, { lean: true });
    const attempts: number[] = [];
    let failUntil = 3;
    const post: PostJson = async (target) => {
      attempts.push(clock.now());
      if (target.endsWith('/refuse')) throw Object.assign(new Error('no'), { status: 400 });
      if (attempts.length <= failUntil) throw Object.assign(new Error('boom'), { status: 503 });
    };
    const n = new WebhookNotifier({ targets: { onCall: 'http://on-call.invalid/hook' }, clock, breaker, post, node: 'n', statusPage: () => '' });
    n.passThrough([event(1)], 3);
    const settle = async (): Promise<void> => {
      for (let k = 0; k < 50; k++) {
        await new Promise((r) => setImmediate(r));
        const next = clock.nextTimerAt();
        if (next === undefined) return;
        clock.advanceTo(next);
      }
    };
    await settle();
    await n.drained();
    assert.deepEqual(attempts, [0, 5_000, 15_000, 35_000], '5, 10, 20 s apart (no rng: no jitter)');
    assert.equal(n.stats().delivered, 1);

    // 10 failures in a row open the breaker: the notice goes back to the queue, not lost
    attempts.length = 0;
    failUntil = Infinity;
    breaker.trip();
    n.passThrough([event(2)], 3);
    await new Promise((r) => setImmediate(r));
    assert.equal(attempts.length, 0, 'refused by the open circuit without a call');
    assert.equal(n.stats().requeued, 1);
    assert.equal(n.stats().queued, 1);
    failUntil = 0;
    breaker.reset();
    clock.advance(REQUEUE_MS);
    await settle();
    await n.drained();
    assert.equal(n.stats().delivered, 2);
    n.close();

    const refusing = new WebhookNotifier({ targets: { onCall: 'http://x.invalid/refuse' }, clock, post, node: 'n', statusPage: () => '' });
    refusing.passThrough([event(3)], 3);
    await refusing.drained();
    assert.equal(refusing.stats().refused, 1);
    assert.equal(refusing.stats().queued, 0);
  });
});

describe('the public status page', () => {
  it('says the level and what it means, and is a status page at L4', () => {
    const p = statusPage({ level: 4, since: 0 });
    assert.deepEqual([p.level, p.levelName, p.statusPage], [4, 'emergency', true]);
    assert.match(p.message, /SRE team/);
    assert.equal(statusPage({ level: 0, since: 0 }).statusPage, false);
    assert.match(statusPageHtml(p), /<h1[^>]*>L4 · emergency<\/h1>/);
  });
});
