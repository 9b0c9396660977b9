// `vigil demo`: a node on embedded defaults fed by the simulated web shop (sim/), with
// one fault in its database, so that anomalies and an incident appear within a minute.
// History is backfilled first (fast, in batches) so the detectors have learned what
// normal looks like; then samples stream live and the fault starts after --fault-after.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng, SystemClock } from '../../actors/runtime/index.ts';
import { addTenantKey, DEMO_TENANT, hashKey, loadConfig } from '../../cluster/config-load.ts';
import { demoScenario, METRICS, WorkloadDriver } from '../../sim/index.ts';
import { duration, int, parse, showHelp, str, usageError } from '../args.ts';
import { createLogger } from '../log.ts';
import { TIERS, type Tier } from '../../protocols/index.ts';
import { untilSignal } from '../signals.ts';
import { watchEvents } from '../demo-watch.ts';

export const DEMO_HELP = `Usage: vigil demo [options]

Starts a node on embedded defaults and feeds it a simulated web shop (frontend, catalog,
checkout, payments, inventory, db) with one injected fault: the database slows down, and
the slowness reaches its callers a hop at a time. Anomalies and an incident appear within
a minute; the demo prints where to look, a line when they do, and the incident's ranked
root causes (GET /v1/incidents/:id/rca) each time the ranking changes.

Options:
  --port N            HTTP port, 0 for any free one (default 7400; VIGIL_PORT)
  --seed N            workload seed: the same seed gives the same samples (default 1)
  --history DUR       history backfilled for the detectors to learn (default 48h: the
                      first day is the detectors' warm-up, in which they report nothing;
                      the second shows them a whole daily cycle, so the time of day
                      holds no surprise)
  --step DUR          live sample interval (default 5s)
  --fault-after DUR   when the fault starts, after live streaming begins (default 20s)
  --fault-for DUR     how long it lasts (default 5m)
  --exit-on-incident  stop once the incident has appeared (for scripts and tests)
  --exit-on-rca       stop once the incident's first ranked root causes are printed
  --tier T            detection tier of the demo tenant: basic, agile or robust (default agile:
                      the shop's metrics follow a daily cycle, which Agile models and Basic does not)
  --data DIR          the node's data folder (VIGIL_DATA); default: a fresh temporary
                      folder, removed when the demo ends, so every run starts clean
  --log-level LEVEL   node log level, on stderr (default warn; VIGIL_LOG_LEVEL)
  -h, --help          this help

Keys: the tenant "demo" uses VIGIL_DEMO_API_KEY and the admin key VIGIL_ADMIN_API_KEY when
set; otherwise fresh ones are generated and printed. Stop with Ctrl-C.
`;

