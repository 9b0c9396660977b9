// Runbook automation's pure core: the YAML schema (errors naming the place), triggers,
// templates, conditions, the allow-list, and a run's transitions with time passed in.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Alert, Incident } from '../protocols/index.ts';
import {
  IncidentViews, RUNBOOK_AUDIT, addressAllowed, advance, allowedBy, checkRunbookJson, createRun, dueRunbooks, isInternalAddress, parseRunbookYaml,
  parseRunbooksYaml, triggerMatches, triggeredRunId, RunbookInvalid,
  type IncidentView, type Runbook, type RunEffect, type RunTime,
} from '../actors/automation/index.ts';

const ORIGIN = { tenant: 'acme', source: 'runbook', now: 1_000 };

function incident(over: Partial<IncidentView> = {}): IncidentView {
  return {
    id: 'inc_1', tenant: 'acme', title: 'db: latency_ms anomalous (up)', status: 'open', services: ['db', 'catalog'],
    severity: 'critical', labels: [['env', 'prod']], rootCause: 'db', peakScore: 0.995, openedAt: 500, alertCount: 3, ...over,
  };
}

function time(now: number, over: Partial<RunTime> = {}): RunTime {
  return { now, incident: incident(), allowed: (u) => u.startsWith('https://ops.example.com/'), automatic: true, ...over };
}

function refusal(text: string): RunbookInvalid {
  try {
    parseRunbookYaml(text, ORIGIN);
  } catch (err) {
    assert.ok(err instanceof RunbookInvalid, String(err));
    assert.equal(err.code, 'BAD_REQUEST');
    return err;
  }
  assert.fail('the runbook was accepted');
}

const kinds = (effects: RunEffect[]): string[] => effects.map((e) => (e.type === 'audit' ? `audit:${e.action}` : e.type));

