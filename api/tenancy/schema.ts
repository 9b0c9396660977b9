// The tenants file's schema: YAML text (config/tenants.yaml) or a JSON body (the admin API)
// becomes TenantSpecs, or a refusal that names the exact place (`tenants[1].keys[0].expiresAt`,
// and for a file its line). Pure: no I/O, so the file, the API and the tests share one check.
import { LineCounter, parseDocument } from 'yaml';
import type { MetricSensitivity } from '../../cluster/index.ts';
import {
  DocumentInvalid, SHA256_HEX, TIERS, describeValue as describe, isMapping as isObject, lineOfPlace as lineOf, placeText, yamlSyntaxError,
  type DocPath as Path, type Tier,
} from '../../protocols/index.ts';
import { MAX_RETENTION_DAYS } from '../../storage/tsdb/index.ts';
import { DEFAULT_RATE, SIZE_TIERS, type SizeTier, type TenantBudgetSettings, type TenantKey, type TenantSpec } from './spec.ts';

/** Keys of a tenant entry, in the order the example file documents them. */
export const TENANT_FIELDS = [
  'id', 'tier', 'rate', 'burst', 'maxSeries', 'maxServices', 'detectionTiers', 'detectionTier', 'metricTiers',
  'metricSensitivity', 'metricLimits', 'rawRetentionDays', 'keys', 'webhooks', 'maxUnfinishedRuns', 'nodes', 'budget',
] as const;
const KEY_FIELDS = ['id', 'sha256', 'expiresAt'];
const SENSITIVITY_FIELDS = ['direction', 'deviations', 'threshold', 'drift'];
const BUDGET_FIELDS = ['inFlight', 'tickMs', 'share', 'backlogSamples'];
/** the most batches a budget may let inside at once: past a few, the budget no longer isolates */
export const MAX_BUDGET_IN_FLIGHT = 1024;
/** a budget's tick, ms: under 10 the timers cost more than they meter; over a minute a debt lasts minutes */
export const BUDGET_TICK_MS = { min: 10, max: 60_000 } as const;
const ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const METRIC = /^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$/;
/** highest rate, burst and limit a tenant may be given: far past any node, well inside a double */
export const MAX_QUOTA = 1_000_000_000;
export const MAX_KEYS_PER_TENANT = 16;
export const MAX_WEBHOOKS_PER_TENANT = 32;
export const MAX_TENANTS = 10_000;
/** runbook runs not ended a tenant may be allowed on a node: each is an actor and a kept record */
export const MAX_UNFINISHED_RUNS = 10_000;
/** nodes a large tenant may be pinned to */
export const MAX_NODES_PER_TENANT = 64;

/** Thrown with the first problem found; `place` is the path (`tenants[1].keys[0]`), `line` the file line when known. */
export class TenancyInvalid extends DocumentInvalid {}

interface Ctx {
  source: string;
  line: (path: Path) => number | undefined;
}

function fail(ctx: Ctx, path: Path, reason: string): never {
  throw new TenancyInvalid(placeText(path), reason, ctx.source, ctx.line(path));
}

/** Parses the YAML text of a tenants file; `source` names it in messages. */
export function parseTenantsYaml(text: string, source: string): TenantSpec[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const bad = yamlSyntaxError(doc, lines);
  if (bad) throw new TenancyInvalid('', bad.reason, source, bad.line);
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (err) {
    // the yaml library refuses an alias bomb here (a ReferenceError), after parsing
    throw new TenancyInvalid('', `is not valid YAML: ${(err as Error).message}`, source);
  }
  return checkTenantsDocument(raw, { source, line: (path) => lineOf(doc, lines, path) });
}

/** Checks a whole document `{tenants: [...]}` (the file, or PUT /v1/admin/tenants). */
export function checkTenantsDocument(raw: unknown, ctx: Ctx | string): TenantSpec[] {
  const c: Ctx = typeof ctx === 'string' ? { source: ctx, line: () => undefined } : ctx;
  if (!isObject(raw)) fail(c, [], `must be a mapping with a "tenants" list (got ${describe(raw)})`);
  for (const k of Object.keys(raw)) if (k !== 'tenants') fail(c, [k], 'is not a known key (known: tenants)');
  const list = raw.tenants ?? [];
  if (!Array.isArray(list)) fail(c, ['tenants'], `must be a list of tenants (got ${describe(list)})`);
  if (list.length > MAX_TENANTS) fail(c, ['tenants'], `has ${list.length} tenants; at most ${MAX_TENANTS}`);
  const specs = list.map((t, i) => checkTenant(t, c, ['tenants', i]));
  const ids = new Map<string, number>();
  specs.forEach((s, i) => {
    const before = ids.get(s.id);
    if (before !== undefined) fail(c, ['tenants', i, 'id'], `"${s.id}" is already the id of tenants[${before}]`);
    ids.set(s.id, i);
  });
  checkKeysUnique(specs.map((s, i) => ({ spec: s, path: ['tenants', i] })), c);
  return specs;
}

