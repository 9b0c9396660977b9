// Loading a node's configuration: defaults → YAML file (checked against the schema) →
// VIGIL_* environment → command-line flags; the later wins. Every mistake becomes one
// VigilError('CONFIG_INVALID') whose message names the key, the rule and the value, so
// `vigil start` can print it as one line. API keys never sit in a file in the clear:
// the file holds sha256 hashes; plain keys come only from the environment.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { VigilError } from '../protocols/errors.ts';
import { TIERS } from '../protocols/types.ts';
import { hashKey } from '../protocols/keys.ts';
import { defaultConfig, type MetricLimit, type MetricSensitivity, type VigilConfig } from './config.ts';
import { MAX_RETENTION_DAYS } from '../storage/tsdb/index.ts';
import { compileMatchers, parseMatcher, type InhibitRule, type Matcher } from '../actors/correlation/index.ts';
import { MAX_HOPS } from '../storage/graph/index.ts';

/** Flags `vigil start` accepts that override the configuration. */
export interface ConfigFlags {
  port?: string | number;
  host?: string;
  data?: string;
  logLevel?: string;
  nodeId?: string;
}

export interface LoadOptions {
  /** YAML file path (flag --config; else VIGIL_CONFIG; else none) */
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** starting point instead of defaultConfig() (the demo passes its embedded defaults) */
  base?: VigilConfig;
}

/** The tenant VIGIL_DEMO_API_KEY creates. */
export const DEMO_TENANT = 'demo';

export { hashKey };

export function loadConfig(options: LoadOptions = {}): VigilConfig {
  const env = options.env ?? process.env;
  const config = structuredClone(options.base ?? defaultConfig());
  const file = options.file ?? nonEmpty(env.VIGIL_CONFIG);
  if (file !== undefined) applyFile(config, readYaml(file), file);
  applyEnv(config, env);
  applyFlags(config, options.flags ?? {});
  checkAcross(config);
  return config;
}

/** Parses and checks YAML text; `source` names it in messages. Exported for tests and `vigil config check`. */
export function parseConfigYaml(text: string, source: string, base: VigilConfig = defaultConfig()): VigilConfig {
  const config = structuredClone(base);
  applyFile(config, parseYaml(text, source), source);
  checkAcross(config);
  return config;
}

/** Rules that join two keys. */
function checkAcross(config: VigilConfig): void {
  const { capacity, pinnedTenants, dedicated } = config.cluster;
  if (capacity === 0 && pinnedTenants.length > 0) {
    throw invalid(`cluster.capacity 0 makes a gateway node, which hosts no shard, so it cannot pin tenants (cluster.pinnedTenants: ${pinnedTenants.join(', ')})`);
  }
  if (capacity === 0 && dedicated) {
    throw invalid('cluster.capacity 0 makes a gateway node, which hosts no shard, so it cannot be kept for large tenants (cluster.dedicated: true)');
  }
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw invalid(`cannot read ${file} (${code})`);
  }
  return parseYaml(text, file);
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}` : '';
    throw invalid(`${source} is not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS() ?? {};
  } catch (err) {
    // the yaml library refuses an alias bomb here (a ReferenceError), after parsing
    throw invalid(`${source} is not valid YAML: ${(err as Error).message}`);
  }
}

function applyFile(config: VigilConfig, raw: unknown, source: string): void {
  const where = ` in ${source}`;
  if (!isObject(raw)) throw invalid(`the top level must be a mapping of sections (got ${describe(raw)})${where}`);
  const target = config as unknown as Record<string, unknown>;
  for (const [section, value] of Object.entries(raw)) {
    if (section === 'tenants') {
      config.tenants = checkTenants(value, where);
      continue;
    }
    const schema = own(CONFIG_SCHEMA, section);
    if (!schema) throw invalid(`unknown section "${section}" (known: ${[...Object.keys(CONFIG_SCHEMA), 'tenants'].join(', ')})${where}`);
    if (value === null) continue; // an empty section keeps its defaults
    if (!isObject(value)) throw invalid(`${section} must be a mapping (got ${describe(value)})${where}`);
    const into = target[section] as Record<string, unknown>;
    applySection(into, value, schema, section, where);
  }
}

