// Label matchers as Alertmanager has them (silences, inhibition rules, `filter` queries):
// `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`. A regex matches the whole value
// (anchored, as in Alertmanager); a missing label has the value "". Patterns run in
// JavaScript's engine, not Go's RE2, so a pattern that could backtrack without bound (a
// quantified group holding a quantifier, a back-reference) is refused: a tenant's silence
// must not be able to stall the node.
import { setFlagsFromString } from 'node:v8';
import { VigilError, type Labels } from '../../protocols/index.ts';

// The syntactic check below misses ambiguous alternation ((a|a)* takes 0.3 s on 24 characters,
// exponential) and polynomial runs (.*.*.*x takes 16 s on a 4 KB label value), so a tenant's
// silence or filter could still stall the node. V8's linear-time engine (no backtracking; the
// 'l' flag, behind this V8 flag in Node 20) runs every pattern in time linear in the value.
setFlagsFromString('--enable-experimental-regexp-engine');
const LINEAR = ((): string => {
  try {
    const flag = 'l'; // a variable: eslint knows only the standard flags
    return new RegExp('a', flag).flags.includes(flag) ? flag : '';
  } catch {
    return ''; // an engine without it: the syntactic check alone
  }
})();

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** false: negated (`!=`, `!~`); Alertmanager's default is true */
  isEqual: boolean;
}

/** A matcher ready to run: the compiled regex beside it. */
export interface CompiledMatcher extends Matcher {
  test(labels: Labels): boolean;
}

export const MAX_MATCHER_VALUE = 1_000;
export const MAX_MATCHERS = 64;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function compileMatcher(m: Matcher, where = 'matcher'): CompiledMatcher {
  if (typeof m.name !== 'string' || !LABEL_NAME.test(m.name)) throw bad(`${where}: name must be a label name ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(m.name)}`);
  if (typeof m.value !== 'string' || m.value.length > MAX_MATCHER_VALUE) throw bad(`${where}: value must be a string of at most ${MAX_MATCHER_VALUE} characters`);
  const { name, value, isRegex, isEqual } = m;
  let hit: (v: string) => boolean;
  if (isRegex) {
    checkPattern(value, where);
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${value})$`, LINEAR);
    } catch (err) {
      if (/linear time/.test((err as Error).message)) {
        throw bad(`${where}: ${JSON.stringify(value)} cannot be matched in linear time (lookarounds, large counted repetitions); rewrite it`);
      }
      throw bad(`${where}: ${JSON.stringify(value)} is not a valid regular expression (${(err as Error).message})`);
    }
    hit = (v) => re.test(v);
  } else {
    hit = (v) => v === value;
  }
  return {
    name, value, isRegex, isEqual,
    test: (labels) => hit(Object.hasOwn(labels, name) ? labels[name]! : '') === isEqual,
  };
}

export function compileMatchers(list: readonly Matcher[], where = 'matchers'): CompiledMatcher[] {
  if (list.length > MAX_MATCHERS) throw bad(`${where}: at most ${MAX_MATCHERS} matchers`);
  return list.map((m, i) => compileMatcher(m, `${where}[${i}]`));
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const m of matchers) if (!m.test(labels)) return false;
  return true;
}

/** Only what a matcher is, for JSON (the compiled test left out). */
export function plainMatcher(m: Matcher): Matcher {
  return { name: m.name, value: m.value, isRegex: m.isRegex, isEqual: m.isEqual };
}

const TEXT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** Parses `name="value"` (also `!=`, `=~`, `!~`; the value quoted or bare), as amtool and `filter` take it. */
export function parseMatcher(text: string): Matcher {
  const m = TEXT.exec(text);
  if (!m) throw bad(`matcher ${JSON.stringify(text)} must look like name="value" (or !=, =~, !~)`);
  const op = m[2]!;
  let value = m[3]!;
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"')) throw bad(`matcher ${JSON.stringify(text)}: unterminated quote`);
    try {
      value = JSON.parse(value) as string;
    } catch {
      throw bad(`matcher ${JSON.stringify(text)}: bad escape in the quoted value`);
    }
  }
  return { name: m[1]!, value, isRegex: op === '=~' || op === '!~', isEqual: op === '=' || op === '=~' };
}

/** `{a="x", b=~"y"}` or `a="x",b=~"y"`: a list of matchers (commas inside quotes are kept). */
export function parseMatchers(text: string): Matcher[] {
  let body = text.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1);
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && quoted) {
      cur += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim() !== '') parts.push(cur);
  return parts.map(parseMatcher);
}

/** The matcher's text form, as amtool prints it. */
export function matcherText(m: Matcher): string {
  const op = m.isRegex ? (m.isEqual ? '=~' : '!~') : (m.isEqual ? '=' : '!=');
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

/**
 * Refuses patterns whose matching time can grow without bound: a group that is repeated
 * (`*`, `+`, `{n,}`) and itself holds a repetition, like `(a+)+`, and back-references.
 */
function checkPattern(pattern: string, where: string): void {
  if (/\\[1-9]|\\k</.test(pattern)) throw bad(`${where}: back-references are not allowed in a matcher's regex`);
  const groups: boolean[] = []; // per open group: does it hold a quantifier?
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') { inClass = true; continue; }
    if (c === '(') { groups.push(false); continue; }
    const quantifier = c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d*,?\d*\}/.test(pattern.slice(i)));
    if (c === ')') {
      const held = groups.pop() ?? false;
      const next = pattern[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}/.test(pattern.slice(i + 1)));
      if (held && repeated) throw bad(`${where}: the regex ${JSON.stringify(pattern)} repeats a group that repeats itself (e.g. (a+)+), which can take unbounded time; rewrite it without nested repetition`);
      if (held || repeated) markOuter(groups);
      continue;
    }
    if (quantifier && c !== '?') markOuter(groups);
  }
}

function markOuter(groups: boolean[]): void {
  if (groups.length > 0) groups[groups.length - 1] = true;
}

function bad(message: string): VigilError {
  return new VigilError('BAD_REQUEST', message);
}
