// A request's logger, made only when a line is written. Fastify makes a child logger per
// request (for its id) and auth.ts another (for the tenant); with the root's redaction, each
// pino child cost ~90 us, a fifth of the work of a request refused by its quota (a flood of
// them is what a noisy tenant sends). Most requests write no line at the default level, so
// the child is made at the first line actually written, with the same bindings.
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/** `parent.child(bindings, options)`, made when first used; lines below the parent's level make nothing. */
export function lazyChild(parent: Logger, bindings: Bindings, options?: ChildLoggerOptions): Logger {
  // a child with options of its own (a level, serializers) may log what the parent would not: made now
  if (options !== undefined && Object.keys(options).length > 0) return parent.child(bindings, options);
  let real: Logger | undefined;
  const made = (): Logger => (real ??= parent.child(bindings));
  const methods = new Map<string | symbol, unknown>();
  // an empty target: a proxy of the parent itself would have to answer its fixed properties with its own values
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (real) {
        const v = Reflect.get(real, prop, real) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(real) : v;
      }
      if (prop === 'child') return (more: Bindings, opts?: ChildLoggerOptions) => lazyChild(parent, { ...bindings, ...more }, opts);
      if (typeof prop === 'string' && LEVELS.has(prop)) {
        let f = methods.get(prop);
        if (f === undefined) {
          f = (...args: unknown[]) => {
            if (!parent.isLevelEnabled(prop)) return;
            (made()[prop as 'info'] as (...a: unknown[]) => void)(...args);
          };
          methods.set(prop, f);
        }
        return f;
      }
      const v = Reflect.get(made(), prop, real) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(real) : v;
    },
    set(_target, prop, value) {
      return Reflect.set(made(), prop, value);
    },
  });
}
