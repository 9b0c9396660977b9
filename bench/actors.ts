// Actor runtime benchmark: raw nact vs the typed wrapper (per-message overhead), the
// tenant→service fan-out hot path, and spawning many children. Prints a JSON line last.
//   npx tsx bench/actors.ts [messages=500000]
import { dispatch, spawn as nactSpawn, start as nactStart, stop as nactStop } from 'nact';
import pino from 'pino';
import { createActorSystem, type ActorRef, type Behavior } from '../actors/runtime/index.ts';

const N = Number(process.argv[2] ?? 500_000);
const silent = pino({ level: 'silent' });

async function rawNact(n: number): Promise<number> {
  const sys = nactStart();
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const ref = nactSpawn(sys, (s: number, _m: number) => {
    if (++seen === n) done();
    return s;
  }, 'sink');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) dispatch(ref, i);
  await finished;
  const ms = performance.now() - t0;
  nactStop(sys);
  return n / (ms / 1000);
}

async function wrapped(n: number): Promise<number> {
  const sys = createActorSystem({ log: silent });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const ref = sys.spawn<number>('sink', {
    kind: 'sink',
    init: () => 0,
    receive: (s: number) => {
      if (s + 1 === n) done();
      return s + 1;
    },
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ref.tell(i);
  await finished;
  const ms = performance.now() - t0;
  await sys.stop();
  return n / (ms / 1000);
}

type TenantMsg = { batch: number[] };
type ServiceMsg = { samples: number[] };

/** A tenant splitting batches over `services` children, which passivate when idle. */
async function fanOut(batches: number, batchSize: number, services: number): Promise<{ samplesPerSec: number; messagesPerSec: number }> {
  const sys = createActorSystem({ log: silent });
  let received = 0;
  const total = batches * batchSize;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const service: Behavior<ServiceMsg, number> = {
    kind: 'service',
    idleAfterMs: 60_000,
    init: () => 0,
    receive: (s, m) => {
      received += m.samples.length;
      if (received === total) done();
      return s + m.samples.length;
    },
  };
  const tenant = sys.spawn<TenantMsg>('acme', {
    kind: 'tenant',
    init: () => null,
    receive: (s, m, ctx) => {
      const by = new Map<number, number[]>();
      for (const v of m.batch) {
        const k = v % services;
        const l = by.get(k);
        if (l) l.push(v);
        else by.set(k, [v]);
      }
      for (const [k, vs] of by) {
        const name = `svc-${k}`;
        (ctx.child<ServiceMsg>(name) ?? ctx.spawn(name, service)).tell({ samples: vs });
      }
      return s;
    },
  });
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const batch = Array.from({ length: batchSize }, (_, i) => b * batchSize + i);
    tenant.tell({ batch });
  }
  await finished;
  const sec = (performance.now() - t0) / 1000;
  await sys.stop();
  const messages = batches + batches * Math.min(batchSize, services);
  return { samplesPerSec: total / sec, messagesPerSec: messages / sec };
}

async function spawnMany(n: number): Promise<{ ms: number; bytesPerActor: number }> {
  const sys = createActorSystem({ log: silent });
  const leaf: Behavior<number, number> = { kind: 'leaf', init: () => 0, receive: (s) => s };
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const refs: ActorRef<number>[] = [];
  const parent = sys.spawn<number>('parent', {
    kind: 'parent',
    init: (ctx) => {
      for (let i = 0; i < n; i++) refs.push(ctx.spawn(`c${i}`, leaf));
      return 0;
    },
    receive: (s) => s,
  });
  const ms = performance.now() - t0;
  global.gc?.();
  const bytes = (process.memoryUsage().heapUsed - heap0) / n;
  void parent;
  await sys.stop();
  return { ms, bytesPerActor: Math.round(bytes) };
}

const raw = await rawNact(N);
const typed = await wrapped(N);
const fan = await fanOut(Math.max(1, Math.floor(N / 100)), 100, 20);
const sp = await spawnMany(10_000);
console.log(`raw nact:         ${Math.round(raw).toLocaleString()} msg/s`);
console.log(`typed runtime:    ${Math.round(typed).toLocaleString()} msg/s (${((typed / raw) * 100).toFixed(0)}% of raw nact in this run)`);
console.log(`tenant fan-out:   ${Math.round(fan.samplesPerSec).toLocaleString()} samples/s, ${Math.round(fan.messagesPerSec).toLocaleString()} msg/s (batches of 100 over 20 services)`);
console.log(`spawn 10K:        ${sp.ms.toFixed(1)} ms, ~${sp.bytesPerActor} B per actor`);
console.log(JSON.stringify({
  bench: 'actors', messages: N, rawNactMsgPerSec: Math.round(raw), runtimeMsgPerSec: Math.round(typed),
  fanOutSamplesPerSec: Math.round(fan.samplesPerSec), fanOutMsgPerSec: Math.round(fan.messagesPerSec),
  spawn10kMs: Number(sp.ms.toFixed(1)), bytesPerActor: sp.bytesPerActor,
}));