export async function demoCommand(argv: string[]): Promise<number> {
  const cmd = 'vigil demo';
  const p = parse(cmd, argv, {
    port: { type: 'string' }, seed: { type: 'string' }, history: { type: 'string' }, step: { type: 'string' },
    'fault-after': { type: 'string' }, 'fault-for': { type: 'string' }, 'exit-on-incident': { type: 'boolean' }, 'exit-on-rca': { type: 'boolean' },
    'log-level': { type: 'string' }, tier: { type: 'string' }, data: { type: 'string' },
  });
  if (p.values.help) return showHelp(DEMO_HELP);
  int(cmd, p, 'port', 0, 65535);
  const seed = int(cmd, p, 'seed', 0, 2 ** 31) ?? 1;
  const historyMs = duration(cmd, p, 'history') ?? 48 * 3600_000;
  const stepMs = Math.max(1000, duration(cmd, p, 'step') ?? 5000);
  const faultAfterMs = duration(cmd, p, 'fault-after') ?? 20_000;
  const faultForMs = duration(cmd, p, 'fault-for') ?? 5 * 60_000;

  const env = { ...process.env, VIGIL_LOG_LEVEL: process.env.VIGIL_LOG_LEVEL ?? 'warn' };
  const given = str(p, 'data') ?? (process.env.VIGIL_DATA || undefined);
  const data = given ?? mkdtempSync(join(tmpdir(), 'vigil-demo-'));
  const config = loadConfig({ env, flags: { port: str(p, 'port'), logLevel: str(p, 'log-level'), data } });
  const apiKey = process.env.VIGIL_DEMO_API_KEY || `demo-${randomBytes(12).toString('hex')}`;
  const adminKey = process.env.VIGIL_ADMIN_API_KEY || `admin-${randomBytes(12).toString('hex')}`;
  addTenantKey(config, DEMO_TENANT, apiKey);
  // A series learns for half the history before it may report: a day of 10 s samples is
  // what it takes to have seen the daily curve's highs and lows once.
  config.detection.warmupMs = Math.floor(historyMs / 2);
  const tier = str(p, 'tier') ?? 'agile';
  if (!(TIERS as readonly string[]).includes(tier)) throw usageError(cmd, `--tier must be one of ${TIERS.join(', ')} (got "${tier}")`);
  for (const t of config.tenants) {
    if (t.id !== DEMO_TENANT) continue;
    t.tier = tier as Tier;
    // Only a rise in latency or errors hurts a user: a drop is no page.
    t.metricSensitivity = { latency_ms: { direction: 'up' }, error_rate: { direction: 'up' }, ...t.metricSensitivity };
  }
  if (!process.env.VIGIL_ADMIN_API_KEY) config.auth.adminKeyHash = hashKey(adminKey);
  // the node refuses samples older than ingest.maxPastAgeMs: keep the history inside it
  if (historyMs + 60_000 > config.ingest.maxPastAgeMs) {
    throw usageError(cmd, `--history must be shorter than ingest.maxPastAgeMs (${fmt(config.ingest.maxPastAgeMs)})`);
  }
  if (historyMs < 10_000) throw usageError(cmd, '--history must be at least 10s');

  const clock = new SystemClock();
  const started = clock.now();
  const say = (line: string): void => { process.stdout.write(`${line}\n`); };
  const at = (): string => `[+${((clock.now() - started) / 1000).toFixed(1)}s]`;

  const logger = createLogger({ level: config.log.level, fd: 2, node: config.node.id });
  const { startNode } = await import('../../node/index.ts'); // after --help and flag checks: loading the node takes a while
  const node = await startNode(config, { logger, clock });
  const liveFrom = Math.ceil(clock.now() / stepMs) * stepMs;
  // The history has no fault in it; the live workload (same seed, so the same values up
  // to the fault) gets its fault time once the backfill is done, however long that took.
  const history = demoScenario({ rng: new SeededRng(seed), faultAt: Infinity }).workload;
  await node.engine.putTopology(DEMO_TENANT, history.topology(), 'vigil demo');

  say(`Vigil demo: node at ${node.url}, tenant "${DEMO_TENANT}", seed ${seed}`);
  say(`  API key (tenant demo): ${apiKey}`);
  say(`  admin key:             ${adminKey}`);

  const t0 = clock.now();
  const backfillStep = 10_000;
  const sent = await new WorkloadDriver({ url: node.url, apiKey, workload: history, clock }).backfill(liveFrom - historyMs, liveFrom, backfillStep);
  say(`${at()} warm-up: sent ${sent.toLocaleString('en-US')} samples (${fmt(historyMs)} of history, ${history.services.length} services × ${METRICS.length} metrics, every ${fmt(backfillStep)}) in ${fmt(clock.now() - t0)}`);

  const faultAt = Math.max(liveFrom, clock.now()) + faultAfterMs;
  const { workload, fault } = demoScenario({ rng: new SeededRng(seed), faultAt, faultDurationMs: faultForMs });
  const driver = new WorkloadDriver({ url: node.url, apiKey, workload, clock });
  driver.live(liveFrom, stepMs, { onError: (err) => logger.warn({ err }, 'demo: sending samples failed') });
  say(`${at()} streaming live every ${fmt(stepMs)}; fault: ${fault.service} latency ×${1 + fault.magnitude} from ${new Date(faultAt).toISOString().slice(11, 19)} UTC (in ${fmt(faultAt - clock.now())}) for ${fmt(faultForMs)}`);
  const auth = `-H 'Authorization: Bearer ${apiKey}'`;
  say('');
  say('Where to look:');
  say(`  curl -s ${auth} '${node.url}/v1/incidents?status=open'`);
  say(`  root causes: curl -s ${auth} '${node.url}/v1/incidents/<id>/rca'`);
  say(`  curl -s ${auth} '${node.url}/v1/anomalies?from=${liveFrom}'`);
  say(`  curl -s ${auth} '${node.url}/v1/series?service=frontend&metric=latency_ms&from=${liveFrom}'`);
  say(`  live events: npx vigil tail --url ${node.url} --api-key ${apiKey}`);
  say(`  supervision tree: npx vigil ctl tree --url ${node.url} --admin-key ${adminKey}`);
  if (await servesDashboard(node.url)) say(`  dashboard: ${node.url}/#key=${apiKey}`);
  say(`  metrics: ${node.url}/metrics   API description: ${node.url}/docs/openapi.json`);
  say('Stop with Ctrl-C.');
  say('');

  const incident = watchEvents({ url: node.url, apiKey, since: liveFrom, clock, say: (l) => say(`${at()} ${l}`) });
  if (p.values['exit-on-rca']) {
    await Promise.race([incident.firstRanking, untilSignal()]);
  } else if (p.values['exit-on-incident']) {
    await Promise.race([incident.firstIncident, untilSignal()]);
  } else {
    await untilSignal();
  }
  incident.stop();
  driver.stop();
  await node.stop();
  if (given === undefined) rmSync(data, { recursive: true, force: true });
  logger.flush();
  return 0;
}

function fmt(ms: number): string {
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000} h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

/** The dashboard (web/) is served at / when the gateway has it. */
async function servesDashboard(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/`);
    await res.body?.cancel();
    return res.ok && (res.headers.get('content-type') ?? '').includes('text/html');
  } catch {
    return false;
  }
}
