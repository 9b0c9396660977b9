// Runbook runs end to end below the API: the automation's actors on a virtual clock, sending
// to a real local HTTP server. Success; retries on the design's exact schedule; the breaker
// opening after repeated failures and the queued runs draining once it recovers; the approval
// gate; dry runs; destinations outside the allow-list (and names of internal hosts) refused;
// suggestion only at L2; a tenant's unfinished runs bounded without holding another tenant's.
import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createActorSystem, VirtualClock, type ActorSystem, type TimerHandle } from '../actors/runtime/index.ts';
import {
  MemoryRunbooks, RUNBOOK_AUDIT, RunStore, RunbookAutomation, RunbookInvalid, UNFINISHED_RETRY_AFTER_S, httpSender, type Resolve,
  type AutomationOptions,
  type AuditNote, type DestinationPolicy,
} from '../actors/automation/index.ts';
import type { Incident, LiveEvent, RunbookRun } from '../protocols/index.ts';
import { QuotaError, VigilError } from '../protocols/index.ts';
import type { Level } from '../supervisors/index.ts';

interface Hit {
  at: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers with `answer()` and records every request with the virtual time it came at. */
class Receiver {
  readonly hits: Hit[] = [];
  answer: (hit: Hit) => { status: number; body?: unknown } = () => ({ status: 200, body: { ok: true } });
  private server!: Server;
  port = 0;

