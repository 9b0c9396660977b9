// A Vigil node: the actor tree, the stores, the bus and the HTTP/WebSocket gateway,
// wired together. `startNode` is what `vigil start` and the tests run.
import pino, { type Logger } from 'pino';
import { createActorSystem, SystemClock, SeededRng, type Clock, type Rng } from '../actors/runtime/index.ts';
import { settleDropped, tenantOfPath, tenantsBehavior, type TenantSettings, type TenantsMsg } from '../actors/tenant/index.ts';
import type { DetectorFactory } from '../actors/service/index.ts';
import { DEFAULT_CRITICAL_SCORE } from '../actors/correlation/index.ts';
import type { EventSink } from '../actors/sink.ts';
import { startGateway, type Gateway } from '../api/index.ts';
import { MemoryEventStore, MemorySeriesStore, MemoryTopologyStore } from '../storage/index.ts';
import type { Engine } from '../api/engine.ts';
import type { VigilConfig } from './config.ts';
import type { Sensitivity } from '../actors/detection/index.ts';
import { InProcessBus } from './bus/in-process.ts';
import { LiveHub } from './live.ts';
import { createNodeMetrics } from './node-metrics.ts';
import { startRobustModel, tierDetectors } from './detectors.ts';
import { NodeEngine, type IngestMessage } from './node-engine.ts';
import { IngestBacklog } from './backlog.ts';
import { SeriesLimits } from './series-limits.ts';

/** How often correlators check for incidents to auto-resolve. */
export const CORRELATION_TICK_MS = 10_000;
export const DEFAULT_SEED = 1;
/** The tenant supervisor's name under the root: `/root/tenants/<tenant>/<service>`. */
const TENANTS = 'tenants';
const TENANTS_PATH = `/root/${TENANTS}`;

export interface NodeOptions {
  clock?: Clock;
  rng?: Rng;
  logger?: Logger;
  /** Detector construction (tests inject faulty detectors; the default is tierDetectors()). */
  detectors?: DetectorFactory;
  /** Called when the root supervisor gives up; the default stops the node and exits the process. */
  onFatal?: (err: Error) => void;
}

export interface NodeHandle {
  engine: Engine;
  url: string;
  port: number;
  stop(): Promise<void>;
}

function sensitivityOf(config: VigilConfig): Sensitivity | undefined {
  return config.detection.threshold === undefined ? undefined : { threshold: config.detection.threshold };
}

export async function startNode(config: VigilConfig, options: NodeOptions = {}): Promise<NodeHandle> {
  const log = options.logger ?? pino({ level: config.log.level });
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
    logBindings: (path) => {
      const tenant = tenantOfPath(path, TENANTS_PATH);
      return tenant === undefined ? {} : { tenant };
    },
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
    const at = { tenant: tenantOfPath(ev.path, TENANTS_PATH) ?? null, actor: ev.path };
    if (ev.type === 'crashed') log.warn({ ...at, err: ev.error }, 'actor crashed');
    else if (ev.type === 'escalated') log.error(at, 'restart intensity exceeded: escalating');
    else if (ev.type === 'restarted') log.info({ ...at, delayMs: ev.delayMs }, 'actor restarted');
  });

  const backlog = new IngestBacklog();
  const tenantConfigs = new Map(config.tenants.map((t) => [t.id, t]));
  const limits = new SeriesLimits((tenant) => ({
    maxSeries: tenantConfigs.get(tenant)?.maxSeries ?? config.limits.maxSeriesPerTenant,
    maxServices: tenantConfigs.get(tenant)?.maxServices ?? config.limits.maxServicesPerTenant,
  }));
  const series = new MemorySeriesStore();
  const events = new MemoryEventStore();
  const topology = new MemoryTopologyStore();
  const live = new LiveHub();
  const metrics = createNodeMetrics(() => system.stats(), () => backlog.size);

  const sink: EventSink = {
    anomaly(ev) {
      if (!events.putAnomaly(ev)) return;
      metrics.anomaly(ev.tenant, ev.tier);
      live.publish(ev.tenant, { type: 'anomaly', data: ev });
    },
    alert(a) {
      if (!events.putAlert(a)) return;
      metrics.alert(a.tenant, a.severity);
      live.publish(a.tenant, { type: 'alert', data: a });
    },
    incident(inc) {
      if (events.putIncident(inc)) metrics.incident(inc.tenant);
      live.publish(inc.tenant, { type: 'incident', data: inc });
    },
    samples(tenant, count) {
      metrics.samples(tenant, count);
    },
  };

  const tenantSettings = new Map<string, TenantSettings>(config.tenants.map((t) => [t.id, {
    id: t.id, tier: t.tier ?? config.detection.tier, metricTiers: new Map(Object.entries(t.metricTiers ?? {})),
    warmupMs: config.detection.warmupMs,
    ...(t.metricSensitivity ? { metricSensitivity: new Map(Object.entries(t.metricSensitivity)) } : {}),
  }]));
  const tenants = system.spawn<TenantsMsg>(TENANTS, tenantsBehavior({
    tenantSettings: (id) => tenantSettings.get(id),
    supervision,
    correlation: {
      windowMs: config.correlation.windowMs,
      autoResolveMs: config.correlation.autoResolveMs,
      minAlertScore: config.detection.minAlertScore,
      criticalScore: DEFAULT_CRITICAL_SCORE,
    },
    detectors: options.detectors ?? tierDetectors({ clock, sensitivity: sensitivityOf(config) }),
    series,
    events,
    sink,
    serviceIdleMs: config.actors.serviceIdleMs,
  }));

  // The shard host: every shard is local on a single node.
  const bus = new InProcessBus<IngestMessage>();
  bus.subscribe('metrics.>', (m) => tenants.tell({ type: 'to-tenant', tenant: m.tenant, msg: { type: 'ingest', series: m.series, ...(m.receipt ? { receipt: m.receipt } : {}) } }));

  let tick = clock.setTimeout(function again() {
    tenants.tell({ type: 'broadcast', msg: { type: 'tick', now: clock.now() } });
    tick = clock.setTimeout(again, CORRELATION_TICK_MS);
  }, CORRELATION_TICK_MS);

  const engine = new NodeEngine({
    system, clock, tenants, bus, series, events, topology, live, backlog, limits, metrics: metrics.registry, tenantMetrics: metrics.tenantRegistry, isReady: () => ready,
  });
  const stopModel = await startRobustModel(config, clock, log);
  let gateway: Gateway;
  try {
    gateway = await startGateway(engine, config, log);
  } catch (err) {
    // Nothing may keep the process alive after a failed start (a taken port, say).
    clock.clearTimeout(tick);
    stopModel();
    await bus.close();
    await system.stop();
    throw err;
  }
  ready = true;
  log.info({ url: gateway.url, node: config.node.id }, 'vigil node ready');

  function stop(): Promise<void> {
    stopping ??= (async () => {
      ready = false;
      clock.clearTimeout(tick);
      stopModel();
      await gateway.close();
      await bus.close();
      await system.stop();
    })();
    return stopping;
  }

  return { engine, url: gateway.url, port: gateway.port, stop };
}