function applySection(into: Record<string, unknown>, value: Record<string, unknown>, schema: Schema, section: string, where: string): void {
  for (const [key, v] of Object.entries(value)) {
    const rule = own(schema, key);
    if (!rule) throw invalid(`unknown key ${section}.${key} (known: ${Object.keys(schema).join(', ')})${where}`);
    into[key] = check(`${section}.${key}`, rule, v, where);
  }
}

function checkTenants(value: unknown, where: string): VigilConfig['tenants'] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw invalid(`tenants must be a list (got ${describe(value)})${where}`);
  const seen = new Set<string>();
  return value.map((t, i) => {
    const at = `tenants[${i}]`;
    if (!isObject(t)) throw invalid(`${at} must be a mapping with id and keyHashes (got ${describe(t)})${where}`);
    for (const k of Object.keys(t)) {
      if (!TENANT_KEYS.includes(k)) {
        throw invalid(`unknown key ${at}.${k} (known: ${TENANT_KEYS.join(', ')})${where}`);
      }
    }
    const id = check(`${at}.id`, { kind: 'id' }, t.id, where) as string;
    if (seen.has(id)) throw invalid(`${at}.id "${id}" appears twice${where}`);
    seen.add(id);
    const hashes = t.keyHashes ?? [];
    if (!Array.isArray(hashes)) throw invalid(`${at}.keyHashes must be a list of sha256 hex hashes (got ${describe(hashes)})${where}`);
    const keyHashes = hashes.map((h, j) => check(`${at}.keyHashes[${j}]`, { kind: 'sha256' }, h, where) as string);
    const tenant: VigilConfig['tenants'][number] = { id, keyHashes };
    if (t.tier !== undefined) tenant.tier = check(`${at}.tier`, { kind: 'enum', values: TIERS }, t.tier, where) as typeof tenant.tier;
    if (t.metricTiers !== undefined) {
      if (!isObject(t.metricTiers)) throw invalid(`${at}.metricTiers must map metric names to tiers (got ${describe(t.metricTiers)})${where}`);
      // fromEntries defines own keys, so a metric called `__proto__` is just a metric
      tenant.metricTiers = Object.fromEntries(Object.entries(t.metricTiers).map(([metric, tier]) =>
        [metric, check(`${at}.metricTiers.${metric}`, { kind: 'enum', values: TIERS }, tier, where) as NonNullable<typeof tenant.tier>]));
    }
    if (t.metricSensitivity !== undefined) tenant.metricSensitivity = checkSensitivity(`${at}.metricSensitivity`, t.metricSensitivity, where);
    if (t.maxSeries !== undefined) tenant.maxSeries = check(`${at}.maxSeries`, LIMIT_RULE, t.maxSeries, where) as number;
    if (t.maxServices !== undefined) tenant.maxServices = check(`${at}.maxServices`, LIMIT_RULE, t.maxServices, where) as number;
    if (t.rawRetentionDays !== undefined) tenant.rawRetentionDays = check(`${at}.rawRetentionDays`, RETENTION_RULE, t.rawRetentionDays, where) as number;
    if (t.metricLimits !== undefined) tenant.metricLimits = checkLimits(`${at}.metricLimits`, t.metricLimits, where);
    return tenant;
  });
}

const TENANT_KEYS = ['id', 'keyHashes', 'tier', 'metricTiers', 'metricSensitivity', 'maxSeries', 'maxServices', 'rawRetentionDays', 'metricLimits'];
const RETENTION_RULE: Rule = { kind: 'int', min: 1, max: MAX_RETENTION_DAYS };
const LIMIT_RULE: Rule = { kind: 'int', min: 1, max: 100_000_000 };
const SENSITIVITY_SCHEMA: Schema = {
  direction: { kind: 'enum', values: ['up', 'down', 'both'] },
  deviations: { kind: 'number', min: 0, max: 1000 },
  threshold: { kind: 'number', min: 0, max: 1 },
  drift: { kind: 'bool' },
};

const LIMIT_VALUE: Rule = { kind: 'number', min: -Number.MAX_VALUE, max: Number.MAX_VALUE };

