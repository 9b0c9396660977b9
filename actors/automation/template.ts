// `{{path}}` placeholders in a step's URL, headers, body and message. A value put into a URL
// is percent-encoded (it cannot add a path segment, a query or a host); a body leaf that is a
// single placeholder takes the value with its type (a number stays a number).
import { checkPath, resolvePath, type RunContext } from './context.ts';
import type { JsonValue } from './runbook.ts';

const PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}\s]*)\s*\}\}$/;

/** The paths a text refers to. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** The first problem with the placeholders of `text`, or undefined. */
export function checkTemplate(text: string, earlier: ReadonlySet<string>): string | undefined {
  const rest = text.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) return 'has an unclosed or nested "{{"';
  for (const p of placeholders(text)) {
    const why = checkPath(p, earlier);
    if (why) return why;
  }
  return undefined;
}

/** Every string leaf of a JSON value, with its place ("body.a[0]"). */
export function* stringLeaves(v: JsonValue, at: string): Generator<[string, string]> {
  if (typeof v === 'string') yield [at, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* stringLeaves(v[i]!, `${at}[${i}]`);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) yield* stringLeaves(x, `${at}.${k}`);
}

function text(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) return v.map((x) => (x === null ? '' : String(x))).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Fills a text; `encode` percent-encodes each value (for URLs). Missing values are empty. */
export function renderText(template: string, ctx: RunContext, encode = false): string {
  return template.replace(PLACEHOLDER, (_, path: string) => {
    const s = text(resolvePath(path, ctx));
    return encode ? encodeURIComponent(s) : s;
  });
}

/** Fills every string leaf of a JSON body; a leaf that is one placeholder keeps the value's type. */
export function renderJson(v: JsonValue, ctx: RunContext): JsonValue {
  if (typeof v === 'string') {
    const whole = WHOLE.exec(v);
    if (whole) return resolvePath(whole[1]!, ctx) ?? null;
    return renderText(v, ctx);
  }
  if (Array.isArray(v)) return v.map((x) => renderJson(x, ctx));
  if (v !== null && typeof v === 'object') {
    // fromEntries defines own keys, so a key called "__proto__" stays a key
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderJson(x, ctx)]));
  }
  return v;
}
