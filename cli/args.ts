// Command-line parsing over node:util parseArgs (strict: an unknown flag is an error),
// with errors turned into one line that says what to do.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VigilError } from '../protocols/errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A usage mistake: printed as one line, exit code 2. */
export function usageError(command: string, message: string): VigilError {
  return new VigilError('BAD_REQUEST', `${command}: ${message} (see ${command} --help)`);
}

export function parse(command: string, argv: string[], options: OptionSpec, maxPositionals = 0): Parsed {
  let parsed: Parsed;
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    parsed = { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (err) {
    // parseArgs's messages are multi-sentence; keep the first and name the command.
    const msg = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw usageError(command, msg.replace(/^Unknown option '(.*)'$/, 'unknown option $1'));
  }
  if (!parsed.values.help && parsed.positionals.length > maxPositionals) {
    throw usageError(command, `unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  return parsed;
}

/** A string flag's value, if given. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A number flag: an integer within [min, max], else a usage error naming the flag. */
export function int(command: string, p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(command, `--${name} must be an integer ${min}..${max} (got "${v}")`);
  return n;
}

/** A duration flag: "20s", "5m", "6h", "2d", "500ms", or plain seconds. Returns ms. */
export function duration(command: string, p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) throw usageError(command, `--${name} must be a duration like 20s, 5m or 6h (got "${v}")`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

/** Prints a help text; help is not an error (exit 0). */
export function showHelp(text: string): number {
  process.stdout.write(text);
  return 0;
}