/** Checks one tenant (PUT /v1/admin/tenants/:id); `id` from the path must match the body's if it has one. */
export function checkTenantBody(raw: unknown, id: string, source = 'body'): TenantSpec {
  const c: Ctx = { source, line: () => undefined };
  if (isObject(raw) && raw.id === undefined) raw = { ...raw, id };
  const spec = checkTenant(raw, c, []);
  if (spec.id !== id) fail(c, ['id'], `"${spec.id}" differs from the tenant in the path ("${id}")`);
  checkKeysUnique([{ spec, path: [] }], c);
  return spec;
}

/** One key, one tenant: a key shared by two tenants would let one read the other's data. */
export function checkKeysUnique(entries: Array<{ spec: TenantSpec; path: Path }>, c: Ctx): void {
  const owners = new Map<string, string>();
  for (const { spec, path } of entries) {
    spec.keys.forEach((k, j) => {
      const owner = owners.get(k.sha256);
      if (owner !== undefined) {
        fail(c, [...path, 'keys', j, 'sha256'], owner === spec.id ? 'appears twice in this tenant' : `is also a key of tenant "${owner}"`);
      }
      owners.set(k.sha256, spec.id);
    });
  }
}

function checkTenant(raw: unknown, c: Ctx, at: Path): TenantSpec {
  if (!isObject(raw)) fail(c, at, `must be a mapping with at least an id (got ${describe(raw)})`);
  for (const k of Object.keys(raw)) {
    if (!(TENANT_FIELDS as readonly string[]).includes(k)) fail(c, [...at, k], `is not a known key (known: ${TENANT_FIELDS.join(', ')})`);
  }
  const field = <T>(name: string, check: (v: unknown, p: Path) => T): T | undefined =>
    (raw[name] === undefined || raw[name] === null ? undefined : check(raw[name], [...at, name]));
  const id = field('id', (v, p) => (typeof v === 'string' && ID.test(v) ? v
    : fail(c, p, `must be an id of lowercase letters, digits, "-" or "_" (1..63, starting with a letter or digit) (got ${describe(v)})`)));
  if (id === undefined) fail(c, [...at, 'id'], 'is missing');
  const tier = field('tier', (v, p) => oneOf<SizeTier>(c, p, v, SIZE_TIERS)) ?? 'small';
  const spec: TenantSpec = { id, tier, detectionTiers: [...TIERS], keys: [], webhooks: [] };
  // "unlimited": no bucket (what a node-config tenant has; the admin API writes it so when it copies one here)
  const rate = field('rate', (v, p) => (v === 'unlimited' ? v : int(c, p, v, 1, MAX_QUOTA, ' or "unlimited"'))) ?? DEFAULT_RATE[tier];
  if (rate !== 'unlimited') spec.rate = rate;
  const burst = field('burst', (v, p) => int(c, p, v, 1, MAX_QUOTA));
  if (burst !== undefined && spec.rate === undefined) fail(c, [...at, 'burst'], 'needs a rate (this tenant\'s rate is "unlimited")');
  if (burst !== undefined) spec.burst = burst;
  const maxSeries = field('maxSeries', (v, p) => int(c, p, v, 1, MAX_QUOTA));
  if (maxSeries !== undefined) spec.maxSeries = maxSeries;
  const maxServices = field('maxServices', (v, p) => int(c, p, v, 1, MAX_QUOTA));
  if (maxServices !== undefined) spec.maxServices = maxServices;
  const allowed = field('detectionTiers', (v, p) => tierList(c, p, v));
  if (allowed !== undefined) spec.detectionTiers = allowed;
  const inAllowed = (v: unknown, p: Path): Tier => {
    const t = oneOf<Tier>(c, p, v, TIERS);
    if (!spec.detectionTiers.includes(t)) fail(c, p, `"${t}" is not among this tenant's detectionTiers (${spec.detectionTiers.join(', ')})`);
    return t;
  };
  const detectionTier = field('detectionTier', inAllowed);
  if (detectionTier !== undefined) spec.detectionTier = detectionTier;
  const metricTiers = field('metricTiers', (v, p) => metricMap(c, p, v, inAllowed));
  if (metricTiers !== undefined) spec.metricTiers = metricTiers;
  const sensitivity = field('metricSensitivity', (v, p) => metricMap(c, p, v, (s, q) => checkSensitivity(c, q, s)));
  if (sensitivity !== undefined) spec.metricSensitivity = sensitivity;
  const limits = field('metricLimits', (v, p) => metricMap(c, p, v, (x, q) => checkLimit(c, q, x)));
  if (limits !== undefined) spec.metricLimits = limits;
  const retention = field('rawRetentionDays', (v, p) => int(c, p, v, 1, MAX_RETENTION_DAYS));
  if (retention !== undefined) spec.rawRetentionDays = retention;
  spec.keys = field('keys', (v, p) => list(c, p, v, MAX_KEYS_PER_TENANT, (k, q) => checkKey(c, q, k))) ?? [];
  spec.keys.forEach((k, j) => {
    const first = spec.keys.findIndex((o) => o.id === k.id);
    if (first !== j) fail(c, [...at, 'keys', j, 'id'], `"${k.id}" is already the id of keys[${first}]`);
  });
  spec.webhooks = field('webhooks', (v, p) => list(c, p, v, MAX_WEBHOOKS_PER_TENANT, (w, q) => checkWebhook(c, q, w))) ?? [];
  const runs = field('maxUnfinishedRuns', (v, p) => int(c, p, v, 1, MAX_UNFINISHED_RUNS));
  if (runs !== undefined) spec.maxUnfinishedRuns = runs;
  const nodes = field('nodes', (v, p) => list(c, p, v, MAX_NODES_PER_TENANT, (n, q) => (typeof n === 'string' && ID.test(n) ? n : fail(c, q, `must be a node id (got ${describe(n)})`))));
  if (nodes !== undefined) {
    if (tier !== 'large') fail(c, [...at, 'nodes'], `pins a tenant to its own nodes, which only tier large has (this tenant is ${tier})`);
    if (nodes.length === 0) fail(c, [...at, 'nodes'], 'must name at least one node');
    spec.nodes = [...new Set(nodes)];
  }
  const budget = field('budget', (v, p) => checkBudget(c, p, v));
  if (budget !== undefined) {
    if (tier !== 'medium') fail(c, [...at, 'budget'], `sets a budget of the tenant's own, which only tier medium has (this tenant is ${tier})`);
    spec.budget = budget;
  }
  return spec;
}