function checkLimits(at: string, value: unknown, where: string): Record<string, MetricLimit> {
  if (!isObject(value)) throw invalid(`${at} must map metric names to {above, below} (got ${describe(value)})${where}`);
  const out: Array<[string, MetricLimit]> = [];
  for (const [metric, l] of Object.entries(value)) {
    if (!isObject(l)) throw invalid(`${at}.${metric} must be a mapping of above, below (got ${describe(l)})${where}`);
    const limit: MetricLimit = {};
    for (const [k, v] of Object.entries(l)) {
      if (k !== 'above' && k !== 'below') throw invalid(`unknown key ${at}.${metric}.${k} (known: above, below)${where}`);
      limit[k] = check(`${at}.${metric}.${k}`, LIMIT_VALUE, v, where) as number;
    }
    if (limit.above !== undefined && limit.below !== undefined && limit.below >= limit.above) {
      throw invalid(`${at}.${metric}: below (${limit.below}) must be under above (${limit.above})${where}`);
    }
    out.push([metric, limit]);
  }
  return Object.fromEntries(out);
}

function checkSensitivity(at: string, value: unknown, where: string): Record<string, MetricSensitivity> {
  if (!isObject(value)) throw invalid(`${at} must map metric names to {direction, deviations, threshold, drift} (got ${describe(value)})${where}`);
  const out: Array<[string, MetricSensitivity]> = [];
  for (const [metric, s] of Object.entries(value)) {
    if (!isObject(s)) throw invalid(`${at}.${metric} must be a mapping of direction, deviations, threshold, drift (got ${describe(s)})${where}`);
    const checked: Array<[string, unknown]> = [];
    for (const [k, v] of Object.entries(s)) {
      const rule = own(SENSITIVITY_SCHEMA, k);
      if (!rule) throw invalid(`unknown key ${at}.${metric}.${k} (known: ${Object.keys(SENSITIVITY_SCHEMA).join(', ')})${where}`);
      checked.push([k, check(`${at}.${metric}.${k}`, rule, v, where)]);
    }
    out.push([metric, Object.fromEntries(checked) as MetricSensitivity]);
  }
  return Object.fromEntries(out);
}

/** Environment variables and the keys they set. */
const ENV_KEYS: ReadonlyArray<[string, string, string]> = [
  ['VIGIL_NODE_ID', 'node', 'id'],
  ['VIGIL_DATA', 'node', 'dataDir'],
  ['VIGIL_HOST', 'http', 'host'],
  ['VIGIL_PORT', 'http', 'port'],
  ['VIGIL_REFUSAL_OFF_FIRST_CPU', 'http', 'refusalOffFirstCpu'],
  ['VIGIL_LOG_LEVEL', 'log', 'level'],
  ['VIGIL_TIER', 'detection', 'tier'],
  ['VIGIL_DEGRADATION_DWELL_MS', 'degradation', 'dwellMs'],
  ['VIGIL_CHECKPOINT_INTERVAL_MS', 'ingest', 'checkpointIntervalMs'],
  ['VIGIL_CHECKPOINT_BYTES_PER_SECOND', 'ingest', 'checkpointBytesPerSecond'],
  ['VIGIL_REMOTE_WRITE_SERVICE_LABELS', 'remoteWrite', 'serviceLabels'],
  ['VIGIL_REMOTE_WRITE_DROP_LABELS', 'remoteWrite', 'dropLabels'],
  ['VIGIL_NOTIFY_ON_CALL', 'notify', 'onCall'],
  ['VIGIL_NOTIFY_SRE', 'notify', 'sre'],
  ['VIGIL_TENANTS_FILE', 'tenancy', 'file'],
  ['VIGIL_QUOTA_PREFIX', 'tenancy', 'quotaPrefix'],
  ['VIGIL_CLUSTER', 'cluster', 'enabled'],
  ['VIGIL_NATS_URL', 'cluster', 'natsUrl'],
  ['VIGIL_CLUSTER_NAME', 'cluster', 'name'],
  ['VIGIL_CLUSTER_ZONE', 'cluster', 'zone'],
  ['VIGIL_CLUSTER_CAPACITY', 'cluster', 'capacity'],
  ['VIGIL_CLUSTER_DEDICATED', 'cluster', 'dedicated'],
];

function applyEnv(config: VigilConfig, env: NodeJS.ProcessEnv): void {
  for (const [name, section, key] of ENV_KEYS) {
    const v = nonEmpty(env[name]);
    if (v !== undefined) set(config, section, key, v, name);
  }
  const demoKey = nonEmpty(env.VIGIL_DEMO_API_KEY);
  if (demoKey !== undefined) addTenantKey(config, DEMO_TENANT, demoKey);
  const adminKey = nonEmpty(env.VIGIL_ADMIN_API_KEY);
  if (adminKey !== undefined) config.auth.adminKeyHash = hashKey(adminKey);
}

