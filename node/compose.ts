// The composition root (DESIGN.md §3): a Vigil node's actor tree, stores, ingest log,
// cluster layer and HTTP/WebSocket gateway, wired together along DESIGN.md §2.1: 202 once
// the batch is in the log; shard hosts read the log into the actors; effects go to batch writers; checkpoints snapshot the detector
// state and acknowledge the log; a start restores the snapshots and replays the rest.
// `startNode` is what `vigil start` and the tests run; nothing in the product imports this folder.
import pino, { type Logger } from 'pino';
import { createActorSystem, SystemClock, SeededRng, type ActorSystem, type Clock, type Rng } from '../actors/runtime/index.ts';
import { DroppedBatch, IngestReceipt, settleDropped, SNAPSHOT_ASK_TIMEOUT_MS, tenantOfPath, tenantsBehavior, type TenantsMsg } from '../actors/tenant/index.ts';
import { BudgetGates, MEDIUM_BUDGET, type BudgetLimits } from '../actors/tenant/index.ts';
import type { DetectorFactory } from '../actors/service/index.ts';
import { DEFAULT_CRITICAL_SCORE } from '../actors/correlation/index.ts';
import type { EventSink } from '../actors/sink.ts';
import { VigilError, type SeriesInput } from '../protocols/index.ts';
import { LOG_REDACTION, nodeUsage, startGateway, type Gateway, type Engine } from '../api/index.ts';
import type { Sensitivity } from '../actors/detection/index.ts';
import { cacheKeys, registerCacheMetrics } from '../storage/cache/index.ts';
import { registerRollupMetrics, type SampleRun } from '../storage/tsdb/index.ts';
import {
  Checkpoints, packTenantState, createNodeMetrics, watchBudgets, watchCheckpoints, DEFAULT_SHARD_COUNT, IngestBacklog, KvSharedTenants, LiveHub, NodeHealth,
  OpenIncidentsCache, openNodeStores, restoredState, SeriesLimits, ShardHosts, startRobustModel, tierDetectors,
  type AdmittedBatch, type Appended, type VigilConfig,
} from '../cluster/index.ts';
import { NodeEngine } from './engine.ts';
import { NodeCorrelation } from './correlation.ts';
import { FileSilenceStore } from './silences.ts';
import { openClusterMode } from './cluster-mode.ts';
import { ownerRouted } from './owner-route.ts';
import { startNotifier } from './notify.ts';
import { openNodeTenancy } from './tenancy.ts';
import { startAutomation } from './automation.ts';
import { rcaSource, RecentRcaResults } from './rca.ts';

/** How often correlators check for incidents to auto-resolve. */
export const CORRELATION_TICK_MS = 10_000;
export const DEFAULT_SEED = 1;
/** Shards of the ingest log (one node hosts them all). */
const SHARDS = DEFAULT_SHARD_COUNT;
/** A checkpoint's wait for every tenant's state. */
const CHECKPOINT_TIMEOUT_MS = SNAPSHOT_ASK_TIMEOUT_MS; // as long as each level of the tree waits
/** At a clean stop, how long the actors may take to handle what they hold. */
const STOP_SETTLE_MS = 10_000;
/** The tenant supervisor's name under the root: `/root/tenants/<tenant>/<service>`. */
const TENANTS = 'tenants';
const TENANTS_PATH = `/root/${TENANTS}`;
/** Cluster mode: `/root/shards/<shard>/<tenant>/<service>` (cluster/shard-supervisor.ts). */
const SHARDS_PATH = '/root/shards';

/**
 * The tenant (and, in cluster mode, the shard) an actor path belongs to, for its log lines:
 * a cluster node's crash, restart or escalation under a shard names both, so what is printed
 * about a shard or a tenant (test/support/loss-detail.ts) includes them.
 */
function pathBindings(path: string, clustered: boolean): { tenant?: string; shard?: number } {
  if (!clustered) {
    const tenant = tenantOfPath(path, TENANTS_PATH);
    return tenant === undefined ? {} : { tenant };
  }
  const shard = tenantOfPath(path, SHARDS_PATH); // the first segment below it
  if (shard === undefined) return {};
  const tenant = tenantOfPath(path, `${SHARDS_PATH}/${shard}`);
  return { shard: Number(shard), ...(tenant === undefined ? {} : { tenant }) };
}