describe('runbook schema', () => {
  it('reads a runbook with every kind of step, defaults filled in', () => {
    const rb = parseRunbookYaml([
      'id: fix-db',
      'trigger: { services: db, severity: critical, labels: { env: prod }, rootCause: [db, cache] }',
      'steps:',
      '  - id: diag',
      '    webhook: { url: "https://ops.example.com/diag?i={{incident.id}}", headers: { X-Token: t }, body: { n: "{{incident.alertCount}}" } }',
      '  - notify: "{{incident.title}}"',
      '  - wait: 2m',
      '  - condition: { field: steps.diag.status, equals: 200, else: fail }',
      '  - restart: { url: https://ops.example.com/restart, service: "{{incident.rootCause}}" }',
      '  - scale: { url: https://ops.example.com/scale, service: db, replicas: 3 }',
      '    destructive: false',
    ].join('\n'), ORIGIN);
    assert.equal(rb.name, 'fix-db');
    assert.equal(rb.enabled, true);
    assert.equal(rb.dryRun, false);
    assert.deepEqual(rb.trigger, { services: ['db'], severity: 'critical', labels: [['env', 'prod']], rootCause: ['db', 'cache'] });
    assert.deepEqual(rb.steps.map((s) => [s.id, s.kind, s.destructive]), [
      ['diag', 'webhook', false], ['step-2', 'notify', false], ['step-3', 'wait', false], ['step-4', 'condition', false],
      ['step-5', 'restart', true], ['step-6', 'scale', false],
    ]);
    const wait = rb.steps[2]!;
    assert.equal(wait.kind === 'wait' && wait.ms, 120_000);
  });

  it('names the place and line of the first problem', () => {
    const e = refusal([
      'id: x',
      'trigger: {}',
      'steps:',
      '  - webhook:',
      '      url: ftp://ops.example.com/a',
    ].join('\n'));
    assert.equal(e.place, 'steps[0].webhook.url');
    assert.equal(e.line, 5);
    assert.match(e.message, /^runbook: steps\[0\]\.webhook\.url must be an http or https URL .* \(line 5\)$/);

    assert.equal(refusal('id: x\ntrigger: {}\nsteps:\n  - wait: 2m\n    notify: hi\n').place, 'steps[0]');
    assert.equal(refusal('id: x\ntrigger: {}\nsteps:\n  - wait: 2 weeks\n').place, 'steps[0].wait');
    assert.equal(refusal('id: x\ntrigger: { severity: high }\nsteps: [{ wait: 1s }]\n').place, 'trigger.severity');
    assert.equal(refusal('id: x\ntrigger: {}\nsteps: [{ wait: 1s }]\ncolour: red\n').place, 'colour');
    assert.equal(refusal('id: x\nsteps: [{ wait: 1s }]\n').place, 'trigger');
    assert.equal(refusal('id: X!\ntrigger: {}\nsteps: [{ wait: 1s }]\n').place, 'id');
    const later = refusal('id: x\ntrigger: {}\nsteps:\n  - notify: "{{steps.later.status}}"\n  - id: later\n    wait: 1s\n');
    assert.equal(later.place, 'steps[0].notify');
    assert.match(later.reason, /must name an earlier step/);
    assert.match(refusal('id: x\ntrigger: {}\nsteps: [{ notify: "{{incident.secret}}" }]\n').reason, /incident has/);
    assert.equal(refusal('id: x\ntrigger: {}\nsteps: [{ webhook: { url: "https://{{incident.id}}.example.com/" } }]\n').place, 'steps[0].webhook.url');
    assert.equal(refusal('id: x\ntrigger: {}\nsteps: [{ webhook: { url: "https://a.example.com/", headers: { Host: evil } } }]\n').place, 'steps[0].webhook.headers.Host');
    assert.equal(refusal('id: x\ntrigger: {}\nsteps: [{ condition: { field: incident.status, equals: open, lt: 3 } }]\n').place, 'steps[0].condition');
    assert.equal(refusal('id: x\ntrigger: {}\nsteps: [{ wait: 1s, destructive: true }]\n').place, 'steps[0].destructive');
    assert.match(refusal('id: x\ntrigger: {}\nsteps: [ { wait: 1s }\n').message, /not valid YAML.*line/);
    assert.equal(refusal('id: x\nid: y\ntrigger: {}\nsteps: [{ wait: 1s }]\n').line, 2);
  });

  it('refuses a destination outside the allow-list when one is given', () => {
    const allowed = (u: string): boolean => allowedBy(['https://ops.example.com/hooks/'], u) !== undefined;
    const text = 'id: x\ntrigger: {}\nsteps:\n  - webhook: { url: "https://evil.example.net/hooks/a" }\n';
    assert.throws(() => parseRunbookYaml(text, { ...ORIGIN, allowed }), /steps\[0\]\.webhook\.url https:\/\/evil\.example\.net is not among this tenant's allowed webhook destinations/);
    const ok = 'id: x\ntrigger: {}\nsteps:\n  - webhook: { url: "https://ops.example.com/hooks/a/{{incident.id}}" }\n';
    assert.equal(parseRunbookYaml(ok, { ...ORIGIN, allowed }).steps.length, 1);
  });

  it('reads the example file: several documents, each a valid runbook', () => {
    const text = readFileSync(new URL('../config/runbooks.example.yaml', import.meta.url), 'utf8');
    const all = parseRunbooksYaml(text, { ...ORIGIN, source: 'runbooks.example.yaml' });
    assert.deepEqual(all.map((r) => r.id), ['page-on-critical', 'restart-db', 'scale-checkout']);
    assert.equal(all[2]!.dryRun, true);
    assert.match(all[1]!.source, /^id: restart-db/);
    assert.throws(() => parseRunbooksYaml('id: a\ntrigger: {}\nsteps: [{wait: 1s}]\n---\nid: a\ntrigger: {}\nsteps: [{wait: 1s}]\n', { ...ORIGIN, source: 'f' }),
      /f document 2: id "a" is also the id of an earlier document \(line 5\)/);
  });
});

describe('runbook triggers', () => {
  it('match on services, labels, severity and root cause; a resolved incident matches nothing', () => {
    assert.ok(triggerMatches({}, incident()));
    assert.ok(triggerMatches({ services: ['checkout', 'db'] }, incident()));
    assert.ok(!triggerMatches({ services: ['checkout'] }, incident()));
    assert.ok(triggerMatches({ severity: 'warning' }, incident()));
    assert.ok(!triggerMatches({ severity: 'critical' }, incident({ severity: 'warning' })));
    assert.ok(triggerMatches({ labels: [['env', 'prod']] }, incident()));
    assert.ok(!triggerMatches({ labels: [['env', 'prod'], ['team', 'x']] }, incident()));
    assert.ok(triggerMatches({ rootCause: ['db'] }, incident()));
    assert.ok(!triggerMatches({ rootCause: ['db'] }, incident({ rootCause: undefined })), 'no RCA yet: no match yet');
    assert.ok(!triggerMatches({}, incident({ status: 'resolved' })));
  });

  it('an incident view gathers its alerts\' labels and severity and RCA\'s top cause, in any order', () => {
    const views = new IncidentViews('acme', 0.99);
    const alert = (over: Partial<Alert>): Alert => ({
      id: 'a', tenant: 'acme', service: 'db', metric: 'latency_ms', labels: {}, timestamp: 1, score: 0.95, severity: 'warning',
      tier: 'basic', anomalyId: 'an', incidentId: 'inc_1', ...over,
    });
    views.alert(alert({ labels: { env: 'prod' } }));
    views.alert(alert({ severity: 'critical', labels: { env: 'prod', zone: 'a' } }));
    assert.equal(views.view('inc_1'), undefined, 'no incident yet');
    const inc: Incident = { id: 'inc_1', tenant: 'acme', status: 'open', title: 't', services: ['db'], alertIds: ['a', 'b'], openedAt: 1, updatedAt: 2, peakScore: 0.95 };
    const v = views.incident(inc);
    assert.equal(v.severity, 'critical');
    assert.deepEqual(v.labels, [['env', 'prod'], ['zone', 'a']]);
    assert.equal(v.rootCause, undefined);
    assert.equal(views.rootCause({ tenant: 'acme', incidentId: 'inc_1', causes: [{ service: 'db' }, { service: 'catalog' }] })?.rootCause, 'db');
    assert.equal(views.rootCause({ tenant: 'acme', incidentId: 'inc_1', causes: [{ service: 'db' }] }), undefined, 'unchanged top: nothing new');
  });

  it('start each runbook once per incident, with an id derived from both', () => {
    const rb = (id: string, over: Partial<Runbook> = {}): Runbook => ({
      id, tenant: 'acme', name: id, enabled: true, dryRun: false, trigger: {}, steps: [], version: 1, updatedAt: 0, source: '', ...over,
    });
    const ran = new Set(['b']);
    const due = dueRunbooks([rb('a'), rb('b'), rb('c', { enabled: false }), rb('d', { trigger: { services: ['x'] } })], incident(), (id) => ran.has(id));
    assert.deepEqual(due.map((r) => r.id), ['a']);
    assert.equal(triggeredRunId('acme', 'a', 'inc_1'), triggeredRunId('acme', 'a', 'inc_1'));
    assert.notEqual(triggeredRunId('acme', 'a', 'inc_1'), triggeredRunId('globex', 'a', 'inc_1'));
  });
});

describe('webhook destinations', () => {
  it('a URL is allowed only under a listed prefix, same scheme, host and port, at a path boundary', () => {
    const list = ['https://hooks.example.com/vigil', 'http://127.0.0.1:9000/'];
    assert.equal(allowedBy(list, 'https://hooks.example.com/vigil/a?b=1'), list[0]);
    assert.equal(allowedBy(list, 'https://hooks.example.com/vigil'), list[0]);
    assert.equal(allowedBy(list, 'https://hooks.example.com/vigilante'), undefined);
    assert.equal(allowedBy(list, 'https://hooks.example.com.evil.net/vigil/a'), undefined);
    assert.equal(allowedBy(list, 'http://hooks.example.com/vigil/a'), undefined, 'scheme differs');
    assert.equal(allowedBy(list, 'https://hooks.example.com:8443/vigil/a'), undefined, 'port differs');
    assert.equal(allowedBy(list, 'https://user:pw@hooks.example.com/vigil/a'), undefined, 'credentials');
    assert.equal(allowedBy(list, 'https://hooks.example.com/vigil/../admin'), undefined, 'dot segments resolve first');
    assert.equal(allowedBy(list, 'http://127.0.0.1:9000/x'), list[1]);
    assert.equal(allowedBy(list, 'http://127.0.0.1:9001/x'), undefined);
  });

  it('a listed name must not resolve to an internal address; a listed address is allowed as such', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      assert.ok(isInternalAddress(a), a);
      assert.ok(!addressAllowed('hooks.example.com', a), a);
    }
    assert.ok(!isInternalAddress('93.184.216.34'));
    assert.ok(addressAllowed('hooks.example.com', '93.184.216.34'));
    assert.ok(addressAllowed('127.0.0.1', '127.0.0.1'));
    assert.ok(addressAllowed('[::1]', '::1'));
    assert.ok(addressAllowed('localhost', '127.0.0.1'));
  });
});