  constructor(private readonly clock: VirtualClock) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const hit: Hit = { at: this.clock.now(), method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
        this.hits.push(hit);
        const a = this.answer(hit);
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body === undefined ? '' : JSON.stringify(a.body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path = '/hooks/'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A virtual clock that can say when each of its pending timers is due. */
class WatchedClock extends VirtualClock {
  private readonly due = new Map<TimerHandle, number>();

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    const at = this.now() + Math.max(0, ms || 0);
    const h: TimerHandle = super.setTimeout(() => {
      this.due.delete(h);
      fn();
    }, ms);
    this.due.set(h, at);
    return h;
  }

  override clearTimeout(handle: TimerHandle): void {
    this.due.delete(handle);
    super.clearTimeout(handle);
  }

  /** Due times of the pending timers, soonest first. */
  dueTimes(): number[] {
    return [...this.due.values()].sort((a, b) => a - b);
  }
}

/** Waits (real time) until `cond` holds, letting I/O and actors run. */
async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Rig {
  clock: WatchedClock;
  system: ActorSystem;
  auto: RunbookAutomation;
  receiver: Receiver;
  audit: AuditNote[];
  events: Array<{ tenant: string; event: LiveEvent }>;
  allow: Record<string, string[]>;
  level: { value: Level };
  stop(): Promise<void>;
}

/** A host name only the rig's resolver knows: it answers with an internal address, as a DNS record pointed inward would. */
const INTERNAL_NAME = 'hooks.internal.vigil.test';
const rigResolver: Resolve = (host, options, callback) => {
  if (host === INTERNAL_NAME) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else dnsLookup(host, options, callback);
};

async function rig(bound: Pick<AutomationOptions, 'maxUnfinishedRuns' | 'tenantMaxUnfinishedRuns'> = {}): Promise<Rig> {
  const clock = new WatchedClock(1_700_000_000_000);
  const log = pino({ level: 'silent' });
  const system = createActorSystem({ name: 'automation-test', clock, log });
  const receiver = new Receiver(clock);
  await receiver.start();
  const audit: AuditNote[] = [];
  const events: Array<{ tenant: string; event: LiveEvent }> = [];
  const allow: Record<string, string[]> = { acme: [receiver.url('/hooks')], globex: [] };
  const destinations: DestinationPolicy = { allowed: (t) => allow[t] ?? [] };
  const level = { value: 0 as Level };
  const auto = new RunbookAutomation({
    system, clock, runbooks: new MemoryRunbooks(), runs: RunStore.memory(), destinations, log, send: httpSender(rigResolver),
    audit: async (n) => { audit.push(n); },
    publish: (tenant, event) => events.push({ tenant, event }),
    level: () => level.value,
    knownTenant: (t) => t === 'acme' || t === 'globex',
    ...bound,
  });
  return {
    clock, system, auto, receiver, audit, events, allow, level,
    async stop() {
      await auto.stop();
      await system.stop();
      await receiver.close();
    },
  };
}

let incidents = 0;
function incident(over: Partial<Incident> = {}): Incident {
  incidents++;
  return {
    id: `inc_${incidents}`, tenant: 'acme', status: 'open', title: 'db: latency_ms anomalous (up)', services: ['db'], alertIds: ['a1'],
    openedAt: 1, updatedAt: 1, peakScore: 0.995, ...over,
  };
}

const runOf = (r: Rig, incidentId: string): RunbookRun | undefined => r.auto.runs('acme', { incident: incidentId, limit: 10 }).items[0];

async function put(r: Rig, id: string, steps: string, extra = ''): Promise<void> {
  await r.auto.putRunbook('acme', id, { yaml: `trigger: { services: db }\n${extra}steps:\n${steps}` }, 'admin');
}

describe('runbook runs against a real HTTP receiver', function () {
  this.timeout(60_000);
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => {
    await r.stop();
  });

  it('a matching incident runs the runbook: the request goes out, every step is recorded, audited and streamed', async () => {
    await put(r, 'diagnose', [
      '  - id: diag',
      `    webhook: { url: "${r.receiver.url('/hooks/diag')}?incident={{incident.id}}", headers: { Authorization: "Bearer t0ken" }, body: { incident: "{{incident.id}}", services: "{{incident.services}}" } }`,
      '  - notify: "diagnosed {{incident.id}}: {{steps.diag.body.ok}}"',
    ].join('\n') + '\n');
    const inc = incident();
    r.auto.incident(inc);
    await until('the run to end', () => runOf(r, inc.id)?.status === 'succeeded');
    const run = runOf(r, inc.id)!;
    assert.equal(r.receiver.hits.length, 1);
    const hit = r.receiver.hits[0]!;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.url, `/hooks/diag?incident=${inc.id}`);
    assert.deepEqual(JSON.parse(hit.body), { incident: inc.id, services: ['db'] });
    assert.equal(hit.headers.authorization, 'Bearer t0ken');
    assert.equal(hit.headers['idempotency-key'], `${run.id}.0`);
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.deepEqual(run.steps.map((s) => [s.id, s.status]), [['diag', 'succeeded'], ['step-2', 'succeeded']]);
    assert.deepEqual(run.steps[0]!.response, { status: 200, body: { ok: true } });
    assert.equal(run.steps[1]!.message, `diagnosed ${inc.id}: true`);
    assert.equal(run.startedBy, 'trigger');

    await until('the audit entries', () => r.audit.some((a) => a.action === RUNBOOK_AUDIT.end));
    assert.deepEqual(r.audit.map((a) => a.action), [RUNBOOK_AUDIT.create, RUNBOOK_AUDIT.start, RUNBOOK_AUDIT.step, RUNBOOK_AUDIT.step, RUNBOOK_AUDIT.end]);
    assert.ok(r.audit.slice(1).every((a) => a.tenant === 'acme' && a.target === run.id));
    const streamed = r.events.filter((e) => e.event.type === 'runbook_run');
    assert.ok(streamed.length >= 2 && streamed.every((e) => e.tenant === 'acme'));
    assert.equal((streamed.at(-1)!.event.data as RunbookRun).status, 'succeeded');

    r.auto.incident({ ...inc, updatedAt: 2, alertIds: ['a1', 'a2'] });
    r.auto.incident({ ...inc, updatedAt: 3 });
    await r.system.settled();
    assert.equal(r.auto.runs('acme', { limit: 10 }).items.length, 1, 'one run per runbook and incident, whatever the updates');
    assert.equal(r.receiver.hits.length, 1);
    assert.equal(r.auto.run('globex', run.id), undefined, 'another tenant does not see it');
  });

  it('retries a failing webhook on the design schedule: attempts at 0, 5, 15, 35, 75 and 155 s', async () => {
    let n = 0;
    r.receiver.answer = () => (++n < 6 ? { status: 503, body: { busy: true } } : { status: 200 });
    await put(r, 'flaky', `  - webhook: { url: "${r.receiver.url('/hooks/flaky')}" }\n`);
    const t0 = r.clock.now();
    const inc = incident();
    r.auto.incident(inc);
    for (let attempt = 1; attempt <= 6; attempt++) {
      await until(`attempt ${attempt}`, () => r.receiver.hits.length === attempt);
      if (attempt < 6) {
        // the answer is handled once the attempt's 30 s timeout is gone and the retry's wait is set
        const sent = r.receiver.hits[attempt - 1]!.at;
        await until('the retry timer', () => r.clock.dueTimes().length === 1 && r.clock.dueTimes()[0] !== sent + 30_000);
        r.clock.advanceTo(r.clock.dueTimes()[0]!);
      }
    }
    await until('the run to end', () => runOf(r, inc.id)?.status === 'succeeded');
    assert.deepEqual(r.receiver.hits.map((h) => (h.at - t0) / 1000), [0, 5, 15, 35, 75, 155]);
    const run = runOf(r, inc.id)!;
    assert.equal(run.steps[0]!.attempts, 6);
    assert.equal(run.steps[0]!.status, 'succeeded');
    assert.ok(new Set(r.receiver.hits.map((h) => h.headers['idempotency-key'])).size === 1, 'one idempotency key for every attempt');
  });

  it('repeated failures open the breaker; runs queue behind it and drain once it recovers', async () => {
    let up = false;
    r.receiver.answer = () => (up ? { status: 200 } : { status: 500 });
    await put(r, 'hook', `  - webhook: { url: "${r.receiver.url('/hooks/h')}" }\n`);
    const t0 = r.clock.now();
    const a = incident();
    const b = incident();
    r.auto.incident(a);
    r.auto.incident(b);
    // two runs fail in step: 5 attempts each by 75 s, the 10th failure opens the breaker
    const schedule = [0, 5, 15, 35, 75, 155];
    for (let i = 0; i < 5; i++) {
      const at = t0 + schedule[i]! * 1000;
      if (i > 0) r.clock.advanceTo(at);
      await until(`two attempts at ${schedule[i]} s`, () => r.receiver.hits.filter((h) => h.at === at).length === 2);
      // both answers handled: two retry waits set for the next time (and, after the 10th failure, the breaker's timer)
      const next = t0 + schedule[i + 1]! * 1000;
      const waits = i < 4 ? [next, next] : [next, next, at + 120_000]; // the breaker's half-open timer too
      await until('both retry waits', () => JSON.stringify(r.clock.dueTimes()) === JSON.stringify(waits));
    }
    assert.deepEqual(Object.values(r.auto.status('acme').breakers), ['open']);
    r.clock.advanceTo(t0 + 155_000); // their 6th attempts meet the open circuit: queued, not sent
    await until('both runs queued', () => runOf(r, a.id)?.status === 'queued' && runOf(r, b.id)?.status === 'queued');
    const c = incident();
    r.auto.incident(c);
    await until('a new run queued at once', () => runOf(r, c.id)?.status === 'queued');
    assert.equal(r.receiver.hits.length, 10, 'nothing sent while the circuit is open');
    assert.equal(r.auto.status('acme').queued, 3);
    assert.equal(runOf(r, c.id)!.steps[0]!.status, 'queued');
    assert.match(runOf(r, c.id)!.reason!, /circuit breaker is open: queued/);

    up = true; // the receiver recovers; the breaker goes half-open 120 s after it opened (at 75 s)
    r.clock.advanceTo(t0 + 194_999);
    await r.system.settled();
    assert.equal(r.receiver.hits.length, 10, 'still open before its 120 s');
    r.clock.advanceTo(t0 + 195_000);
    await until('the queue to drain', () => [a, b, c].every((i) => runOf(r, i.id)?.status === 'succeeded'));
    assert.equal(r.receiver.hits.length, 13);
    assert.ok(r.receiver.hits.slice(10).every((h) => h.at === t0 + 195_000));
    assert.deepEqual(Object.values(r.auto.status('acme').breakers), ['closed'], '3 good probes close it');
    assert.equal(r.auto.status('acme').queued, 0);
    assert.ok(r.audit.filter((x) => x.action === RUNBOOK_AUDIT.queue).length >= 3);
    assert.equal(runOf(r, a.id)!.steps[0]!.attempts, 6, '5 failed, then the one after recovery');
    assert.equal(runOf(r, c.id)!.steps[0]!.attempts, 1);
  });

  it('a destructive step waits for an approve (the tenant\'s own); a cancel ends a run without a request', async () => {
    await put(r, 'restart-db', [
      `  - restart: { url: "${r.receiver.url('/hooks/restart')}", service: "{{incident.services}}" }`,
      '  - notify: restarted',
    ].join('\n') + '\n');
    const inc = incident();
    r.auto.incident(inc);
    await until('the run to wait', () => runOf(r, inc.id)?.status === 'awaiting_approval');
    await r.system.settled();
    assert.equal(r.receiver.hits.length, 0, 'nothing sent before the approve');
    const id = runOf(r, inc.id)!.id;
    await assert.rejects(r.auto.approve('globex', id, 'key:globex'), (e: unknown) => VigilError.is(e, 'NOT_FOUND'));
    const approved = await r.auto.approve('acme', id, 'key:abc123');
    assert.equal(approved.steps[0]!.approvedBy, 'key:abc123');
    await until('the run to end', () => runOf(r, inc.id)?.status === 'succeeded');
    assert.deepEqual(JSON.parse(r.receiver.hits[0]!.body), { action: 'restart', service: ['db'], incident: inc.id, run: id });
    await assert.rejects(r.auto.approve('acme', id, 'key:abc123'), (e: unknown) => VigilError.is(e, 'CONFLICT'));
    assert.ok(r.audit.some((a) => a.action === RUNBOOK_AUDIT.approve && a.actor === 'key:abc123'));

    const other = incident();
    r.auto.incident(other);
    await until('the second run to wait', () => runOf(r, other.id)?.status === 'awaiting_approval');
    const cancelled = await r.auto.cancel('acme', runOf(r, other.id)!.id, 'key:abc123');
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(cancelled.steps.map((s) => s.status), ['cancelled', 'skipped']);
    await r.system.settled();
    assert.equal(r.receiver.hits.length, 1);
  });

  it('a cancel drops a request under way; its late answer changes nothing and the breaker does not count it', async () => {
    const held: Array<() => void> = [];
    const hanging = createServer((req, res) => {
      req.resume();
      held.push(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    r.allow.acme = [`http://127.0.0.1:${port}/`];
    try {
      await put(r, 'slow', `  - webhook: { url: "http://127.0.0.1:${port}/slow" }\n`);
      const inc = incident();
      r.auto.incident(inc);
      await until('the request to arrive', () => held.length === 1);
      const cancelled = await r.auto.cancel('acme', runOf(r, inc.id)!.id, 'key:abc123');
      assert.equal(cancelled.status, 'cancelled');
      assert.equal(cancelled.steps[0]!.status, 'cancelled');
      held[0]!();
      await r.system.settled();
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(runOf(r, inc.id)!.status, 'cancelled');
      const [row] = r.auto.deliveries.breakers.metrics();
      assert.equal(row!.failed, 0, 'a cancelled call is not a failure of the destination');
      assert.equal(r.clock.dueTimes().length, 0, 'no retry is waiting');
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('a dry run records what it would send and sends nothing; one can be started by hand', async () => {
    await put(r, 'scale', `  - scale: { url: "${r.receiver.url('/hooks/scale')}", service: checkout, replicas: 6 }\n  - wait: 5m\n`, 'dryRun: true\n');
    const inc = incident();
    r.auto.incident(inc);
    await until('the dry run', () => runOf(r, inc.id)?.status === 'succeeded');
    const run = runOf(r, inc.id)!;
    assert.equal(run.dryRun, true);
    assert.deepEqual(run.steps.map((s) => s.status), ['dry_run', 'dry_run']);
    assert.deepEqual(run.steps[0]!.request!.body, { action: 'scale', service: 'checkout', replicas: 6, incident: inc.id, run: run.id });
    assert.match(run.steps[0]!.message!, /^would send POST .*\/hooks\/scale \(after an operator approves it/);

    await put(r, 'live', `  - webhook: { url: "${r.receiver.url('/hooks/live')}" }\n`, '');
    const manual = await r.auto.start('acme', { runbook: 'live', incident: inc.id, dryRun: true }, 'key:abc123');
    assert.equal(manual.startedBy, 'key:abc123');
    assert.equal(manual.status, 'succeeded');
    assert.equal(manual.steps[0]!.status, 'dry_run');
    await r.system.settled();
    assert.equal(r.receiver.hits.length, 0);
  });

  it('refuses destinations outside the tenant\'s allow-list, when saved and when run', async () => {
    await assert.rejects(
      r.auto.putRunbook('acme', 'evil', { yaml: 'trigger: {}\nsteps:\n  - webhook: { url: "http://169.254.169.254/latest/meta-data" }\n' }, 'admin'),
      (e: unknown) => e instanceof RunbookInvalid && e.place === 'steps[0].webhook.url' && /not among this tenant's allowed webhook destinations/.test(e.message),
    );
    await assert.rejects(
      r.auto.putRunbook('globex', 'theirs', { yaml: `trigger: {}\nsteps:\n  - webhook: { url: "${r.receiver.url('/hooks/x')}" }\n` }, 'admin'),
      /not among this tenant's allowed webhook destinations/, 'acme\'s destination is not globex\'s',
    );
    await put(r, 'hook', `  - webhook: { url: "${r.receiver.url('/hooks/x')}" }\n`);
    r.allow.acme = []; // the tenant's allow-list changed after the runbook was saved
    const inc = incident();
    r.auto.incident(inc);
    await until('the run to fail', () => runOf(r, inc.id)?.status === 'failed');
    assert.match(runOf(r, inc.id)!.steps[0]!.error!, /^refused: http:\/\/127\.0\.0\.1:\d+ is not among this tenant's allowed webhook destinations$/);
    assert.equal(r.receiver.hits.length, 0);
  });

  it('a listed host name that resolves to an internal address is refused at connect time', async () => {
    // a name of the rig's resolver (INTERNAL_NAME -> 127.0.0.1); node:http connects through the guarded lookup as in production
    const name = INTERNAL_NAME;
    r.allow.acme = [`http://${name}:${r.receiver.port}/hooks`];
    await put(r, 'by-name', `  - webhook: { url: "http://${name}:${r.receiver.port}/hooks/x" }\n`);
    const inc = incident();
    r.auto.incident(inc);
    await until('the run to fail', () => runOf(r, inc.id)?.status === 'failed');
    assert.match(runOf(r, inc.id)!.steps[0]!.error!, new RegExp(`${name.replace(/\./g, '\\.')} resolves to 127\\.0\\.0\\.1, an internal address`));
    assert.equal(runOf(r, inc.id)!.steps[0]!.attempts, 1, 'a refusal is not retried');
    assert.equal(r.receiver.hits.length, 0);
  });

  it('at L2 runbooks are suggested, not run; an approve runs the suggestion', async () => {
    await put(r, 'hook', `  - webhook: { url: "${r.receiver.url('/hooks/x')}" }\n`);
    r.level.value = 2;
    const inc = incident();
    r.auto.incident(inc);
    await until('the suggestion', () => runOf(r, inc.id)?.status === 'suggested');
    assert.match(runOf(r, inc.id)!.reason!, /degradation level L2 \(no_ml\): runbooks are suggested, not run/);
    assert.equal(r.auto.status('acme').runbooks, 'suggested');
    await r.system.settled();
    assert.equal(r.receiver.hits.length, 0);
    assert.ok(r.audit.some((a) => a.action === RUNBOOK_AUDIT.suggest));
    await r.auto.approve('acme', runOf(r, inc.id)!.id, 'key:oncall');
    await until('the approved run', () => runOf(r, inc.id)?.status === 'succeeded');
    assert.equal(r.receiver.hits.length, 1);
    assert.equal(runOf(r, inc.id)!.approvedBy, 'key:oncall');
  });

  it('a tenant\'s unfinished runs are bounded: a start beyond is refused 429 with Retry-After, a triggered run waits for a place, another tenant is not held', async () => {
    await r.stop();
    // acme's own bound (its tenants-file maxUnfinishedRuns) is 2; the node's, which globex keeps, is 1
    r = await rig({ maxUnfinishedRuns: 1, tenantMaxUnfinishedRuns: (t) => (t === 'acme' ? 2 : undefined) });
    await put(r, 'restart-db', `  - restart: { url: "${r.receiver.url('/hooks/restart')}", service: db }\n`);
    const [first, second, third] = [incident(), incident(), incident()];
    r.auto.incident(first);
    r.auto.incident(second);
    await until('two runs to wait for an approve', () => runOf(r, first.id)?.status === 'awaiting_approval' && runOf(r, second.id)?.status === 'awaiting_approval');
    r.auto.incident(third);
    await r.system.settled();
    assert.equal(runOf(r, third.id), undefined, 'the third incident\'s run waits: the tenant has two unfinished');
    await assert.rejects(r.auto.start('acme', { runbook: 'restart-db', incident: first.id }, 'key:abc123'), (e: unknown) =>
      e instanceof QuotaError && e.code === 'QUOTA_EXCEEDED' && e.retryAfterSeconds === UNFINISHED_RETRY_AFTER_S && /has 2 unfinished runbook runs/.test(e.message));
    assert.equal(r.auto.runs('acme', { limit: 10 }).items.length, 2, 'the refused start left nothing behind');

    // another tenant's runs do not count against acme's bound, nor wait behind it
    await r.auto.putRunbook('globex', 'note', { yaml: 'trigger: { services: db }\nsteps:\n  - notify: seen\n' }, 'admin');
    const theirs = incident({ tenant: 'globex' });
    r.auto.incident(theirs);
    await until('globex\'s run', () => r.auto.runs('globex', { incident: theirs.id, limit: 1 }).items[0]?.status === 'succeeded');

    // a place freed: the waiting incident's run starts, and only it
    await r.auto.cancel('acme', runOf(r, first.id)!.id, 'key:abc123');
    await until('the third incident\'s run', () => runOf(r, third.id)?.status === 'awaiting_approval');
    await r.system.settled();
    assert.equal(r.auto.runs('acme', { limit: 10 }).items.length, 3);
    assert.equal(r.receiver.hits.length, 0, 'nothing sent: every run waits for an approve or was cancelled');
  });
});