export interface NodeOptions {
  clock?: Clock;
  rng?: Rng;
  logger?: Logger;
  /** Detector construction (tests inject faulty detectors; the default is tierDetectors()). */
  detectors?: DetectorFactory;
  /** Called when the root supervisor gives up; the default stops the node and exits the process. */
  onFatal?: (err: Error) => void;
  /** A medium tenant's mailbox and processing budget where its tenants-file `budget` sets none (default MEDIUM_BUDGET; tests set a smaller one). */
  mediumBudget?: BudgetLimits;
}

export interface NodeHandle {
  /** this node's own engine (in cluster mode the gateway is given one that routes a tenant's calls to its shard's owner) */
  engine: Engine;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Waits until no actor holds a message, at most `ms` (a stop must not hang on a busy node). */
async function settle(system: ActorSystem, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([system.settled(), new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
  clearTimeout(timer);
}

function sensitivityOf(config: VigilConfig): Sensitivity | undefined {
  return config.detection.threshold === undefined ? undefined : { threshold: config.detection.threshold };
}

export async function startNode(config: VigilConfig, options: NodeOptions = {}): Promise<NodeHandle> {
  const log = options.logger ?? pino({ level: config.log.level, redact: LOG_REDACTION });
  const clock = options.clock ?? new SystemClock();
  const rng = options.rng ?? new SeededRng(DEFAULT_SEED);
  let stopping: Promise<void> | undefined;
  let ready = false;

  const supervision = { strategy: 'one_for_one', intensity: config.actors.restartIntensity, periodMs: config.actors.restartPeriodMs } as const;
  const system = createActorSystem({
    name: config.node.id,
    clock,
    rng,
    log,
    supervision,
    // every line an actor of a tenant logs names the tenant
    logBindings: (path) => pathBindings(path, config.cluster.enabled),
    onRootFailure: (err) => {
      log.fatal({ err }, 'root supervisor gave up: stopping the node');
      if (options.onFatal) options.onFatal(err);
      else void stop().finally(() => process.exit(1));
    },
  });
  system.onEvent((ev) => {
    if (ev.type === 'dead-letters') {
      settleDropped(ev.messages);
      return;
    }
    const at = { tenant: null, ...pathBindings(ev.path, config.cluster.enabled), actor: ev.path };
    if (ev.type === 'crashed') log.warn({ ...at, err: ev.error }, 'actor crashed');
    else if (ev.type === 'escalated') log.error(at, 'restart intensity exceeded: escalating');
    else if (ev.type === 'restarted') log.info({ ...at, delayMs: ev.delayMs }, 'actor restarted');
  });

  const health = new NodeHealth({ clock, log, dwellMs: config.degradation.dwellMs });
  // cluster mode (cluster.enabled): the JetStream log, KV snapshots and shard leases (cluster-mode.ts)
  const clustered = config.cluster.enabled ? await openClusterMode(config, clock, log) : undefined;
  const shardCount = clustered ? config.cluster.shards : SHARDS;
  const stores = await openNodeStores(config, clock, rng, log, process.env, health, clustered?.log);
  const { store, writers, graph, snapshots } = stores;
  const ingestLog = stores.log;
  // medium tenants: a budget of their own (actors/tenant/budget.ts), its backlog bound included
  let budgetOf = (_tenant: string): BudgetLimits | undefined => undefined;
  const backlog = new IngestBacklog(undefined, (tenant) => budgetOf(tenant)?.backlogSamples);
  // cluster mode: a tenant past its bound here is pushed back at every gateway (cluster/pushback.ts)
  if (clustered) backlog.onPressure((tenant, full) => clustered.pushback.report(tenant, full));
  // cluster mode: over NATS, so a tenant's stream on any node hears its shard owner's events
  const live = clustered?.live ?? new LiveHub();
  const metrics = createNodeMetrics(() => system.stats(), () => backlog.size, () => health.level);
  // tenants: node config + tenants file (hot-reloaded, admin API), and their quotas (api/tenancy)
  // cluster mode: an admin change to the tenants on any node reaches every node (cluster/shared-tenants.ts)
  const tenancy = await (async () => {
    const shared = clustered && await KvSharedTenants.open(clustered.link.nc, {
      name: config.cluster.name, replicas: config.cluster.replicas,
      onError: (err) => log.warn({ err }, 'following the cluster\'s tenants broke: opening it again'),
    });
    return openNodeTenancy(config, {
      clock, log, audit: stores.audit, store, metrics: { node: metrics.registry, tenant: metrics.tenantRegistry }, env: process.env,
      ...(shared ? { shared } : {}),
    });
  })().catch(async (err: unknown) => {
    await system.stop();
    await stores.close();
    throw err;
  });
  const limits = new SeriesLimits((tenant) => tenancy.limitsOf(tenant));
  const mediumBudget = options.mediumBudget ?? MEDIUM_BUDGET;
  budgetOf = (tenant) => tenancy.budgetOf(tenant, mediumBudget);
  // the door from the shard hosts to the actors: a medium tenant's batches pass as its budget allows
  const gates = new BudgetGates({ clock, limitsOf: (tenant) => budgetOf(tenant), tell: (tenant, msg) => tenants.tell({ type: 'to-tenant', tenant, msg }) });
  watchBudgets(metrics, () => gates.views());
  // cluster placement: this node's pinned tenants are cluster.pinnedTenants and the large tenants
  // naming it in `nodes`; the large tenants naming none go on nodes kept for them (cluster.dedicated)
  clustered?.pinWith(() => tenancy.pinnedOn(config.node.id, config.cluster.pinnedTenants), () => tenancy.largeWithoutNodes());
  // every tenant's stream hears the level change (the level is the node's, not a tenant's secret)
  health.onChange((s) => {
    const data = { level: s.level, levelName: s.levelName, since: s.since, breakers: s.breakers };
    for (const id of tenancy.ids()) live.publish(id, { type: 'status', data: { ...data, tenant: id } });
  });
  registerCacheMetrics(metrics.registry, stores.cache);
  registerRollupMetrics(metrics.registry, store);
  const incidents = new OpenIncidentsCache();
  // cluster mode: in a KV bucket, so a tenant's silences move with its shard
  const silences = clustered?.silences ?? new FileSilenceStore(config.node.dataDir);
  const rcaResults = new RecentRcaResults();
  for (const id of tenancy.ids()) incidents.load(await store.unresolvedIncidents(id));
  // runbooks (actors/automation): fed incidents, alerts and RCA rankings; resumes unfinished runs
  const automation = await startAutomation({
    dataDir: config.node.dataDir, system, clock, rng, log, audit: stores.audit, level: () => health.level,
    ...(clustered ? { runbooks: clustered.runbooks } : {}), // cluster mode: every node holds every tenant's (NATS KV)
    publish: (tenant, event) => live.publish(tenant, event), webhooks: (tenant) => tenancy.tenancy.registry.get(tenant)?.webhooks,
    maxUnfinishedRuns: (tenant) => tenancy.tenancy.registry.get(tenant)?.maxUnfinishedRuns,
  });
  for (const id of tenancy.ids()) for (const inc of incidents.unresolved(id)) automation.incident(inc);

  // Effects go one way: to the writers (and the live stream); nothing comes back up.
  const logFailure = (what: string) => (err: unknown): void => log.error({ err }, `${what} could not be stored`);
  const sink: EventSink = {
    keepsVerdicts: true,
    samples(tenant, service, series, replay, epoch, verdicts) {
      // fenced: read under an ownership that has ended (even if the shard is held again since,
      // when its replay writes these checked); the batch's receipt fails, so no watermark passes it
      if (clustered && (epoch === undefined ? !clustered.holdsTenant(tenant) : !clustered.admitsBatch(tenant, epoch))) return Promise.reject(new VigilError('CONFLICT', `tenant ${tenant}: a batch read under a lease this node no longer holds is left to the shard's owner`));
      const runs = series.map((s, i): SampleRun => ({ tenant, service, metric: s.metric, labels: s.labels ?? {}, samples: s.samples, scores: verdicts?.[i] }));
      let n = 0;
      for (const r of runs) n += r.samples.length;
      metrics.samples(tenant, n);
      // a replayed batch may be stored already: its batch goes out as a checked write, which sends only what is missing
      // (through the writers, so a replay of many batches costs a few big writes, not a query and an insert per batch)
      return writers.samples.write(runs, replay ? { checked: true } : {});
    },
    current: (tenant, epoch) => !clustered || clustered.admitsBatch(tenant, epoch),
    // cluster mode: an effect of a shard this node no longer holds (its lease ran out while the
    // actors still had it) is dropped: the next owner replays the batch and emits it, once
    anomaly(ev) {
      if (clustered && !clustered.holdsTenant(ev.tenant)) return;
      writers.anomalies.write([ev]).catch(logFailure('an anomaly'));
      metrics.anomaly(ev.tenant, ev.tier);
      live.publish(ev.tenant, { type: 'anomaly', data: ev });
    },
    alert(a) {
      if (clustered && !clustered.holdsTenant(a.tenant)) return;
      writers.alerts.write([a]).catch(logFailure('an alert'));
      metrics.alert(a.tenant, a.severity);
      live.publish(a.tenant, { type: 'alert', data: a });
      automation.alert(a);
    },
    incident(inc) {
      if (clustered && !clustered.holdsTenant(inc.tenant)) return;
      if (incidents.put(inc)) metrics.incident(inc.tenant);
      const key = cacheKeys.incident(inc.tenant, inc.id);
      // once stored, again: a read between this change and its write may have cached the state before it
      writers.putIncident(inc).then(() => stores.cache.invalidate(key).catch(() => undefined), logFailure('an incident'));
      stores.cache.invalidate(key).catch(() => undefined); // the cache logs its own outages
      live.publish(inc.tenant, { type: 'incident', data: inc });
      automation.incident(inc);
    },
    notify(n) {
      if (clustered && !clustered.holdsTenant(n.tenant)) return;
      live.publish(n.tenant, { type: 'notification', data: n });
    },
    rca(r) {
      if (clustered && !clustered.holdsTenant(r.tenant)) return;
      rcaResults.put(r);
      writers.putRca(r).catch(logFailure('an RCA ranking'));
      live.publish(r.tenant, { type: 'rca', data: r });
      automation.rca(r);
    },
  };

  // Who a degraded node tells directly: at L3/L4 services pass alerts to the on-call, at L4 the SRE team hears
  let publicUrl = '';
  const notifier = startNotifier(config, health, clock, rng, log, () => `${publicUrl}/status`);

  // Detector state from the shards' snapshots; each shard resumes its log after it.
  const { state: restored, resume } = restoredState(clustered ? new Map() : await snapshots.loadAll());
  const tenants = system.spawn<TenantsMsg>(clustered ? 'shards' : TENANTS, (clustered?.tenantsBehavior ?? tenantsBehavior)({
    tenantSettings: (id) => tenancy.settingsOf(id),
    detectorsOf: (id, detectors) => gates.detectorsOf(id, detectors),
    supervision,
    correlation: { ...config.correlation, minAlertScore: config.detection.minAlertScore, criticalScore: DEFAULT_CRITICAL_SCORE },
    // grouping reads the tenant's topology through the cache (a change reloads it: NodeEngine.putTopology); silences outlive restarts
    correlator: { topology: (id) => stores.cache.get(cacheKeys.topology(id, '*'), () => graph.topology(id)).then((t) => t ?? { services: [] }), silences },
    detectors: options.detectors ?? tierDetectors({ clock, sensitivity: sensitivityOf(config), modelBreaker: health.breakers.require('ml_inference'), level: () => health.level }),
    incidents,
    sink,
    serviceIdleMs: config.actors.serviceIdleMs,
    level: () => health.level, // the one way every stage reads the node's level
    ...(notifier ? { notify: notifier } : {}),
    restored,
    rca: { source: rcaSource(store, graph, stores.cache) },
  }));

  // Shard hosts: every shard is local on a single node. A batch appended by this process
  // carries the receipt its request was admitted with; one read again after a restart is a replay.
  const admitted = new Map<string, AdmittedBatch>();
  // a batch's way through the log, line by line (appended, read, snapshot, acknowledged): at level trace only
  const tracing = log.isLevelEnabled('trace');
  const hosts = new ShardHosts({
    log: ingestLog,
    take(record) {
      const mine = admitted.get(record.id);
      admitted.delete(record.id);
      return mine;
    },
    deliver(batch, record, mine) {
      let n = 0;
      for (const s of batch.series) n += s.samples.length;
      // cluster mode: what this node reads and has not taken in counts here, where its owner can be behind
      const receipt = mine?.receipt ?? (clustered ? backlog.count(batch.tenant, n) : new IngestReceipt(n, () => undefined));
      gates.deliver(batch.tenant, { type: 'ingest', series: batch.series, receipt, position: record.position, replay: mine === undefined && (clustered?.isReplay(record) ?? true),
        ...(clustered ? { epoch: clustered.epochOf(record.shard) } : {}),
      });
      return receipt;
    },
    onBadRecord: (record, err) => log.error({ err, shard: record.shard, position: record.position }, 'ingest log record cannot be decoded: skipped'),
    onReadError: (shard, err) => log.warn({ err, shard }, 'reading the ingest log failed; reading again'),
    onDuplicate: (record, first) => log.warn({ shard: record.shard, position: record.position, first, id: record.id }, 'the ingest log holds a batch twice: the second copy is skipped'),
    ...(tracing ? { trace: (what: string, shard: number, position: number, id?: string) => log.trace({ shard, position, id }, what) } : {}),
    onStoreFailed: (record, err) => {
      if (VigilError.is(err, 'CONFLICT')) log.debug({ shard: record.shard, position: record.position }, 'a batch read under a lease since lost: left to the next owner');
      // a dead letter: expected when a lost shard's actors are stopped or the node stops; else
      // (a supervisor restarted with the batch queued) the shard stays below it until replayed
      else if (err instanceof DroppedBatch && (stopping || (clustered && clustered.epochOf(record.shard) === 0))) log.debug({ shard: record.shard, position: record.position }, 'a batch dropped unhandled: left in the log for a replay');
      else if (err instanceof DroppedBatch) log.warn({ shard: record.shard, position: record.position }, 'a batch was dropped unhandled (its actor stopped with it queued): its shard stays below it until replayed');
      else log.error({ err, shard: record.shard, position: record.position }, 'a batch could not be stored: its shard stays below it until replayed');
    },
  });
  const checkpoints = new Checkpoints({
    hosts, snapshots: clustered?.snapshots ?? snapshots, log: ingestLog, clock, node: config.node.id, bytesPerSecond: config.ingest.checkpointBytesPerSecond,
    ...(clustered ? clustered.checkpointParts(incidents) : {}),
    stateOf: (names) => tenants.ask((reply) => ({ type: 'snapshot', tenants: names, pack: packTenantState, reply }), CHECKPOINT_TIMEOUT_MS),
    flush: () => writers.flush(),
    onError: (err) => log.warn({ err }, 'checkpoint failed; the next one retries'),
    ...(tracing ? { trace: (what: string, shard: number, position: number, token: number) => log.trace({ shard, position, token }, what) } : {}),
  });
  for (let shard = 0; shard < (clustered ? 0 : SHARDS); shard++) { // cluster mode: shards come with their leases
    const at = resume.get(shard);
    const from = Math.max(at?.position ?? 0, ingestLog.acked(shard));
    if (at) checkpoints.restored(shard, at.position);
    hosts.start(shard, from, at?.tenants ?? []);
  }
  checkpoints.every(config.ingest.checkpointIntervalMs);
  watchCheckpoints(metrics, () => checkpoints.behind());

  let tick = clock.setTimeout(function again() {
    tenants.tell({ type: 'broadcast', msg: { type: 'tick', now: clock.now() } });
    tick = clock.setTimeout(again, CORRELATION_TICK_MS);
  }, CORRELATION_TICK_MS);

  const engine = new NodeEngine({
    system, clock, tenants, log: ingestLog, shards: shardCount, admitLocally: !clustered, store, graph, audit: stores.audit, cache: stores.cache, incidents, live, backlog, limits, admitted,
    metrics: metrics.registry, tenantMetrics: metrics.tenantRegistry, isReady: () => ready,
    writerDepth: (tenant) => writers.depth(tenant),
    ...(clustered ? { pushedBackBy: (tenant: string) => clustered.pushback.pushedBackBy(tenant) } : {}),
    ...(tracing ? { traceAppend: (tenant: string, series: readonly SeriesInput[], at: Appended, id: string) => log.trace({ tenant, shard: at.shard, position: at.position, id, duplicate: at.duplicate, from: firstSampleAt(series) }, 'batch appended') } : {}),
    incidentsStored: () => writers.incidents.flush(),
    automation,
    rcaResults,
    health,
    correlation: new NodeCorrelation({ tenants, clock, audit: stores.audit, serviceLabels: () => config.remoteWrite.serviceLabels }),
  });
  health.start();
  let stopModel = (): void => undefined;
  let gateway: Gateway;
  try {
    stopModel = await startRobustModel(config, clock, log, () => health.modelFault());
    // cluster mode: a tenant's reads and commands are answered by its shard's owner (node/owner-route.ts)
    clustered?.serveOwnerCalls(engine);
    const gatewayTenancy = tenancy.gateway(limits, clustered ? (tenant) => clustered.usageAcross(tenant) : undefined);
    // GET /v1/usage on any node sums every node's figures for the tenant, this one's as its route reads them
    clustered?.serveUsage((tenant) => nodeUsage(gatewayTenancy, config.node.id, tenant));
    // a gateway node is where floods arrive: its over-quota tenants are answered by a process of their own
    const refusalProcess = config.http.refusalProcess ?? (config.cluster.enabled && config.cluster.capacity === 0);
    gateway = await startGateway(clustered ? ownerRouted(engine, clustered.owners) : engine, config, log, { tenancy: gatewayTenancy, refusalProcess });
  } catch (err) {
    // Nothing may keep the process alive after a failed start (a taken port, say).
    clock.clearTimeout(tick);
    notifier?.close();
    health.stop();
    stopModel();
    await tenancy.close();
    await checkpoints.stop().catch(() => undefined);
    await clustered?.stop(false);
    await hosts.stop();
    gates.stop();
    await system.stop();
    await stores.close();
    await clustered?.close();
    throw err;
  }
  ready = true;
  publicUrl = gateway.url;
  clustered?.start({ shardsRef: tenants, hosts, checkpoints, address: gateway.url, incidents, storeIncident: (inc) => writers.putIncident(inc).catch(logFailure('an incident')), level: () => health.level });
  log.info({ url: gateway.url, node: config.node.id, dataDir: config.node.dataDir }, 'vigil node ready');

  function stop(): Promise<void> {
    stopping ??= (async () => {
      ready = false;
      clock.clearTimeout(tick);
      stopModel();
      await gateway.close();
      await clustered?.stop(true); // a clean stop hands every shard off (drain) before the hosts stop
      await tenancy.close();
      await hosts.stop();
      gates.stop(); // what a budget still holds is read from the log again at the next start
      // what the actors hold is handled, stored and covered by a last snapshot
      await settle(system, STOP_SETTLE_MS);
      await checkpoints.stop().catch((err: unknown) => log.warn({ err }, 'last checkpoint failed: the next start replays more of the log'));
      await system.stop();
      notifier?.close();
      await automation.stop();
      health.stop(); // after the writers' last flush: an outage at the end still shows in the logs
      await stores.close();
      await clustered?.close();
    })();
    return stopping;
  }

  return { engine, url: gateway.url, port: gateway.port, stop };
}

/** The time of a batch's earliest sample (a trace names a batch by its tenant and this). */
function firstSampleAt(series: readonly SeriesInput[]): number {
  let first = Number.POSITIVE_INFINITY;
  for (const s of series) if (s.samples.length > 0) first = Math.min(first, s.samples[0]![0]);
  return first;
}