function checkBudget(c: Ctx, p: Path, v: unknown): TenantBudgetSettings {
  if (!isObject(v)) fail(c, p, `must be a mapping of ${BUDGET_FIELDS.join(', ')} (got ${describe(v)})`);
  const out: TenantBudgetSettings = {};
  for (const [k, x] of Object.entries(v)) {
    const q = [...p, k];
    if (k === 'inFlight') out.inFlight = int(c, q, x, 1, MAX_BUDGET_IN_FLIGHT);
    else if (k === 'tickMs') out.tickMs = int(c, q, x, BUDGET_TICK_MS.min, BUDGET_TICK_MS.max);
    else if (k === 'backlogSamples') out.backlogSamples = int(c, q, x, 1, MAX_QUOTA);
    else if (k === 'share') {
      if (typeof x !== 'number' || !(x > 0 && x <= 1)) fail(c, q, `must be a number over 0 and at most 1 (got ${describe(x)})`);
      out.share = x;
    } else fail(c, q, `is not a known key (known: ${BUDGET_FIELDS.join(', ')})`);
  }
  return out;
}

function int(c: Ctx, p: Path, v: unknown, min: number, max: number, or = ''): number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? v as number
    : fail(c, p, `must be an integer ${min}..${max}${or} (got ${describe(v)})`);
}

function oneOf<T extends string>(c: Ctx, p: Path, v: unknown, values: readonly T[]): T {
  return typeof v === 'string' && (values as readonly string[]).includes(v) ? v as T
    : fail(c, p, `must be one of ${values.join(', ')} (got ${describe(v)})`);
}

function list<T>(c: Ctx, p: Path, v: unknown, max: number, each: (x: unknown, q: Path) => T): T[] {
  if (!Array.isArray(v)) fail(c, p, `must be a list (got ${describe(v)})`);
  if (v.length > max) fail(c, p, `has ${v.length} entries; at most ${max}`);
  return v.map((x, i) => each(x, [...p, i]));
}

function tierList(c: Ctx, p: Path, v: unknown): Tier[] {
  const tiers = list(c, p, v, TIERS.length, (x, q) => oneOf<Tier>(c, q, x, TIERS));
  if (tiers.length === 0) fail(c, p, `must name at least one tier (${TIERS.join(', ')})`);
  return [...new Set(tiers)];
}

