// npm run bench:breakers [-- --json] [--breakers N] [--actors N] [--calls N]
// What a circuit breaker costs, for both executors of the one machine (supervisors/breakers):
// - per guarded call in the closed state (the common path), against the same call unguarded,
//   in the same run: async `call(fn)` and the synchronous tryAcquire/onSuccess pair;
// - per state change (a full closed -> open -> halfOpen -> closed cycle);
// - memory per breaker: N lean breakers (default 100,000: one per tenant-service pair) and
//   xstate-actor breakers (default 10,000, scaled to N), names included, after GC.
// Rounds alternate guarded and unguarded loops and report medians (the machine is shared).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SystemClock, VirtualClock } from '../actors/runtime/index.ts';
import { createBreaker, type Breaker } from '../supervisors/index.ts';
import { positiveInt } from './args.ts';

const json = process.argv.includes('--json');
const BREAKERS_N = positiveInt('--breakers', 100_000);
const ACTORS_N = positiveInt('--actors', 10_000);
const CALLS = positiveInt('--calls', 200_000);
const ROUNDS = 7;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const clock = new SystemClock();

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const answer = (): Promise<number> => Promise.resolve(1);
let sink = 0;
const work = (i: number): number => (i * 2654435761) >>> 0;

async function asyncLoop(b: Breaker | undefined, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  if (b) for (let i = 0; i < n; i++) sink += await b.call(answer);
  else for (let i = 0; i < n; i++) sink += await answer();
  return Number(process.hrtime.bigint() - t0) / n;
}

function syncLoop(b: Breaker | undefined, n: number): number {
  const t0 = process.hrtime.bigint();
  if (b) {
    for (let i = 0; i < n; i++) {
      const e = b.tryAcquire();
      sink += work(i);
      b.onSuccess(e);
    }
  } else {
    for (let i = 0; i < n; i++) sink += work(i);
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

interface CallFigures { base_ns: number; guarded_ns: number; overhead_ns: number; ratio: number }

async function perCall(kind: 'lean' | 'actor', mode: 'async' | 'sync'): Promise<CallFigures> {
  const b = createBreaker('ml_inference', clock, { lean: kind === 'lean', name: `bench/${kind}` });
  const base: number[] = [];
  const guarded: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    base.push(mode === 'async' ? await asyncLoop(undefined, CALLS) : syncLoop(undefined, CALLS));
    guarded.push(mode === 'async' ? await asyncLoop(b, CALLS) : syncLoop(b, CALLS));
  }
  if (b.state !== 'closed') throw new Error(`bench breaker left closed: ${b.state}`);
  b.stop();
  const base_ns = median(base);
  const guarded_ns = median(guarded);
  return { base_ns: round(base_ns), guarded_ns: round(guarded_ns), overhead_ns: round(guarded_ns - base_ns), ratio: round(guarded_ns / base_ns) };
}

/** One full cycle closed -> open -> halfOpen -> closed (trip, the reset timeout on a virtual clock, one probe). */
function cycleNs(kind: 'lean' | 'actor'): number {
  const vclock = new VirtualClock();
  const b = createBreaker('graph_db', vclock, { lean: kind === 'lean', name: `cycle/${kind}` });
  const n = kind === 'lean' ? 50_000 : 10_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    b.trip();
    vclock.advance(b.params.resetTimeoutMs);
    b.onSuccess(b.tryAcquire());
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (b.state !== 'closed' || b.counters.transitions !== 3 * n) throw new Error(`cycle left ${b.state} after ${b.counters.transitions} transitions`);
  b.stop();
  return round(ns);
}

function memory(kind: 'lean' | 'actor', n: number): { bytes_per_breaker: number; ms_to_create: number } {
  const before = heapAfterGc();
  const t0 = process.hrtime.bigint();
  const all: Breaker[] = new Array(n);
  for (let i = 0; i < n; i++) {
    all[i] = createBreaker('ml_inference', clock, { lean: kind === 'lean', name: `ml_inference/tenant-${i % 1000}/service-${i}` });
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = heapAfterGc();
  sink += all.length;
  for (const b of all) b.stop();
  return { bytes_per_breaker: Math.round((after - before) / n), ms_to_create: Math.round(ms) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

const leanAsync = await perCall('lean', 'async');
const actorAsync = await perCall('actor', 'async');
const leanSync = await perCall('lean', 'sync');
const actorSync = await perCall('actor', 'sync');
const cycles = { lean: cycleNs('lean'), actor: cycleNs('actor') };
const leanMem = memory('lean', BREAKERS_N);
const actorMem = memory('actor', ACTORS_N);

console.log(`per guarded call, closed (median of ${ROUNDS} rounds of ${CALLS.toLocaleString('en')}; ml_inference params, SystemClock):`);
const row = (label: string, f: CallFigures): void =>
  console.log(`  ${label.padEnd(26)} unguarded ${String(f.base_ns).padStart(7)} ns   guarded ${String(f.guarded_ns).padStart(7)} ns   overhead ${String(f.overhead_ns).padStart(7)} ns   ×${f.ratio}`);
row('lean  await call(fn)', leanAsync);
row('actor await call(fn)', actorAsync);
row('lean  tryAcquire+onSuccess', leanSync);
row('actor tryAcquire+onSuccess', actorSync);
console.log(`state cycle (trip, reset timeout, probe: 3 changes): lean ${cycles.lean} ns, actor ${cycles.actor} ns`);
console.log(`memory: lean ${leanMem.bytes_per_breaker} B/breaker (${BREAKERS_N.toLocaleString('en')} made in ${leanMem.ms_to_create} ms), `
  + `actor ${actorMem.bytes_per_breaker} B/breaker (${ACTORS_N.toLocaleString('en')} made in ${actorMem.ms_to_create} ms)`);
console.log(`for ${BREAKERS_N.toLocaleString('en')} breakers: lean ${mb(leanMem.bytes_per_breaker * BREAKERS_N)}, actor ${mb(actorMem.bytes_per_breaker * BREAKERS_N)} (+ one timer per open actor breaker)`);
if (sink === -1) console.log('');

const result = {
  breakers: BREAKERS_N,
  overhead_ns_per_call: leanAsync.overhead_ns,
  bytes_per_breaker: leanMem.bytes_per_breaker,
  total_bytes: leanMem.bytes_per_breaker * BREAKERS_N,
  call_ratio: leanAsync.ratio,
  sync_overhead_ns_per_call: leanSync.overhead_ns,
  actor: {
    overhead_ns_per_call: actorAsync.overhead_ns,
    sync_overhead_ns_per_call: actorSync.overhead_ns,
    bytes_per_breaker: actorMem.bytes_per_breaker,
    total_bytes: actorMem.bytes_per_breaker * BREAKERS_N,
    measured_breakers: ACTORS_N,
  },
  cycle_ns: cycles,
};
if (json) console.log(JSON.stringify(result));