/** Adds a plain key (hashed) to a tenant, creating the tenant when absent. */
export function addTenantKey(config: VigilConfig, tenant: string, key: string): void {
  const hash = hashKey(key);
  const t = config.tenants.find((x) => x.id === tenant);
  if (!t) config.tenants.push({ id: tenant, keyHashes: [hash] });
  else if (!t.keyHashes.includes(hash)) t.keyHashes.push(hash);
}

function applyFlags(config: VigilConfig, flags: ConfigFlags): void {
  if (flags.port !== undefined) set(config, 'http', 'port', String(flags.port), '--port');
  if (flags.host !== undefined) set(config, 'http', 'host', flags.host, '--host');
  if (flags.data !== undefined) set(config, 'node', 'dataDir', flags.data, '--data');
  if (flags.logLevel !== undefined) set(config, 'log', 'level', flags.logLevel, '--log-level');
  if (flags.nodeId !== undefined) set(config, 'node', 'id', flags.nodeId, '--node-id');
}

/** Sets one key from a string (env or flag); the message names the variable or flag. */
function set(config: VigilConfig, section: string, key: string, text: string, origin: string): void {
  const rule = CONFIG_SCHEMA[section]![key]!;
  const into = (config as unknown as Record<string, Record<string, unknown>>)[section]!;
  into[key] = check(origin, rule, fromText(rule, text), '');
}

