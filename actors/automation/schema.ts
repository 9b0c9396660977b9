// A runbook's YAML (or the same shape as JSON) checked into a Runbook, or refused with the
// exact place: `runbook restart-db: steps[2].webhook.url must be ... (line 14)`. Pure: the
// file loader, the admin API and the tests share one check. Nothing is half-accepted.
import { LineCounter, parseAllDocuments, parseDocument } from 'yaml';
import {
  DocumentInvalid, describeValue as describe, isMapping as isObject, lineOfPlace as lineOf, placeText, yamlSyntaxError,
  type DocPath as Path, type Severity,
} from '../../protocols/index.ts';
import { checkTemplate, stringLeaves } from './template.ts';
import {
  COMPARE_OPS, HTTP_METHODS, STEP_KINDS,
  type CompareOp, type HttpMethod, type JsonValue, type Predicate, type RequestTemplate, type Runbook, type Step, type StepKind, type Trigger,
} from './runbook.ts';

export const RUNBOOK_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
/** headers the HTTP client sets itself; a runbook may not forge them */
const RESERVED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'idempotency-key'];

export const RUNBOOK_LIMITS = Object.freeze({
  /** the YAML text */
  maxBytes: 64 * 1024,
  maxSteps: 50,
  /** one step's body, as JSON */
  maxBodyBytes: 16 * 1024,
  maxWaitMs: 24 * 3600_000,
  maxText: 2048,
  maxListItems: 100,
  maxPredicateDepth: 8,
});

export { placeText };

/** The first problem in a runbook; `place` is its path in the document (`steps[2].webhook.url`), `line` its line when from YAML. */
export class RunbookInvalid extends DocumentInvalid {
  constructor(place: string, reason: string, source: string, line?: number) {
    super(place, reason, source, line);
    this.name = 'RunbookInvalid';
  }
}

export interface RunbookOrigin {
  tenant: string;
  /** the id the path names (API); the document's own `id` must agree when it has one */
  id?: string;
  /** names the document in messages: "runbook restart-db", a file name */
  source: string;
  now: number;
  version?: number;
  /** The tenant's allowed webhook URL prefixes; absent: not checked here (the run checks again). */
  allowed?: (url: string) => boolean;
}

interface Ctx {
  source: string;
  line: (path: Path) => number | undefined;
  allowed?: (url: string) => boolean;
}

function fail(c: Ctx, path: Path, reason: string): never {
  throw new RunbookInvalid(placeText(path), reason, c.source, c.line(path));
}

/** Parses YAML text into a checked Runbook. */
export function parseRunbookYaml(text: string, origin: RunbookOrigin): Runbook {
  if (Buffer.byteLength(text) > RUNBOOK_LIMITS.maxBytes) {
    throw new RunbookInvalid('', `is larger than ${RUNBOOK_LIMITS.maxBytes} bytes`, origin.source);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines, logLevel: 'error' });
  const bad = yamlSyntaxError(doc, lines);
  if (bad) throw new RunbookInvalid('', bad.reason, origin.source, bad.line);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new RunbookInvalid('', `cannot be read: ${(err as Error).message}`, origin.source);
  }
  const ctx: Ctx = { source: origin.source, line: (path) => lineOf(doc, lines, path), ...(origin.allowed ? { allowed: origin.allowed } : {}) };
  return build(raw, text, origin, ctx);
}

/** Checks a runbook given as a JSON value (the same shape as the YAML); `source` is kept as YAML text of it. */
export function checkRunbookJson(raw: unknown, origin: RunbookOrigin, sourceText: string): Runbook {
  const ctx: Ctx = { source: origin.source, line: () => undefined, ...(origin.allowed ? { allowed: origin.allowed } : {}) };
  return build(raw, sourceText, origin, ctx);
}

const TOP_KEYS = ['id', 'name', 'description', 'enabled', 'dryRun', 'trigger', 'steps'];

