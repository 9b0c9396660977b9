// Figures for runbook automation: checking a runbook's YAML, a run's pure transitions, and
// runs end to end (an incident in, one actor per run, a webhook to a local HTTP server, the
// run succeeded) on the system clock. `npx tsx bench/automation.ts [--json]`; the
// last line is JSON.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createActorSystem, SystemClock } from '../actors/runtime/index.ts';
import type { Incident } from '../protocols/index.ts';
import { MemoryRunbooks, RunStore, RunbookAutomation, advance, createRun, parseRunbooksYaml, type IncidentView } from '../actors/automation/index.ts';
import { percentile } from './ingest/client.ts';

const json = process.argv.includes('--json');
const say = (s: string): void => {
  if (!json) console.log(s);
};

function timeIt(n: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1e3 / n; // µs each
}

const pct = (xs: number[], p: number): number => percentile([...xs].sort((a, b) => a - b), p);

// 1. the schema: the example file's three runbooks
const example = readFileSync(new URL('../config/runbooks.example.yaml', import.meta.url), 'utf8');
const origin = { tenant: 'acme', source: 'bench', now: 0 };
parseRunbooksYaml(example, origin);
const parseUs = timeIt(300, () => parseRunbooksYaml(example, origin));
say(`parse config/runbooks.example.yaml (3 runbooks, ${example.length} bytes): ${parseUs.toFixed(0)} µs`);

// 2. pure transitions: a webhook, a wait, a condition, a notify
const [rb] = parseRunbooksYaml([
  'id: t', 'trigger: {}', 'steps:',
  '  - id: a', '    webhook: { url: "https://ops.example.com/a?i={{incident.id}}", body: { s: "{{incident.services}}" } }',
  '  - wait: 1m', '  - condition: { field: steps.a.status, equals: 200 }', '  - notify: "done {{incident.id}}"',
].join('\n'), origin);
const incident: IncidentView = {
  id: 'inc_1', tenant: 'acme', title: 't', status: 'open', services: ['db'], severity: 'critical', labels: [], peakScore: 1, openedAt: 0, alertCount: 1,
};
const time = (now: number) => ({ now, incident, allowed: () => true, automatic: true });
const runUs = timeIt(5_000, (i) => {
  let t = createRun({ id: `r${i}`, runbook: rb!, startedBy: 'trigger', level: 0, dryRun: false, suggestOnly: false }, time(0));
  t = advance(t.run, rb!, { type: 'sent', step: 0, status: 200, attempts: 1 }, time(1));
  advance(t.run, rb!, { type: 'woke', step: 1 }, time(60_001));
});
say(`a 4-step run through its transitions (create, answer, wake, end): ${runUs.toFixed(1)} µs`);

// 3. end to end on the system clock
const N = Number(process.env.RUNS ?? 500);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const clock = new SystemClock();
const system = createActorSystem({ name: 'bench', clock, log: pino({ level: 'silent' }) });
const runs = RunStore.memory(N + 10);
const started = new Map<string, number>();
const latencies: number[] = [];
let done = 0;
let finish: () => void = () => undefined;
const all = new Promise<void>((r) => (finish = r));
const auto = new RunbookAutomation({
  system, clock, runbooks: new MemoryRunbooks(), runs, destinations: { allowed: () => [`http://127.0.0.1:${port}/`] },
  publish: (_t, e) => {
    if (e.type !== 'runbook_run' || e.data.status !== 'succeeded') return;
    latencies.push(performance.now() - started.get(e.data.incidentId)!);
    if (++done === N) finish();
  },
});
await auto.putRunbook('acme', 'hook', { yaml: `trigger: {}\nsteps:\n  - webhook: { url: "http://127.0.0.1:${port}/h", body: { i: "{{incident.id}}" } }\n` }, 'admin');
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const inc: Incident = { id: `inc_${i}`, tenant: 'acme', status: 'open', title: 't', services: ['db'], alertIds: ['a'], openedAt: 0, updatedAt: 0, peakScore: 1 };
  started.set(inc.id, performance.now());
  auto.incident(inc);
}
await all;
const wallMs = performance.now() - t0;
await auto.stop();
await system.stop();
server.close();
const e2e = { runs: N, wall_ms: Math.round(wallMs), runs_per_s: Math.round(N / (wallMs / 1000)), p50_ms: Math.round(pct(latencies, 50)), p99_ms: Math.round(pct(latencies, 99)) };
say(`${N} incidents at once, one webhook each: ${e2e.runs_per_s} runs/s; incident to run succeeded p50 ${e2e.p50_ms} ms, p99 ${e2e.p99_ms} ms`);
console.log(JSON.stringify({ parse_us: Math.round(parseUs), run_transitions_us: Number(runUs.toFixed(1)), end_to_end: e2e }));