/** Strings from env/flags become numbers where the rule wants one ("abc" stays a string and fails). */
function fromText(rule: Rule, text: string): unknown {
  if ((rule.kind === 'int' || rule.kind === 'number') && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
  return text;
}

function check(name: string, rule: Rule, value: unknown, where: string): unknown {
  const r = checkValue(rule, value);
  if (r.ok) return r.value;
  throw invalid(`${name} must be ${r.expected} (got ${describe(value)})${where}`);
}

function invalid(message: string): VigilError {
  return new VigilError('CONFIG_INVALID', `config error: ${message}`);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

/** `table[key]` for the table's own keys only: a key named `constructor` or `__proto__`
 * (from a file, or a metric name) is an unknown key, never Object.prototype's member. */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

// ---- The schema: every key of VigilConfig (except tenants, checked above) and its rule ----

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

type Rule =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'duration'; min: number }
  | { kind: 'string' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'sha256' }
  | { kind: 'id' }
  | { kind: 'label' }
  | { kind: 'url' }
  | { kind: 'bool' }
  // ids (tenants): a list, or one comma-separated string
  | { kind: 'ids' }
  // label names: a list, or one comma-separated string (how env and flags carry a list)
  | { kind: 'names'; min: number }
  // Alertmanager-style inhibition rules: [{sourceMatchers: ['name="v"', ...], targetMatchers: [...], equal: [labels]}]
  | { kind: 'inhibitRules' };
type Schema = Record<string, Rule>;

const MAX_MS = 365 * 24 * 3600_000;

const CONFIG_SCHEMA: Record<string, Schema> = {
  node: { id: { kind: 'id' }, dataDir: { kind: 'string' } },
  http: {
    host: { kind: 'string' },
    port: { kind: 'int', min: 0, max: 65535 },
    bodyLimitBytes: { kind: 'int', min: 1024, max: 1024 * 1024 * 1024 },
    refusalProcess: { kind: 'bool' },
    refusalOffFirstCpu: { kind: 'bool' },
  },
  auth: { adminKeyHash: { kind: 'sha256' } },
  ingest: { maxFutureSkewMs: { kind: 'duration', min: 0 }, maxPastAgeMs: { kind: 'duration', min: 1000 }, checkpointIntervalMs: { kind: 'duration', min: 100 }, checkpointBytesPerSecond: { kind: 'int', min: 1024, max: 1024 * 1024 * 1024 } },
  limits: { maxSeriesPerTenant: LIMIT_RULE, maxServicesPerTenant: LIMIT_RULE },
  degradation: { dwellMs: { kind: 'duration', min: 0 } },
  detection: {
    tier: { kind: 'enum', values: TIERS },
    threshold: { kind: 'number', min: 0, max: 1 },
    minAlertScore: { kind: 'number', min: 0, max: 1 },
    warmupMs: { kind: 'duration', min: 0 },
  },
  correlation: {
    windowMs: { kind: 'duration', min: 1 },
    autoResolveMs: { kind: 'duration', min: 1 },
    hops: { kind: 'int', min: 0, max: MAX_HOPS },
    groupBy: { kind: 'names', min: 0 },
    groupWaitMs: { kind: 'duration', min: 0 },
    groupIntervalMs: { kind: 'duration', min: 0 },
    repeatIntervalMs: { kind: 'duration', min: 1 },
    resolveTimeoutMs: { kind: 'duration', min: 1 },
    reopenMs: { kind: 'duration', min: 0 },
    inhibitRules: { kind: 'inhibitRules' },
    maxAlerts: LIMIT_RULE,
    maxSilences: LIMIT_RULE,
  },
  actors: {
    serviceIdleMs: { kind: 'duration', min: 1000 },
    restartIntensity: { kind: 'int', min: 0, max: 1000 },
    restartPeriodMs: { kind: 'duration', min: 1 },
  },
  remoteWrite: {
    serviceLabels: { kind: 'names', min: 1 },
    metricLabel: { kind: 'label' },
    dropLabels: { kind: 'names', min: 0 },
    outOfOrder: { kind: 'enum', values: ['reject', 'drop'] },
    maxKnownSeries: LIMIT_RULE,
    maxDecodedBytes: { kind: 'int', min: 1024, max: 1024 * 1024 * 1024 },
  },
  log: { level: { kind: 'enum', values: LOG_LEVELS } },
  notify: { onCall: { kind: 'url' }, sre: { kind: 'url' } },
  tenancy: {
    file: { kind: 'string' },
    reloadDebounceMs: { kind: 'duration', min: 0 },
    quotaPrefix: { kind: 'string' },
    fallbackShare: { kind: 'number', min: 0.0001, max: 1 },
  },
  cluster: {
    enabled: { kind: 'bool' },
    natsUrl: { kind: 'string' },
    name: { kind: 'id' },
    shards: { kind: 'int', min: 1, max: 65536 },
    replicas: { kind: 'int', min: 1, max: 5 },
    heartbeatMs: { kind: 'duration', min: 100 },
    deadAfterMs: { kind: 'duration', min: 500 },
    moveFraction: { kind: 'number', min: 0.001, max: 1 },
    zone: { kind: 'string' },
    capacity: { kind: 'number', min: 0, max: 1000 }, // 0: a gateway node (no shards; see placement.ts)
    pinnedTenants: { kind: 'ids' },
    dedicated: { kind: 'bool' },
    ownershipLog: { kind: 'string' },
  },
};

// Prometheus' label name rule (`__name__` fits it too).
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RULE_TEXT = 'a Prometheus label name ([A-Za-z_][A-Za-z0-9_]*)';

/** The names of a list or comma-separated string (deduplicated), or the first entry that is not one. */
function labelNames(v: unknown): { names: string[] } | { bad: unknown } {
  const list: unknown = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
  if (!Array.isArray(list)) return { bad: undefined };
  const bad = list.find((n) => typeof n !== 'string' || !LABEL_NAME.test(n));
  return bad === undefined ? { names: [...new Set(list as string[])] } : { bad };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

type Checked = { ok: true; value: unknown } | { ok: false; expected: string };

function checkValue(rule: Rule, v: unknown): Checked {
  const ok = (value: unknown): Checked => ({ ok: true, value });
  const no = (expected: string): Checked => ({ ok: false, expected });
  switch (rule.kind) {
    case 'int':
      return Number.isInteger(v) && (v as number) >= rule.min && (v as number) <= rule.max
        ? ok(v) : no(`an integer ${rule.min}..${rule.max}`);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && v >= rule.min && v <= rule.max
        ? ok(v) : no(`a number ${rule.min}..${rule.max}`);
    case 'duration': {
      // milliseconds, or a string with a unit: "250ms", "30s", "5m", "1h", "7d"
      const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(v.trim()) : null;
      const ms = typeof v === 'number' ? v : m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : NaN;
      return Number.isInteger(ms) && ms >= rule.min && ms <= MAX_MS
        ? ok(ms) : no(`a duration of at least ${rule.min} ms (milliseconds, or e.g. "30s", "5m", "1h")`);
    }
    case 'string':
      return typeof v === 'string' && v.trim() !== '' ? ok(v) : no('a non-empty string');
    case 'enum':
      return typeof v === 'string' && rule.values.includes(v) ? ok(v) : no(`one of ${rule.values.join(', ')}`);
    case 'sha256':
      return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
        ? ok(v) : no('a sha256 hex hash (64 lowercase hex digits; `vigil key hash <key>` prints one)');
    case 'id':
      return typeof v === 'string' && /^[a-z0-9][a-z0-9_-]{0,62}$/.test(v)
        ? ok(v) : no('an id of lowercase letters, digits, "-" or "_" (1..63, starting with a letter or digit)');
    case 'label':
      return typeof v === 'string' && LABEL_NAME.test(v) ? ok(v) : no(LABEL_RULE_TEXT);
    case 'url':
      return typeof v === 'string' && /^https?:\/\/[^\s/]+/.test(v.trim()) && URL.canParse(v.trim())
        ? ok(v.trim()) : no('an http:// or https:// URL');
    case 'bool':
      if (typeof v === 'boolean') return ok(v);
      return v === 'true' || v === '1' ? ok(true) : v === 'false' || v === '0' ? ok(false) : no('true or false');
    case 'ids': {
      const list: unknown = typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter((x) => x !== '') : v;
      const good = Array.isArray(list) && list.every((x) => typeof x === 'string' && /^[a-z0-9][a-z0-9_-]{0,62}$/.test(x));
      return good ? ok([...new Set(list as string[])]) : no('a list of ids, or one comma-separated string');
    }
    case 'inhibitRules':
      return inhibitRules(v);
    case 'names': {
      const r = labelNames(v);
      if ('names' in r && r.names.length >= rule.min) return ok(r.names);
      const least = rule.min > 0 ? ` (at least ${rule.min})` : '';
      const which = 'bad' in r && r.bad !== undefined ? `; ${JSON.stringify(r.bad)} is not one` : '';
      return no(`a list of label names${least} or one comma-separated string, each ${LABEL_RULE_TEXT}${which}`);
    }
  }
}

const INHIBIT_RULE_TEXT = 'a list of {sourceMatchers, targetMatchers, equal}, the matchers as text like alertname="DatabaseDown" (=, !=, =~, !~), equal a list of label names';

/** Inhibition rules as the correlator takes them; each matcher parsed and its regex compiled here, so a bad one stops the start. */
function inhibitRules(v: unknown): Checked {
  if (!Array.isArray(v)) return { ok: false, expected: INHIBIT_RULE_TEXT };
  const out: InhibitRule[] = [];
  for (const [i, r] of v.entries()) {
    if (!isObject(r) || Object.keys(r).some((k) => !['sourceMatchers', 'targetMatchers', 'equal'].includes(k))) return { ok: false, expected: `${INHIBIT_RULE_TEXT} (rule ${i} is not)` };
    const side = (list: unknown, name: string): Matcher[] | string => {
      if (!Array.isArray(list) || list.length === 0) return `rule ${i}: ${name} must be a non-empty list`;
      try {
        const ms = list.map((t) => (typeof t === 'string' ? parseMatcher(t) : (() => { throw new Error(`${JSON.stringify(t)} is not a matcher's text`); })()));
        compileMatchers(ms, `rule ${i} ${name}`);
        return ms;
      } catch (err) {
        return `rule ${i}: ${(err as Error).message}`;
      }
    };
    const source = side(r.sourceMatchers, 'sourceMatchers');
    if (typeof source === 'string') return { ok: false, expected: `${INHIBIT_RULE_TEXT}; ${source}` };
    const target = side(r.targetMatchers, 'targetMatchers');
    if (typeof target === 'string') return { ok: false, expected: `${INHIBIT_RULE_TEXT}; ${target}` };
    const equal = labelNames(r.equal ?? []);
    if (!('names' in equal)) return { ok: false, expected: `${INHIBIT_RULE_TEXT}; rule ${i}: equal must be a list of label names` };
    out.push({ sourceMatchers: source, targetMatchers: target, equal: equal.names });
  }
  return { ok: true, value: out };
}