function build(raw: unknown, source: string, origin: RunbookOrigin, c: Ctx): Runbook {
  if (!isObject(raw)) fail(c, [], `must be a mapping with trigger and steps (got ${describe(raw)})`);
  onlyKeys(c, [], raw, TOP_KEYS);
  let id = origin.id;
  if (raw.id !== undefined) {
    const own = text(c, ['id'], raw.id, 63);
    if (!RUNBOOK_ID.test(own)) fail(c, ['id'], `must be lowercase letters, digits, "-" or "_", starting with a letter or digit (got ${describe(own)})`);
    if (id !== undefined && own !== id) fail(c, ['id'], `"${own}" differs from the runbook in the path ("${id}")`);
    id = own;
  }
  if (id === undefined) fail(c, ['id'], 'is missing');
  if (!RUNBOOK_ID.test(id)) fail(c, ['id'], `must be lowercase letters, digits, "-" or "_" (got ${describe(id)})`);
  if (raw.trigger === undefined) fail(c, ['trigger'], 'is missing: say which incidents start this runbook (services, labels, severity, rootCause; {} for every incident)');
  if (raw.steps === undefined) fail(c, ['steps'], 'is missing: a runbook needs at least one step');
  const runbook: Runbook = {
    id,
    tenant: origin.tenant,
    name: raw.name === undefined ? id : text(c, ['name'], raw.name, 200),
    enabled: raw.enabled === undefined ? true : bool(c, ['enabled'], raw.enabled),
    dryRun: raw.dryRun === undefined ? false : bool(c, ['dryRun'], raw.dryRun),
    trigger: trigger(c, raw.trigger),
    steps: steps(c, raw.steps),
    version: origin.version ?? 1,
    updatedAt: origin.now,
    source,
  };
  if (raw.description !== undefined) runbook.description = text(c, ['description'], raw.description, RUNBOOK_LIMITS.maxText);
  return runbook;
}

function onlyKeys(c: Ctx, path: Path, v: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(v)) if (!known.includes(k)) fail(c, [...path, k], `is not a known key (known: ${known.join(', ')})`);
}

function text(c: Ctx, path: Path, v: unknown, max: number = RUNBOOK_LIMITS.maxText): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) fail(c, path, `must be a non-empty text of at most ${max} characters (got ${describe(v)})`);
  return v;
}

function bool(c: Ctx, path: Path, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(c, path, `must be true or false (got ${describe(v)})`);
  return v;
}

/** One name or a list of names. */
function names(c: Ctx, path: Path, v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || list.length > RUNBOOK_LIMITS.maxListItems) {
    fail(c, path, `must be a name or a list of 1..${RUNBOOK_LIMITS.maxListItems} names (got ${describe(v)})`);
  }
  return list.map((x, i) => text(c, typeof v === 'string' ? path : [...path, i], x, 256));
}

function trigger(c: Ctx, v: unknown): Trigger {
  const path = ['trigger'];
  if (v === null) return {};
  if (!isObject(v)) fail(c, path, `must be a mapping of services, labels, severity, rootCause (got ${describe(v)})`);
  onlyKeys(c, path, v, ['services', 'labels', 'severity', 'rootCause']);
  const t: Trigger = {};
  if (v.services !== undefined) t.services = names(c, [...path, 'services'], v.services);
  if (v.rootCause !== undefined) t.rootCause = names(c, [...path, 'rootCause'], v.rootCause);
  if (v.severity !== undefined) {
    if (v.severity !== 'warning' && v.severity !== 'critical') fail(c, [...path, 'severity'], `must be warning or critical (got ${describe(v.severity)})`);
    t.severity = v.severity as Severity;
  }
  if (v.labels !== undefined) t.labels = pairs(c, [...path, 'labels'], v.labels, (k) => k.length > 0 && k.length <= 256);
  return t;
}

function pairs(c: Ctx, path: Path, v: unknown, nameOk: (k: string) => boolean): Array<[string, string]> {
  if (!isObject(v)) fail(c, path, `must be a mapping of names to texts (got ${describe(v)})`);
  const out: Array<[string, string]> = [];
  for (const [k, x] of Object.entries(v)) {
    if (!nameOk(k)) fail(c, [...path, k], 'is not an allowed name');
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') fail(c, [...path, k], `must be a text (got ${describe(x)})`);
    const s = String(x);
    if (s.length > RUNBOOK_LIMITS.maxText || /[\r\n]/.test(s)) fail(c, [...path, k], `must be one line of at most ${RUNBOOK_LIMITS.maxText} characters`);
    out.push([k, s]);
  }
  if (out.length > RUNBOOK_LIMITS.maxListItems) fail(c, path, `has more than ${RUNBOOK_LIMITS.maxListItems} entries`);
  return out;
}

const STEP_KEYS = ['id', 'destructive', 'continueOnError', ...STEP_KINDS];
/** scale and restart change production: they wait for approval unless the runbook says otherwise */
const DESTRUCTIVE_BY_DEFAULT: ReadonlySet<StepKind> = new Set(['scale', 'restart']);