describe('a runbook run (pure transitions)', () => {
  const rbOf = (steps: string, over = ''): Runbook => parseRunbookYaml(`id: rb\ntrigger: {}\n${over}steps:\n${steps}`, ORIGIN);

  it('sends, waits, tests and ends, recording every step; the audit gets each', () => {
    const rb = rbOf([
      '  - id: diag',
      '    webhook: { url: "https://ops.example.com/d?i={{incident.id}}", headers: { Authorization: "Bearer s3cret" }, body: { svc: "{{incident.rootCause}}", n: "{{incident.alertCount}}" } }',
      '  - wait: 30s',
      '  - condition: { all: [ { field: steps.diag.body.ok, equals: true }, { field: incident.status, equals: open } ] }',
      '  - notify: "done with {{incident.id}}: {{steps.diag.body.note}}"',
    ].join('\n') + '\n');
    let t = createRun({ id: 'run_1', runbook: rb, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(10));
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.start}`, 'send']);
    const send = t.effects[1] as Extract<RunEffect, { type: 'send' }>;
    assert.equal(send.request.url, 'https://ops.example.com/d?i=inc_1');
    assert.deepEqual(JSON.parse(send.request.body!), { svc: 'db', n: 3 });
    assert.deepEqual(send.request.headers, [['Authorization', 'Bearer s3cret'], ['content-type', 'application/json']]);
    assert.deepEqual(t.run.steps[0]!.request, { method: 'POST', url: 'https://ops.example.com/d?i=%E2%80%A6', headers: ['Authorization', 'content-type'], body: { svc: 'db', n: 3 } }, 'no header values or query values shown');
    assert.equal(t.run.status, 'running');

    assert.deepEqual(advance(t.run, rb, { type: 'sent', step: 1, status: 200, attempts: 1 }, time(11)).effects, [], 'another step\'s answer changes nothing');
    t = advance(t.run, rb, { type: 'sent', step: 0, status: 200, body: { ok: true, note: 'fine' }, attempts: 2 }, time(20));
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.step}`, 'wake']);
    assert.deepEqual(t.effects[1], { type: 'wake', step: 1, at: 30_020 });
    assert.equal(t.run.status, 'waiting');
    assert.equal(t.run.steps[0]!.attempts, 2);

    t = advance(t.run, rb, { type: 'woke', step: 1 }, time(30_020));
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.step}`, `audit:${RUNBOOK_AUDIT.step}`, 'notice', `audit:${RUNBOOK_AUDIT.step}`, `audit:${RUNBOOK_AUDIT.end}`, 'ended']);
    assert.deepEqual(t.effects[2], { type: 'notice', step: 3, message: 'done with inc_1: fine' });
    assert.equal(t.run.status, 'succeeded');
    assert.equal(t.run.endedAt, 30_020);
    assert.deepEqual(t.run.steps.map((s) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    assert.equal(t.run.steps[2]!.result, true);
    const end = advance(t.run, rb, { type: 'cancel', by: 'key:1' }, time(40_000));
    assert.match(end.refused!, /succeeded already/);
  });

  it('a false condition stops the run as succeeded, or fails it with else: fail', () => {
    const stop = rbOf('  - condition: { field: incident.status, equals: resolved }\n  - notify: never\n');
    const t = createRun({ id: 'r', runbook: stop, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    assert.equal(t.run.status, 'succeeded');
    assert.match(t.run.reason!, /stopped at step step-1/);
    assert.deepEqual(t.run.steps.map((s) => s.status), ['succeeded', 'skipped']);
    const fail = rbOf('  - condition: { field: incident.alertCount, gt: 10, else: fail }\n  - notify: never\n');
    const f = createRun({ id: 'r', runbook: fail, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    assert.equal(f.run.status, 'failed');
    assert.deepEqual(f.run.steps.map((s) => s.status), ['failed', 'skipped']);
  });

  it('a destructive step waits for an approve; a cancel ends the run', () => {
    const rb = rbOf('  - restart: { url: https://ops.example.com/restart, service: "{{incident.rootCause}}" }\n  - notify: restarted\n');
    let t = createRun({ id: 'r', runbook: rb, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    assert.equal(t.run.status, 'awaiting_approval');
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.start}`, `audit:${RUNBOOK_AUDIT.awaitApproval}`]);
    assert.ok(!t.effects.some((e) => e.type === 'send'), 'nothing sent before the approve');
    assert.deepEqual(t.run.steps[0]!.request?.body, { action: 'restart', service: 'db', incident: 'inc_1', run: 'r' });
    const waiting = t.run;
    t = advance(waiting, rb, { type: 'approve', by: 'key:abc' }, time(5));
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.approve}`, 'send']);
    assert.equal(t.run.steps[0]!.approvedBy, 'key:abc');
    assert.match(advance(t.run, rb, { type: 'approve', by: 'key:abc' }, time(6)).refused!, /not awaiting approval/);
    const c = advance(waiting, rb, { type: 'cancel', by: 'key:abc' }, time(7));
    assert.equal(c.run.status, 'cancelled');
    assert.deepEqual(c.run.steps.map((s) => s.status), ['cancelled', 'skipped']);
    assert.deepEqual(kinds(c.effects), [`audit:${RUNBOOK_AUDIT.cancel}`, `audit:${RUNBOOK_AUDIT.end}`, 'ended']);
  });

  it('a dry run describes every step and sends nothing', () => {
    const rb = rbOf([
      '  - id: diag',
      '    webhook: { url: "https://ops.example.com/d" }',
      '  - wait: 5m',
      '  - condition: { field: steps.diag.status, equals: 200 }',
      '  - restart: { url: https://ops.example.com/restart, service: db }',
      '  - webhook: { url: "https://elsewhere.example.net/x" }',
    ].join('\n') + '\n', 'dryRun: true\n');
    const t = createRun({ id: 'r', runbook: rb, startedBy: 'trigger', level: 0, dryRun: rb.dryRun, suggestOnly: false }, time(1));
    assert.equal(t.run.status, 'succeeded');
    assert.ok(t.effects.every((e) => e.type === 'audit' || e.type === 'ended'), kinds(t.effects).join());
    assert.deepEqual(t.run.steps.map((s) => s.status), ['dry_run', 'dry_run', 'dry_run', 'dry_run', 'dry_run']);
    assert.deepEqual(t.run.steps.map((s) => s.message), [
      'would send POST https://ops.example.com/d',
      'would wait 300000 ms',
      'depends on an answer a dry run does not get: going on as if it held',
      'would send POST https://ops.example.com/restart (after an operator approves it: the step is destructive)',
      'would be refused: https://elsewhere.example.net is not an allowed destination',
    ]);
  });

  it('a destination outside the allow-list fails the step without a request', () => {
    const rb = rbOf('  - webhook: { url: "https://elsewhere.example.net/x" }\n');
    const t = createRun({ id: 'r', runbook: rb, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    assert.ok(!t.effects.some((e) => e.type === 'send'));
    assert.equal(t.run.status, 'failed');
    assert.match(t.run.steps[0]!.error!, /refused: https:\/\/elsewhere\.example\.net is not among this tenant's allowed webhook destinations/);
  });

  it('queues while the breaker is open and sends again when released; retries spent fail the step', () => {
    const rb = rbOf('  - webhook: { url: "https://ops.example.com/a" }\n    continueOnError: true\n  - webhook: { url: "https://ops.example.com/b" }\n');
    let t = createRun({ id: 'r', runbook: rb, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    t = advance(t.run, rb, { type: 'held', step: 0, attempts: 0, reason: 'breaker open' }, time(2));
    assert.equal(t.run.status, 'queued');
    assert.deepEqual(kinds(t.effects), [`audit:${RUNBOOK_AUDIT.queue}`]);
    t = advance(t.run, rb, { type: 'released', step: 0 }, time(3));
    assert.deepEqual(kinds(t.effects), ['send']);
    t = advance(t.run, rb, { type: 'send-failed', step: 0, error: 'gave up after 6 attempts', attempts: 6, status: 503 }, time(4));
    assert.equal(t.run.steps[0]!.status, 'failed');
    assert.equal(t.run.status, 'running', 'continueOnError: on to the next step');
    t = advance(t.run, rb, { type: 'send-failed', step: 1, error: 'HTTP 404', attempts: 1, status: 404 }, time(5));
    assert.equal(t.run.status, 'failed');
    assert.match(t.run.reason!, /step step-2 failed: HTTP 404/);
  });

  it('at L2 and worse a run is only suggested; an approve runs it', () => {
    const rb = rbOf('  - webhook: { url: "https://ops.example.com/a" }\n');
    const s = createRun({ id: 'r', runbook: rb, startedBy: 'trigger', level: 2, dryRun: false, suggestOnly: true, suggestReason: 'L2' }, time(1, { automatic: false }));
    assert.equal(s.run.status, 'suggested');
    assert.deepEqual(kinds(s.effects), [`audit:${RUNBOOK_AUDIT.suggest}`]);
    assert.equal(s.run.steps[0]!.request?.url, 'https://ops.example.com/a');
    const a = advance(s.run, rb, { type: 'approve', by: 'key:x' }, time(2, { automatic: false }));
    assert.deepEqual(kinds(a.effects), [`audit:${RUNBOOK_AUDIT.approve}`, 'send'], 'an approved suggestion runs even while the level stays');
    assert.equal(a.run.approvedBy, 'key:x');

    // a run started at L0 whose level drops before a request step: it waits for an approve
    const two = rbOf('  - wait: 1s\n  - webhook: { url: "https://ops.example.com/a" }\n');
    let r = createRun({ id: 'r2', runbook: two, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(1));
    r = advance(r.run, two, { type: 'woke', step: 0 }, time(1001, { automatic: false }));
    assert.equal(r.run.status, 'awaiting_approval');
    assert.match(r.run.reason!, /degradation level/);
  });
});

describe('runbook schema against hostile input (property)', () => {
  const refusedCleanly = (run: () => unknown): void => {
    try {
      run();
    } catch (err) {
      assert.ok(err instanceof RunbookInvalid, `not a RunbookInvalid: ${String(err)}`);
      assert.ok(err.message.length > 0 && err.message.length < 2000);
    }
  };

  it('any text is a runbook or a RunbookInvalid naming why, never another error', () => {
    const pieces = fc.constantFrom('id: x\n', 'trigger: {}\n', 'steps:\n', '  - ', 'webhook: ', '{ url: "http://127.0.0.1/{{incident.id}}" }', 'wait: 1s',
      'notify: "{{steps.a.body.x}}"', 'condition: { field: incident.status, equals: open }', '&a [1]\n', '*a', '---\n', '{{', '}}', ': ', '\n', '"', "'", '[', ']',
      '__proto__: 1\n', 'constructor: x\n', '\u0000', 'id: 😀\n', '    ', '- ');
    fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }), fc.string({ maxLength: 50 }), (parts, noise) => {
      const text = parts.join('') + noise;
      refusedCleanly(() => parseRunbookYaml(text, ORIGIN));
      refusedCleanly(() => parseRunbooksYaml(text, ORIGIN));
    }), { numRuns: 3000, seed: 11 });
  });

  it('any JSON value is a runbook or a RunbookInvalid', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.jsonValue({ maxDepth: 4 }), (a, b) => {
      refusedCleanly(() => checkRunbookJson(a, ORIGIN, ''));
      refusedCleanly(() => checkRunbookJson({ id: 'x', trigger: a, steps: [b] }, ORIGIN, ''));
      refusedCleanly(() => checkRunbookJson({ id: 'x', trigger: {}, steps: [{ condition: a }, { webhook: b }] }, ORIGIN, ''));
    }), { numRuns: 3000, seed: 12 });
  });

  it('an alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [*${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}, *${'abcdefgh'[i]}]`)].join('\n');
    assert.throws(() => parseRunbookYaml(bomb, ORIGIN), RunbookInvalid);
  });
});
