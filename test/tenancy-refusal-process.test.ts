// A gateway with a refusal process (api/refusals): the connections of a tenant over its quota
// are answered by a process of their own, with the answer the gateway gives and the gateway's
// counts; what the process must not refuse is passed to the gateway; a process killed costs
// the gateway nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { hashKey } from '../api/index.ts';
import { startGateway, type Gateway } from '../api/gateway.ts';
import { RESTART_AFTER_MS, STARVED_AFTER_MS } from '../api/refusals/index.ts';
import { IDLE_GROUP_NAME, allowedCpuList, cgroupPathIn, cpuControllerIn, parseCpuList, raiseFromIdle } from '../supervisors/index.ts';
import { openTenancy, type QuotaGate } from '../api/tenancy/index.ts';
import type { NodeHandle } from '../node/index.ts';
import { KEYS, startTestNode, testConfig } from './support/api-node.ts';

const silent = pino({ level: 'silent' });
const HOOLI = 'hooli-1';
const INITECH = 'initech-1';

interface Answer { status: number; headers: IncomingMessage['headers']; body: string; socket: unknown }

function send(url: string, path: string, options: { method?: string; key?: string; body?: string; agent?: Agent }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), {
      method: options.method ?? 'POST', agent: options.agent,
      headers: { 'content-type': 'application/json', ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, socket: req.socket }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const samples = (n: number) => JSON.stringify({ series: [{ service: 'web', metric: 'm', samples: Array.from({ length: n }, (_, i) => [Date.now() - 60_000 + i, 1]) }] });
const byProcess = (a: Answer) => /^r[0-9a-z]+-[0-9a-z]+$/.test(String(a.headers['x-request-id']));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;
/** the distinct (nice, scheduling policy) pairs of a process's threads (/proc/<pid>/task/<tid>/stat fields 19 and 41) */
const priorities = (pid: number) => [...new Set(readdirSync(`/proc/${pid}/task`).map((t) => {
  const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return `${stat[16]} ${stat[38]}`;
}))].map((p) => ({ nice: Number(p.split(' ')[0]), policy: Number(p.split(' ')[1]) }));

/** whether the process is in the idle cgroup beside this one's; undefined where no CPU cgroup can be written (not root) */
const inIdleGroup = (pid: number): boolean | undefined => {
  const controller = cpuControllerIn(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (process.getuid?.() !== 0 || !controller) return undefined;
  const group = (p: number | 'self') => cgroupPathIn(readFileSync(`/proc/${p}/cgroup`, 'utf8'), controller);
  return group(pid) === join(group('self')!, IDLE_GROUP_NAME);
};
/** the CPUs a process may run on (/proc/<pid>/status) */
const cpus = (pid: number | 'self') => parseCpuList(allowedCpuList(pid)!)!;
const rootOnly = (v: boolean) => (process.getuid?.() === 0 && cpuControllerIn(readFileSync('/proc/self/mountinfo', 'utf8')) ? v : undefined);

describe('refusal process: a flooding tenant answered off the gateway', function () {
  this.timeout(60_000);
  let node: NodeHandle;
  let gw: Gateway;
  let quotas: QuotaGate;
  let registry: Awaited<ReturnType<typeof openTenancy>>['tenancy']['registry'];
  interface Line { reqId?: string; msg: string; pid?: number; by?: string }
  const lines: Line[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** false: the host does not let the gateway raise its process from SCHED_IDLE (not root, RLIMIT_NICE 0) */
  let raiseAllowed = true;
  const startedPids = () => lines.filter((l) => l.msg === 'the refusal process takes the connections of tenants over their quota').map((l) => l.pid!);

  before(async () => {
    node = await startTestNode();
    const c = testConfig();
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-refusals-')), 'tenants.yaml');
    writeFileSync(file, 'tenants:\n'
      + `  - { id: hooli, rate: 100, burst: 500, keys: [{ id: k, sha256: ${hashKey(HOOLI)} }] }\n`
      + `  - { id: initech, rate: 1000, burst: 1000, keys: [{ id: k, sha256: ${hashKey(INITECH)} }] }\n`);
    c.tenancy = { ...c.tenancy, file };
    c.http.refusalOffFirstCpu = true; // as `vigil cluster up --gateway-cpu` starts a gateway
    const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: object) => clearTimeout(h as NodeJS.Timeout) };
    const opened = await openTenancy(c, { clock, log: silent });
    quotas = opened.quotas;
    registry = opened.tenancy.registry;
    gw = await startGateway(node.engine, c, pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Line); } }),
      { tenancy: { ...opened, limits: { maxSeriesPerTenant: 100_000, maxServicesPerTenant: 10_000 } }, refusalProcess: true, refusalRaise: (pid) => (raiseAllowed ? raiseFromIdle(pid) : Promise.resolve(false)) });
  });
  after(async () => {
    agent.destroy();
    await gw.close();
    await quotas.close();
    await node.stop();
  });

  const metric = async () => {
    const text = await (await fetch(new URL('/metrics', gw.url), { headers: { authorization: `Bearer ${KEYS.admin}` } })).text();
    return Number(/^vigil_http_requests_total\{route="\/v1\/metrics",method="POST",status="429"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const rejections = async (key: string) => {
    const usage = await (await fetch(new URL('/v1/usage', gw.url), { headers: { authorization: `Bearer ${key}` } })).json() as { rejections: { rate: number } };
    return usage.rejections.rate;
  };

  it('closes the connection after a refusal once the process is up, and the next one is answered there', async () => {
    assert.equal((await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(2_500) })).status, 202); // 2,000 in debt: 20 s of refusals
    // the first refusal starts the process; until it is up the gateway answers and keeps the connection
    let closed: Answer | undefined;
    for (let i = 0; i < 100 && !closed; i++) {
      const a = await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10), agent });
      assert.equal(a.status, 429);
      if (a.headers.connection === 'close') closed = a;
      else await sleep(50);
    }
    assert.ok(closed, `a refusal closed its connection once the process was up (${JSON.stringify(lines.filter((l) => /refusal process/.test(l.msg)))})`);
    assert.ok(!byProcess(closed), 'that refusal was the gateway\'s own');
    const pid = lines.find((l) => l.msg === 'the refusal process takes the connections of tenants over their quota')?.pid;
    assert.ok(typeof pid === 'number');
    // below every tenant within its quota: each thread at SCHED_IDLE, nice 19, and (where a CPU
    // cgroup can be written) in the idle cgroup, so it yields across sessions too
    assert.deepEqual(priorities(pid), [{ nice: 19, policy: SCHED_IDLE }]);
    assert.equal(inIdleGroup(pid), rootOnly(true), 'in the idle cgroup');
    // http.refusalOffFirstCpu: off the first CPU, which --gateway-cpu keeps for gateways (where there is more than one)
    const mine = cpus('self');
    assert.deepEqual(cpus(pid), mine.length > 1 ? mine.slice(1) : mine, 'the CPUs it may run on');

    const beforeCount = await metric();
    const beforeUsage = await rejections(HOOLI);
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(await send(gw.url, '/v1/metrics', { key: HOOLI, body: 'x'.repeat(200 * 1024), agent }));
    for (const a of answers) {
      assert.equal(a.status, 429);
      assert.ok(byProcess(a), `answered by the process (request id ${String(a.headers['x-request-id'])})`);
      assert.notEqual(a.headers.connection, 'close');
      assert.ok(Number(a.headers['retry-after']) >= 1);
      assert.equal(a.headers['content-type'], 'application/json; charset=utf-8');
      const body = JSON.parse(a.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'QUOTA_EXCEEDED');
      assert.match(body.error.message, /^tenant hooli: ingestion rate quota exceeded \(rate 100\/s, burst 500\): its bucket is empty; retry after \d+ s$/);
    }
    assert.equal(answers[0]!.socket, answers[2]!.socket, 'one connection carried the three, 200 KB bodies and all');
    // the gateway counts them (the process tells it within REPORT_EVERY_MS)
    for (let i = 0; i < 40 && await metric() - beforeCount < 3; i++) await sleep(25);
    assert.equal(await metric() - beforeCount, 3);
    assert.equal(await rejections(HOOLI) - beforeUsage, 3);
    const ids = answers.map((a) => a.headers['x-request-id']);
    assert.deepEqual(lines.filter((l) => ids.includes(l.reqId)).map((l) => l.by), ['refusal process', 'refusal process', 'refusal process']);
  });

  it('raises the process to the normal class at nice 19 when it gets no CPU at SCHED_IDLE, and it answers on', async () => {
    const pid = lines.find((l) => l.msg === 'the refusal process takes the connections of tenants over their quota')!.pid!;
    assert.deepEqual(priorities(pid), [{ nice: 19, policy: SCHED_IDLE }]);
    // stopped, it is what a process starved by the normal class looks like from the gateway: silent
    process.kill(pid, 'SIGSTOP');
    await sleep(STARVED_AFTER_MS + 600);
    process.kill(pid, 'SIGCONT');
    let raised: Line | undefined;
    for (let i = 0; i < 80 && !raised; i++, await sleep(25)) raised = lines.find((l) => /^the refusal process got no CPU at SCHED_IDLE/.test(l.msg));
    assert.equal(raised?.msg, 'the refusal process got no CPU at SCHED_IDLE: raised to the normal class at nice 19');
    assert.ok((raised as Line & { silentMs: number }).silentMs >= STARVED_AFTER_MS);
    assert.deepEqual(priorities(pid), [{ nice: 19, policy: SCHED_OTHER }]);
    assert.equal(inIdleGroup(pid), rootOnly(false), 'out of the idle cgroup');
    const a = await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10), agent });
    assert.equal(a.status, 429);
    assert.ok(byProcess(a), 'the same process answers');
  });

  it('passes on what it must not refuse, on the same connection, and the gateway answers it', async () => {
    const other = await send(gw.url, '/v1/metrics', { key: INITECH, body: samples(5), agent });
    assert.equal(other.status, 202, other.body);
    const usage = await send(gw.url, '/v1/usage', { method: 'GET', key: HOOLI, agent });
    assert.equal(usage.status, 200, 'another route of the blocked tenant');
    const noKey = await send(gw.url, '/v1/metrics', { body: samples(5), agent });
    assert.equal(noKey.status, 401);
    assert.ok(![other, usage, noKey].some(byProcess), 'each answered by the gateway');
    const refused = await send(gw.url, '/v1/metrics', { key: HOOLI, body: '{}', agent });
    assert.ok(byProcess(refused), 'and the blocked tenant still refused there');
    assert.equal(refused.socket, other.socket, 'all on the one connection');
  });

  it('sends a connection back to the gateway when the keys change', async () => {
    const first = await send(gw.url, '/v1/metrics', { key: HOOLI, body: '{}', agent });
    assert.ok(byProcess(first));
    // the same tenants applied again is a change of the keys all the same: the process trusts no key it holds since
    registry.setFileTenants(registry.fromFile(), 'test');
    await sleep(100);
    const after = await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10), agent });
    assert.equal(after.status, 429, after.body);
    assert.ok(!byProcess(after), 'passed to the gateway, which refuses it');
    assert.equal(after.headers.connection, 'close', 'and the connection closed, so the next one is looked at again');
  });

  it('survives connections that reset or say nothing while they are looked at', async () => {
    assert.equal((await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10) })).status, 429); // still blocked: new connections are looked at
    const { port } = new URL(gw.url);
    for (let i = 0; i < 20; i++) {
      const s = connect(Number(port), '127.0.0.1');
      await once(s, 'connect');
      if (i % 2 === 0) s.write('POST /v1/metrics HTTP/1.1\r\nHost: x\r\nAuthor'); // half a head
      s.resetAndDestroy();
    }
    await sleep(100);
    assert.equal((await send(gw.url, '/v1/metrics', { key: INITECH, body: samples(5) })).status, 202);
  });

  it('costs the gateway nothing when the process dies', async () => {
    const pid = lines.filter((l) => l.msg === 'the refusal process takes the connections of tenants over their quota').at(-1)?.pid;
    assert.ok(pid);
    let held: Answer | undefined;
    for (let i = 0; i < 5 && !held; i++) {
      const a = await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10), agent });
      assert.equal(a.status, 429);
      if (byProcess(a)) held = a;
    }
    assert.ok(held, 'a connection held by the process');
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 40 && !lines.some((l) => l.msg.startsWith('the refusal process exited')); i++) await sleep(25);
    assert.ok(lines.some((l) => l.msg.startsWith('the refusal process exited')));
    // the agent finds its connection closed and opens another, which the gateway answers
    const after = await send(gw.url, '/v1/metrics', { key: HOOLI, body: '{}', agent });
    assert.equal(after.status, 429);
    assert.ok(!byProcess(after));
    assert.equal((await send(gw.url, '/v1/metrics', { key: INITECH, body: samples(5) })).status, 202);
  });

  it('stops a starved process it may not raise, and runs the next one at nice 19 in the normal class', async () => {
    raiseAllowed = false;
    const debt = await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(2_500) }); // in debt again, if no longer
    assert.ok([202, 429].includes(debt.status), debt.body);
    // the last process was killed by the test before: the next refusal after RESTART_AFTER_MS starts another
    const before = startedPids().length;
    for (let i = 0; i < (RESTART_AFTER_MS + 5_000) / 100 && startedPids().length === before; i++) {
      assert.equal((await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10) })).status, 429);
      await sleep(100);
    }
    const starved = startedPids()[before];
    assert.ok(starved, 'a new process started');
    assert.deepEqual(priorities(starved), [{ nice: 19, policy: SCHED_IDLE }]);
    process.kill(starved, 'SIGSTOP');
    const stopped = (l: Line) => l.msg === 'the refusal process got no CPU at SCHED_IDLE and could not be raised: stopped; the next one runs at nice 19';
    for (let i = 0; i < 120 && !(lines.some(stopped) && lines.filter((l) => l.msg.startsWith('the refusal process exited')).length === 2); i++) await sleep(25);
    assert.equal(lines.filter(stopped).length, 1);
    assert.equal(lines.filter((l) => l.msg.startsWith('the refusal process exited')).length, 2, 'killed, as the test killed the one before');
    // the gateway answers meanwhile, and the next process is not at SCHED_IDLE
    for (let i = 0; i < (RESTART_AFTER_MS + 5_000) / 100 && startedPids().length === before + 1; i++) {
      assert.equal((await send(gw.url, '/v1/metrics', { key: HOOLI, body: samples(10) })).status, 429);
      await sleep(100);
    }
    const next = startedPids()[before + 1];
    assert.ok(next, 'another process started');
    assert.deepEqual(priorities(next), [{ nice: 19, policy: SCHED_OTHER }]);
    assert.equal(inIdleGroup(next), rootOnly(false), 'not in the idle cgroup');
    assert.equal((await send(gw.url, '/v1/metrics', { key: INITECH, body: samples(5) })).status, 202);
  });
});