function steps(c: Ctx, v: unknown): Step[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > RUNBOOK_LIMITS.maxSteps) {
    fail(c, ['steps'], `must be a list of 1..${RUNBOOK_LIMITS.maxSteps} steps (got ${describe(v)})`);
  }
  const earlier = new Set<string>();
  return v.map((raw, i) => {
    const path: Path = ['steps', i];
    if (!isObject(raw)) fail(c, path, `must be a mapping with one of ${STEP_KINDS.join(', ')} (got ${describe(raw)})`);
    onlyKeys(c, path, raw, STEP_KEYS);
    const kinds = STEP_KINDS.filter((k) => raw[k] !== undefined);
    if (kinds.length !== 1) fail(c, path, `must have exactly one of ${STEP_KINDS.join(', ')} (has ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
    const kind = kinds[0]!;
    const id = raw.id === undefined ? `step-${i + 1}` : text(c, [...path, 'id'], raw.id, 64);
    if (!STEP_ID.test(id)) fail(c, [...path, 'id'], `must be letters, digits, "-" or "_" (got ${describe(id)})`);
    if (earlier.has(id)) fail(c, [...path, 'id'], `"${id}" is the id of an earlier step`);
    const acts = kind !== 'wait' && kind !== 'condition';
    if (!acts && raw.destructive !== undefined) fail(c, [...path, 'destructive'], `has no meaning on a ${kind} step (it changes nothing)`);
    const base = {
      id,
      destructive: raw.destructive === undefined ? DESTRUCTIVE_BY_DEFAULT.has(kind) : bool(c, [...path, 'destructive'], raw.destructive),
      continueOnError: raw.continueOnError === undefined ? false : bool(c, [...path, 'continueOnError'], raw.continueOnError),
    };
    const step = stepOf(c, [...path, kind], kind, raw[kind], earlier, base);
    earlier.add(id);
    return step;
  });
}

type Base = { id: string; destructive: boolean; continueOnError: boolean };

function stepOf(c: Ctx, path: Path, kind: StepKind, v: unknown, earlier: ReadonlySet<string>, base: Base): Step {
  switch (kind) {
    case 'webhook': {
      const o = mapping(c, path, v, ['url', 'method', 'headers', 'body']);
      return { ...base, kind, request: request(c, path, o, earlier, o.body === undefined ? undefined : jsonBody(c, [...path, 'body'], o.body, earlier)) };
    }
    case 'scale': {
      const o = mapping(c, path, v, ['url', 'method', 'headers', 'service', 'replicas']);
      const service = template(c, [...path, 'service'], required(c, path, o, 'service'), earlier);
      const replicas = o.replicas;
      if (!(Number.isInteger(replicas) && (replicas as number) >= 0 && (replicas as number) <= 10_000) && typeof replicas !== 'string') {
        fail(c, [...path, 'replicas'], `must be an integer 0..10000 or a {{template}} (got ${describe(replicas)})`);
      }
      if (typeof replicas === 'string') template(c, [...path, 'replicas'], replicas, earlier);
      const body: JsonValue = { action: 'scale', service, replicas: replicas as JsonValue, incident: '{{incident.id}}', run: '{{run.id}}' };
      return { ...base, kind, request: request(c, path, o, earlier, body) };
    }
    case 'restart': {
      const o = mapping(c, path, v, ['url', 'method', 'headers', 'service']);
      const service = template(c, [...path, 'service'], required(c, path, o, 'service'), earlier);
      const body: JsonValue = { action: 'restart', service, incident: '{{incident.id}}', run: '{{run.id}}' };
      return { ...base, kind, request: request(c, path, o, earlier, body) };
    }
    case 'notify': {
      const o = typeof v === 'string' ? { message: v } : mapping(c, path, v, ['message', 'url', 'headers']);
      const message = template(c, typeof v === 'string' ? path : [...path, 'message'], required(c, path, o, 'message'), earlier);
      if (o.url === undefined) {
        if (o.headers !== undefined) fail(c, [...path, 'headers'], 'needs a url to send to');
        return { ...base, kind, message };
      }
      // Slack and most chat hooks take {"text": ...}; the rest is context for other receivers
      const body: JsonValue = { text: message, incident: '{{incident.id}}', runbook: '{{runbook.id}}', run: '{{run.id}}' };
      return { ...base, kind, message, request: request(c, path, { ...o, method: 'POST' }, earlier, body) };
    }
    case 'wait':
      return { ...base, kind, ms: duration(c, path, v) };
    case 'condition': {
      if (!isObject(v)) fail(c, path, `must be a test such as {field: incident.status, equals: open} (got ${describe(v)})`);
      const { else: otherwise, ...test } = v;
      if (otherwise !== undefined && otherwise !== 'stop' && otherwise !== 'fail') {
        fail(c, [...path, 'else'], `must be stop (end the run here, as succeeded) or fail (got ${describe(otherwise)})`);
      }
      return { ...base, kind, when: predicate(c, path, test, earlier, 0), otherwise: (otherwise as 'stop' | 'fail' | undefined) ?? 'stop' };
    }
  }
}

function mapping(c: Ctx, path: Path, v: unknown, keys: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) fail(c, path, `must be a mapping of ${keys.join(', ')} (got ${describe(v)})`);
  onlyKeys(c, path, v, keys);
  return v;
}

function required(c: Ctx, path: Path, o: Record<string, unknown>, key: string): unknown {
  if (o[key] === undefined) fail(c, [...path, key], 'is missing');
  return o[key];
}

function template(c: Ctx, path: Path, v: unknown, earlier: ReadonlySet<string>): string {
  const s = text(c, path, v);
  const why = checkTemplate(s, earlier);
  if (why) fail(c, path, why);
  return s;
}

function request(c: Ctx, path: Path, o: Record<string, unknown>, earlier: ReadonlySet<string>, body: JsonValue | undefined): RequestTemplate {
  const url = checkUrl(c, [...path, 'url'], required(c, path, o, 'url'), earlier);
  let method: HttpMethod = 'POST';
  if (o.method !== undefined) {
    const m = typeof o.method === 'string' ? o.method.toUpperCase() : o.method;
    if (!(HTTP_METHODS as readonly unknown[]).includes(m)) fail(c, [...path, 'method'], `must be one of ${HTTP_METHODS.join(', ')} (got ${describe(o.method)})`);
    method = m as HttpMethod;
  }
  const headers = o.headers === undefined ? [] : pairs(c, [...path, 'headers'], o.headers, (k) => HEADER_NAME.test(k) && !RESERVED_HEADERS.includes(k.toLowerCase()));
  headers.forEach(([k, value]) => {
    const why = checkTemplate(value, earlier);
    if (why) fail(c, [...path, 'headers', k], why);
  });
  const r: RequestTemplate = { method, url, headers };
  if (body !== undefined) {
    if (method === 'GET') fail(c, [...path, 'method'], 'GET sends no body; use POST, PUT or PATCH');
    r.body = body;
  }
  return r;
}

/**
 * An http(s) URL whose scheme, host and port are written out: placeholders may fill the path
 * and query only, so the destination is known (and checked against the allow-list) when the
 * runbook is saved, not first when it runs.
 */
function checkUrl(c: Ctx, path: Path, v: unknown, earlier: ReadonlySet<string>): string {
  const s = template(c, path, v, earlier);
  const fixed = s.split('{{')[0]!;
  const origin = /^(https?):\/\/([^/?#{}]+)(\/|$)/i.exec(fixed);
  if (!origin || (fixed.length === origin[0].length && s.includes('{{') && origin[3] !== '/')) {
    fail(c, path, `must be an http or https URL whose scheme, host and port are written out ({{...}} only in the path or query) (got ${describe(s)})`);
  }
  let url: URL;
  try {
    url = new URL(s.replace(/\{\{[^{}]*\}\}/g, 'x'));
  } catch {
    return fail(c, path, `is not a valid URL (got ${describe(s)})`);
  }
  if (url.username !== '' || url.password !== '') fail(c, path, 'must not carry credentials (put them in headers)');
  if (c.allowed && !c.allowed(s.split('{{')[0]!)) {
    fail(c, path, `${url.origin} is not among this tenant's allowed webhook destinations (its tenant entry's webhooks list)`);
  }
  return s;
}

function jsonBody(c: Ctx, path: Path, v: unknown, earlier: ReadonlySet<string>): JsonValue {
  let textOf: string | undefined;
  try {
    textOf = JSON.stringify(v);
  } catch {
    textOf = undefined;
  }
  if (textOf === undefined) fail(c, path, 'must be JSON (a mapping, list, text, number, true/false or null)');
  if (Buffer.byteLength(textOf) > RUNBOOK_LIMITS.maxBodyBytes) fail(c, path, `is larger than ${RUNBOOK_LIMITS.maxBodyBytes} bytes as JSON`);
  const value = JSON.parse(textOf) as JsonValue;
  for (const [at, leaf] of stringLeaves(value, '')) {
    const why = checkTemplate(leaf, earlier);
    if (why) fail(c, [...path, ...at.split(/\.|\[|\]/).filter((x) => x !== '').map((x) => (/^[0-9]+$/.test(x) ? Number(x) : x))], why);
  }
  return value;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 };

function duration(c: Ctx, path: Path, v: unknown): number {
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(v.trim()) : null;
  const ms = typeof v === 'number' ? v : m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : NaN;
  if (!Number.isInteger(ms) || ms < 1 || ms > RUNBOOK_LIMITS.maxWaitMs) {
    fail(c, path, `must be a duration of 1 ms..24 h: milliseconds, or e.g. "30s", "5m", "1h" (got ${describe(v)})`);
  }
  return ms;
}

function predicate(c: Ctx, path: Path, v: unknown, earlier: ReadonlySet<string>, depth: number): Predicate {
  if (depth > RUNBOOK_LIMITS.maxPredicateDepth) fail(c, path, `nests deeper than ${RUNBOOK_LIMITS.maxPredicateDepth} levels`);
  if (!isObject(v)) fail(c, path, `must be a test such as {field: incident.status, equals: open} (got ${describe(v)})`);
  const keys = Object.keys(v);
  for (const group of ['all', 'any'] as const) {
    if (v[group] === undefined) continue;
    if (keys.length !== 1) fail(c, path, `${group} stands alone (found also ${keys.filter((k) => k !== group).join(', ')})`);
    const list = v[group];
    if (!Array.isArray(list) || list.length === 0 || list.length > RUNBOOK_LIMITS.maxListItems) fail(c, [...path, group], `must be a list of 1..${RUNBOOK_LIMITS.maxListItems} tests`);
    const parts = list.map((x, i) => predicate(c, [...path, group, i], x, earlier, depth + 1));
    return group === 'all' ? { all: parts } : { any: parts };
  }
  if (v.not !== undefined) {
    if (keys.length !== 1) fail(c, path, 'not stands alone');
    return { not: predicate(c, [...path, 'not'], v.not, earlier, depth + 1) };
  }
  if (v.field === undefined) fail(c, path, `needs a field (e.g. incident.status) and one of ${COMPARE_OPS.join(', ')}, or all/any/not`);
  const field = text(c, [...path, 'field'], v.field, 256);
  const why = checkTemplate(`{{${field}}}`, earlier);
  if (why) fail(c, [...path, 'field'], why);
  const ops = keys.filter((k) => k !== 'field');
  if (ops.length !== 1 || !(COMPARE_OPS as readonly string[]).includes(ops[0]!)) {
    fail(c, path, `needs exactly one of ${COMPARE_OPS.join(', ')} beside field (has ${ops.join(', ') || 'none'})`);
  }
  const op = ops[0] as CompareOp;
  const value = v[op] as JsonValue;
  if ((op === 'in' || op === 'notIn') && !Array.isArray(value)) fail(c, [...path, op], `must be a list (got ${describe(value)})`);
  if (['gt', 'gte', 'lt', 'lte'].includes(op) && typeof value !== 'number') fail(c, [...path, op], `must be a number (got ${describe(value)})`);
  if (op === 'exists' && typeof value !== 'boolean') fail(c, [...path, op], `must be true or false (got ${describe(value)})`);
  return { field, op, value };
}

/** Several runbooks in one YAML text, one document each (`---` between them); ids must differ. */
export function parseRunbooksYaml(text: string, origin: Omit<RunbookOrigin, 'id'>): Runbook[] {
  if (Buffer.byteLength(text) > RUNBOOK_LIMITS.maxBytes * RUNBOOK_LIMITS.maxSteps) {
    throw new RunbookInvalid('', `is larger than ${RUNBOOK_LIMITS.maxBytes * RUNBOOK_LIMITS.maxSteps} bytes`, origin.source);
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines, logLevel: 'error' });
  if (!Array.isArray(docs)) return []; // an empty stream: no runbooks
  const out: Runbook[] = [];
  docs.forEach((doc, i) => {
    const source = docs.length === 1 ? origin.source : `${origin.source} document ${i + 1}`;
    const bad = yamlSyntaxError(doc, lines);
    if (bad) throw new RunbookInvalid('', bad.reason, source, bad.line);
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new RunbookInvalid('', `cannot be read: ${(err as Error).message}`, source);
    }
    if (raw === null || raw === undefined) return; // an empty document (a trailing ---)
    // the document's own text, without the --- that opened it
    const docText = text.slice(doc.range[0], doc.range[2]).replace(/^---[^\n]*\n/, '');
    const ctx: Ctx = { source, line: (path) => lineOf(doc, lines, path), ...(origin.allowed ? { allowed: origin.allowed } : {}) };
    const rb = build(raw, docText.trim() + '\n', origin, ctx);
    const twice = out.findIndex((r) => r.id === rb.id);
    if (twice >= 0) throw new RunbookInvalid('id', `"${rb.id}" is also the id of an earlier document`, source, ctx.line(['id']));
    out.push(rb);
  });
  return out;
}