function metricMap<T>(c: Ctx, p: Path, v: unknown, each: (x: unknown, q: Path) => T): Record<string, T> {
  if (!isObject(v)) fail(c, p, `must map metric names to settings (got ${describe(v)})`);
  // fromEntries defines own keys, so a metric called `__proto__` is just a metric
  return Object.fromEntries(Object.entries(v).map(([metric, x]) => {
    if (!METRIC.test(metric)) fail(c, [...p, metric], 'is not a metric name ([A-Za-z_][A-Za-z0-9_.:/-]*, at most 128)');
    return [metric, each(x, [...p, metric])];
  }));
}

function checkSensitivity(c: Ctx, p: Path, v: unknown): MetricSensitivity {
  if (!isObject(v)) fail(c, p, `must be a mapping of direction, deviations, threshold, drift (got ${describe(v)})`);
  const out: MetricSensitivity = {};
  for (const [k, x] of Object.entries(v)) {
    if (!SENSITIVITY_FIELDS.includes(k)) fail(c, [...p, k], `is not a known key (known: ${SENSITIVITY_FIELDS.join(', ')})`);
    if (k === 'direction') out.direction = oneOf(c, [...p, k], x, ['up', 'down', 'both'] as const);
    else if (k === 'drift') {
      if (typeof x !== 'boolean') fail(c, [...p, k], `must be true or false (got ${describe(x)})`);
      out.drift = x;
    } else {
      const max = k === 'threshold' ? 1 : 1000;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) fail(c, [...p, k], `must be a number 0..${max} (got ${describe(x)})`);
      out[k as 'deviations' | 'threshold'] = x;
    }
  }
  return out;
}

/** A static line for rule-based detection (L2-L4): above and/or below, finite numbers. */
function checkLimit(c: Ctx, p: Path, v: unknown): { above?: number; below?: number } {
  if (!isObject(v)) fail(c, p, `must be a mapping of above and/or below (got ${describe(v)})`);
  const out: { above?: number; below?: number } = {};
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'above' && k !== 'below') fail(c, [...p, k], 'is not a known key (known: above, below)');
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(c, [...p, k], `must be a finite number (got ${describe(x)})`);
    out[k] = x;
  }
  if (out.above === undefined && out.below === undefined) fail(c, p, 'must set above, below or both');
  if (out.above !== undefined && out.below !== undefined && out.below >= out.above) fail(c, [...p, 'below'], `must be less than above (${out.above})`);
  return out;
}

function checkKey(c: Ctx, p: Path, v: unknown): TenantKey {
  if (!isObject(v)) fail(c, p, `must be a mapping {id, sha256, expiresAt?} (got ${describe(v)})`);
  for (const k of Object.keys(v)) if (!KEY_FIELDS.includes(k)) fail(c, [...p, k], `is not a known key (known: ${KEY_FIELDS.join(', ')})`);
  const id = typeof v.id === 'string' && KEY_ID.test(v.id) ? v.id
    : fail(c, [...p, 'id'], `must be a key name of letters, digits, ".", "_", ":" or "-" (1..64) (got ${describe(v.id)})`);
  const sha256 = typeof v.sha256 === 'string' && SHA256_HEX.test(v.sha256) ? v.sha256
    : fail(c, [...p, 'sha256'], `must be a sha256 hex hash (64 lowercase hex digits; \`vigil key hash <key>\` prints one) (got ${describe(v.sha256)})`);
  const key: TenantKey = { id, sha256 };
  if (v.expiresAt !== undefined && v.expiresAt !== null) key.expiresAt = checkTime(c, [...p, 'expiresAt'], v.expiresAt);
  return key;
}

/** An ISO 8601 time with its zone (`2025-07-01T00:00:00Z`), or ms since the epoch. */
function checkTime(c: Ctx, p: Path, v: unknown): number {
  if (Number.isInteger(v) && (v as number) > 0 && (v as number) < 1e14) return v as number;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  return fail(c, p, `must be a time with its zone, e.g. 2025-07-01T00:00:00Z, or ms since the epoch (got ${describe(v)})`);
}

function checkWebhook(c: Ctx, p: Path, v: unknown): string {
  const bad = (why: string): never => fail(c, p, `${why} (got ${describe(v)})`);
  if (typeof v !== 'string' || v.length > 2048) return bad('must be a URL of at most 2048 characters');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return bad('must be an absolute URL such as https://hooks.example.com/vigil');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return bad('must be an http or https URL');
  if (url.username !== '' || url.password !== '') return bad('must not carry credentials (put them in the webhook\'s headers)');
  if (url.search !== '' || url.hash !== '') return bad('is a prefix: no query or fragment');
  return `${url.protocol}//${url.host}${url.pathname}`;
}
