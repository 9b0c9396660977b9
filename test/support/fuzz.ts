// The fuzz suite's harness: how many inputs each surface gets (PLAN, scaled by FUZZ_SCALE), the
// seed (FUZZ_SEED, so a failure replays), a tally that counts refused and accepted inputs per
// surface and prints the total when mocha ends, and an Engine that records every change it
// makes, so a test can say "this refused request changed nothing".
import type { Engine } from '../../api/index.ts';

/** The run's seed; a failing run prints it with fast-check's path to replay the counterexample. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_250_601);
/** Multiplies every surface's count (FUZZ_SCALE=10 for a long run). */
export const FUZZ_SCALE = Math.max(0.01, Number(process.env.FUZZ_SCALE ?? 1));

/** Generated inputs per surface in the default run: the sum is the suite's promise (≥ 100,000). */
export const PLAN = {
  'http: ingest JSON': 6_000,
  'http: ingest protobuf': 5_000,
  'http: remote write': 4_000,
  'http: query parameters (every GET route)': 5_000,
  'http: other bodies (every POST/PUT/DELETE route)': 4_000,
  'http: headers': 1_000,
  'websocket: client messages': 25_000,
  'websocket: raw frames': 1_000,
  'websocket: upgrade requests': 1_000,
  'yaml: node configuration': 15_000,
  'config: environment variables': 12_000,
  'yaml: tenants file': 15_000,
  'yaml: tenants file (reloaded)': 500,
  'cli: arguments (in process)': 40_000,
  'cli: arguments (dispatcher)': 4_000,
  'cli: arguments (vigil processes)': 6,
} as const;

export type Surface = keyof typeof PLAN;

export function runs(surface: Surface): number {
  return Math.max(1, Math.round(PLAN[surface] * FUZZ_SCALE));
}

interface Count { refused: number; accepted: number }

const counts = new Map<Surface, Count>();

/** Counts one input: refused (the malformed inputs the suite promises) or accepted (it was valid after all). */
export function tally(surface: Surface, outcome: 'refused' | 'accepted'): void {
  let c = counts.get(surface);
  if (!c) counts.set(surface, (c = { refused: 0, accepted: 0 }));
  c[outcome]++;
}

export function counted(surface: Surface): Count {
  return counts.get(surface) ?? { refused: 0, accepted: 0 };
}

export function report(): string {
  const lines: string[] = [];
  let refused = 0;
  let accepted = 0;
  for (const [surface, c] of counts) {
    lines.push(`  ${surface}: ${c.refused} refused, ${c.accepted} accepted`);
    refused += c.refused;
    accepted += c.accepted;
  }
  lines.push(`  total: ${refused + accepted} generated inputs, ${refused} malformed ones refused (no crash, no 5xx, no state change), ${accepted} accepted (seed ${FUZZ_SEED}, scale ${FUZZ_SCALE})`);
  return lines.join('\n');
}

// Printed once when the run ends, over every fuzz file mocha ran (a root hook: this module is
// first imported while mocha loads a test file).
if (typeof after === 'function') {
  after(() => {
    if (counts.size === 0) return;
    process.stdout.write(`\nfuzz inputs:\n${report()}\n`);
    // the suite's promise, when the whole suite ran at full size
    const everySurface = Object.keys(PLAN).every((s) => counts.has(s as Surface));
    const refused = [...counts.values()].reduce((n, c) => n + c.refused, 0);
    if (everySurface && FUZZ_SCALE >= 1 && refused < 100_000) throw new Error(`only ${refused} malformed inputs were refused; the suite promises 100,000`);
  });
}

/** An Engine over a real one that counts the changes it made (calls that returned normally). */
export interface RecordingEngine {
  engine: Engine;
  /** changes made so far, e.g. "ingest", "correlation.putSilence" */
  changes(): number;
  /** samples taken in by successful ingest calls (an identical batch counted once) */
  samplesIngested(): number;
  lastChange(): string | undefined;
}

const CHANGES: Record<string, readonly string[]> = {
  '': ['ingest', 'setIncidentStatus', 'putTopology', 'restart', 'injectFault', 'clearFaults', 'degrade', 'commandBreaker'],
  correlation: ['receiveAlerts', 'putSilence', 'expireSilence'],
  automation: ['putRunbook', 'replaceRunbooks', 'deleteRunbook', 'approve', 'cancel', 'start'],
};

export function recordingEngine(real: Engine): RecordingEngine {
  let changes = 0;
  let samples = 0;
  let last: string | undefined;
  const batches = new Set<string>();
  const wrap = <T extends object>(target: T, prefix: string): T => new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof prop !== 'string') return value;
      if (prefix === '' && (prop === 'correlation' || prop === 'automation') && value && typeof value === 'object') return wrap(value, prop);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (!CHANGES[prefix]?.includes(prop)) return fn.bind(t);
      return (...args: unknown[]) => {
        const done = (result: unknown) => {
          if (result === undefined && prop === 'setIncidentStatus') return result; // no such incident: nothing changed
          if (result === false && prop === 'deleteRunbook') return result; // no such runbook: nothing changed
          changes++;
          last = prefix ? `${prefix}.${prop}` : prop;
          // the node takes an identical batch in once (its id is a hash of the bytes)
          if (prop === 'ingest' && !batches.has(JSON.stringify(args))) {
            batches.add(JSON.stringify(args));
            for (const s of args[1] as Array<{ samples: unknown[] }>) samples += s.samples.length;
          }
          return result;
        };
        const out = fn.apply(t, args);
        return out instanceof Promise ? out.then(done) : done(out);
      };
    },
  });
  return { engine: wrap(real, ''), changes: () => changes, samplesIngested: () => samples, lastChange: () => last };
}
