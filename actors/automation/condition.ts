// A condition step's test, evaluated on the run's context as it is when the step is reached
// (after a wait, the incident may have resolved). Pure; a missing field compares as absent.
import { resolvePath, type RunContext } from './context.ts';
import type { CompareOp, JsonValue, Predicate } from './runbook.ts';

/** true, false, or undefined when a field it needs is not known (a dry run's skipped webhook). */
export function evaluate(p: Predicate, ctx: RunContext, unknownSteps?: ReadonlySet<string>): boolean | undefined {
  if ('all' in p) return fold(p.all.map((x) => evaluate(x, ctx, unknownSteps)), true);
  if ('any' in p) return fold(p.any.map((x) => evaluate(x, ctx, unknownSteps)), false);
  if ('not' in p) {
    const r = evaluate(p.not, ctx, unknownSteps);
    return r === undefined ? undefined : !r;
  }
  if (unknownSteps && p.field.startsWith('steps.') && unknownSteps.has(p.field.split('.')[1]!)) return undefined;
  return compare(resolvePath(p.field, ctx), p.op, p.value);
}

/** all (`and` = true) or any (`and` = false), with unknown kept unknown unless the result is settled. */
function fold(results: Array<boolean | undefined>, and: boolean): boolean | undefined {
  if (results.includes(!and)) return !and;
  return results.includes(undefined) ? undefined : and;
}

function compare(actual: JsonValue | undefined, op: CompareOp, expected: JsonValue): boolean {
  switch (op) {
    case 'exists':
      return (actual !== undefined && actual !== null) === (expected !== false);
    case 'equals':
      return same(actual, expected);
    case 'notEquals':
      return !same(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((e) => same(actual, e));
    case 'notIn':
      return Array.isArray(expected) && !expected.some((e) => same(actual, e));
    case 'contains':
      if (Array.isArray(actual)) return actual.some((a) => same(a, expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      return op === 'gt' ? actual > expected : op === 'gte' ? actual >= expected : op === 'lt' ? actual < expected : actual <= expected;
    }
  }
}

/** Equal as JSON; a number and its decimal string are equal (YAML `equals: 200` vs a "200" label). */
function same(a: JsonValue | undefined, b: JsonValue): boolean {
  if (a === undefined) return b === null;
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b;
  if (typeof a === 'string' && typeof b === 'number') return a === String(b);
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}
