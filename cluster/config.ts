// A node's configuration: the shape, its defaults and the env/flag names.
// Loading (YAML file → schema check → VIGIL_* environment → flags) lives in config-load.ts.
import type { Tier } from '../protocols/types.ts';
import { DEFAULT_MAX_SERIES_PER_TENANT, DEFAULT_MAX_SERVICES_PER_TENANT } from './series-limits.ts';
import { DEFAULT_CHECKPOINT_BYTES_PER_SECOND, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpoint.ts';
import { DEFAULT_RECOVERY_DWELL_MS } from '../supervisors/index.ts';
import { DEFAULT_METRIC_LABEL, DEFAULT_OUT_OF_ORDER, DEFAULT_SERVICE_LABELS } from '../protocols/remote-write.ts';
import {
  DEFAULT_GROUP_INTERVAL_MS, DEFAULT_GROUP_WAIT_MS, DEFAULT_HOPS, DEFAULT_MAX_ALERTS, DEFAULT_MAX_SILENCES, DEFAULT_REOPEN_MS,
  DEFAULT_REPEAT_INTERVAL_MS, DEFAULT_RESOLVE_TIMEOUT_MS, type InhibitRule,
} from '../actors/correlation/index.ts';

/** Prometheus series remembered per tenant (their mapping and last sample); the gateway's remote-write reads it. */
export const DEFAULT_MAX_KNOWN_SERIES = 100_000;

export interface TenantConfig {
  id: string;
  /** API keys as sha256 hex hashes (`vigil key hash <key>` prints one); plain keys are never stored */
  keyHashes: string[];
  /** default detection tier for this tenant's metrics (default 'basic') */
  tier?: Tier;
  /** per-metric tier overrides: metric name → tier */
  metricTiers?: Record<string, Tier>;
  /** per-metric decision settings: metric name → which side counts, bound, threshold */
  metricSensitivity?: Record<string, MetricSensitivity>;
  /** most series this tenant may hold on a node (default limits.maxSeriesPerTenant) */
  maxSeries?: number;
  /** most services this tenant may hold on a node (default limits.maxServicesPerTenant) */
  maxServices?: number;
  /** days this tenant's raw samples are kept (default 7; rollups keep their own) */
  rawRetentionDays?: number;
  /** per-metric static limits: metric name → {above, below}; judged by rule-based detection at L2-L4 */
  metricLimits?: Record<string, MetricLimit>;
}

/** An operator's static line for a metric (actors/service/rules.ts): above or below it is anomalous. */
export interface MetricLimit {
  above?: number;
  below?: number;
}

/** When a sample of a metric counts as an anomaly (see actors/detection/detector.ts). */
export interface MetricSensitivity {
  /** 'up' for latency and error rates, where only a rise hurts; default 'both' */
  direction?: 'up' | 'down' | 'both';
  /** bound in robust deviations (default: the tier's own) */
  deviations?: number;
  /** calibrated score threshold (default: detection.threshold, else the tier's own) */
  threshold?: number;
  /** also flag a slow drift of the level (a leak); default false (actors/detection/drift.ts) */
  drift?: boolean;
}

export interface VigilConfig {
  node: {
    id: string;              // default: 'node-1'
    dataDir: string;         // default: '.vigil-data'
  };
  http: {
    host: string;            // default '127.0.0.1'
    port: number;            // default 7400; 0 picks a free port
    bodyLimitBytes: number;  // default 5 MB
    /** a process of its own answers tenants over their quota, off the event loop answering the rest
     * (api/refusals/README.md); default: on for a gateway node (cluster.capacity 0), off otherwise */
    refusalProcess?: boolean;
    /** the refusal process also keeps off the host's first CPU, where the host has more than one:
     * `vigil cluster up --gateway-cpu` keeps that CPU for gateways (default false) */
    refusalOffFirstCpu?: boolean;
  };
  auth: {
    adminKeyHash?: string;   // sha256 hex of the admin key
  };
  tenants: TenantConfig[];
  ingest: {
    maxFutureSkewMs: number; // samples further ahead than this are refused (default 10 min)
    maxPastAgeMs: number;    // samples older than this are refused (default 7 days)
    /** how often the detector state is snapshotted and the log acknowledged up to it (default 5 s):
     * longer means fewer pauses for every tenant, and a longer replay after a restart or failover */
    checkpointIntervalMs: number;
    /** a shard's timed snapshots at most this many bytes of its packed state a second (default 256 KiB):
     * a shard of thousands of series is snapshotted less often than every interval, and replays more */
    checkpointBytesPerSecond: number;
  };
  degradation: {
    dwellMs: number;         // a better level applies only after holding this long (default 30 s)
  };
  limits: {
    maxSeriesPerTenant: number;   // series a tenant may hold on a node unless it sets maxSeries (default 10,000)
    maxServicesPerTenant: number; // services likewise, unless it sets maxServices (default 1,000)
  };
  detection: {
    tier: Tier;              // default tier when the tenant sets none (default 'basic')
    threshold?: number;      // calibrated score at which a sample is anomalous (default: the tier's own, 0.7)
    minAlertScore: number;   // anomalies at or above this score raise an alert (default 0.9)
    warmupMs: number;        // a new series learns this long (in data time) before it may report anomalies (default 0)
  };
  /** actors/correlation: alerts → incidents, and what Alertmanager's settings of the same names do */
  correlation: {
    windowMs: number;        // alerts of one tenant closer than this (and related: topology, labels) join one incident (default 5 min)
    autoResolveMs: number;   // an alert raised from anomalies clears after this long without one; an incident resolves when all its alerts have (default 30 min)
    hops: number;            // topology grouping: services within this many hops of an incident's services join it (default 2)
    groupBy: string[];       // label grouping: alerts with equal values of these labels join one incident (default none)
    groupWaitMs: number;     // a new incident's first notification waits this long (default 30 s)
    groupIntervalMs: number; // a change is notified no sooner than this after the incident's last notification (default 5 min)
    repeatIntervalMs: number; // an open, unacknowledged incident is notified again after this long (default 4 h)
    resolveTimeoutMs: number; // an Alertmanager alert sent without endsAt clears after this long unless sent again (default 5 min)
    reopenMs: number;        // a resolved incident reopens when one of its alerts fires again within this long (default 1 h)
    inhibitRules: InhibitRule[]; // root alerts that mute their symptoms (default none)
    maxAlerts: number;       // live alerts a tenant may hold (default 50,000)
    maxSilences: number;     // silences a tenant may hold (default 1,000)
  };
  actors: {
    serviceIdleMs: number;   // a ServiceActor idle this long is passivated (default 10 min)
    restartIntensity: number; // restarts within restartPeriodMs before escalation (default 3)
    restartPeriodMs: number;  // default 5000
  };
  /** How Prometheus remote write (POST /api/v1/write) maps label sets onto Vigil series. */
  remoteWrite: {
    serviceLabels: string[];   // labels naming the service, first present wins (default ['service', 'job'])
    metricLabel: string;       // the label naming the metric (default '__name__')
    dropLabels: string[];      // labels left out of the series labels, e.g. ['instance'] (default none)
    outOfOrder: 'reject' | 'drop'; // an out-of-order sample refuses the request (400) or is dropped and counted (default 'reject')
    maxKnownSeries: number;    // Prometheus label sets remembered per tenant (default 100,000)
    maxDecodedBytes?: number;  // largest uncompressed WriteRequest (default http.bodyLimitBytes)
  };
  log: {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'; // default 'info'
  };
  /** Who a degraded node tells directly: webhooks that receive a POST of JSON (actors/notify). */
  notify: {
    onCall?: string;         // L3/L4: alerts pass straight through to the on-call's webhook (no correlation); default none
    sre?: string;            // L4: the SRE team's webhook (L4 alerts, the node entering and leaving L4); default none
  };
  /** Tenant configuration at run time and ingestion quotas (api/tenancy/README.md). */
  tenancy: {
    file?: string;             // the tenants file (config/tenants.yaml documents it), watched and hot-reloaded; default none
    reloadDebounceMs: number;  // quiet time after the file changes before it is read (default 250 ms)
    quotaPrefix: string;       // before every Redis key of the quota buckets (default 'vigil:quota:')
    fallbackShare?: number;    // share of a quota each node allows while Redis is away (default 1 / nodes seen)
  };
  /** Cluster mode (cluster/README.md): shards placed across nodes over NATS JetStream. Off: one embedded node. */
  cluster: ClusterConfig;
}

export interface ClusterConfig {
  enabled: boolean;          // default false: the embedded single node (disk log, local snapshots)
  natsUrl: string;           // default 'nats://127.0.0.1:4222' (comma-separated for several servers)
  name: string;              // names the stream, subjects and KV buckets: two clusters on one NATS never meet (default 'vigil')
  shards: number;            // shards of the ingest stream (default 256); every node of a cluster must agree
  replicas: number;          // replicas of the stream and buckets when this node creates them (default 1; production 3)
  heartbeatMs: number;       // how often the node announces itself and renews its leases (default 500 ms)
  deadAfterMs: number;       // a node whose heartbeat is older is dead; also the lease TTL (default 3 s)
  moveFraction: number;      // at most this fraction of the shards moves per round on a join or drain (default 0.1)
  zone: string;              // placement spreads shards over zones first (default '': one zone)
  capacity: number;          // relative weight in placement (default 1); 0: a gateway node, which owns no shard
  pinnedTenants: string[];   // tenants this node hosts exclusively (a dedicated node takes no other shard)
  dedicated: boolean;        // kept for large tenants that name no nodes: takes their shards and no other (default false)
  ownershipLog?: string;     // a JSON-lines file where this node records every shard it takes and gives up (tests, audits)
}

export const DEFAULT_CLUSTER_SHARDS = 256;

export function defaultClusterConfig(): ClusterConfig {
  return {
    enabled: false, natsUrl: 'nats://127.0.0.1:4222', name: 'vigil', shards: DEFAULT_CLUSTER_SHARDS, replicas: 1,
    heartbeatMs: 500, deadAfterMs: 3_000, moveFraction: 0.1, zone: '', capacity: 1, pinnedTenants: [], dedicated: false,
  };
}

export const DEFAULT_PORT = 7400;
export const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export function defaultConfig(): VigilConfig {
  return {
    node: { id: 'node-1', dataDir: '.vigil-data' },
    http: { host: '127.0.0.1', port: DEFAULT_PORT, bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES },
    auth: {},
    tenants: [],
    ingest: { maxFutureSkewMs: 10 * 60_000, maxPastAgeMs: 7 * 24 * 3600_000, checkpointIntervalMs: DEFAULT_CHECKPOINT_INTERVAL_MS, checkpointBytesPerSecond: DEFAULT_CHECKPOINT_BYTES_PER_SECOND },
    degradation: { dwellMs: DEFAULT_RECOVERY_DWELL_MS },
    limits: { maxSeriesPerTenant: DEFAULT_MAX_SERIES_PER_TENANT, maxServicesPerTenant: DEFAULT_MAX_SERVICES_PER_TENANT },
    detection: { tier: 'basic', minAlertScore: 0.9, warmupMs: 0 },
    correlation: {
      windowMs: 5 * 60_000, autoResolveMs: 30 * 60_000, hops: DEFAULT_HOPS, groupBy: [],
      groupWaitMs: DEFAULT_GROUP_WAIT_MS, groupIntervalMs: DEFAULT_GROUP_INTERVAL_MS, repeatIntervalMs: DEFAULT_REPEAT_INTERVAL_MS,
      resolveTimeoutMs: DEFAULT_RESOLVE_TIMEOUT_MS, reopenMs: DEFAULT_REOPEN_MS, inhibitRules: [], maxAlerts: DEFAULT_MAX_ALERTS, maxSilences: DEFAULT_MAX_SILENCES,
    },
    actors: { serviceIdleMs: 10 * 60_000, restartIntensity: 3, restartPeriodMs: 5000 },
    remoteWrite: {
      serviceLabels: [...DEFAULT_SERVICE_LABELS],
      metricLabel: DEFAULT_METRIC_LABEL,
      dropLabels: [],
      outOfOrder: DEFAULT_OUT_OF_ORDER,
      maxKnownSeries: DEFAULT_MAX_KNOWN_SERIES,
    },
    log: { level: 'info' },
    notify: {},
    tenancy: { reloadDebounceMs: 250, quotaPrefix: 'vigil:quota:' },
    cluster: defaultClusterConfig(),
  };
}
