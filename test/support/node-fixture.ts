// A real Vigil node in its own process, for tests that need one they can kill.
// argv[2]: the node config as JSON. With VIGIL_TEST_POISON=<number>, every detector
// throws on that exact value (a poisoned sample), to exercise supervision end to end; with
// VIGIL_TEST_SLOW_US=<n>, every sample costs n µs more (a busy node whose mailboxes fill); with
// VIGIL_TEST_MODEL_FAULT=<file>, Robust's learnt model throws on every call while that file
// exists (a model runtime gone bad, toggled by the test; checked every 100 ms).
import { existsSync } from 'node:fs';
import pino from 'pino';
import { tierDetectors } from '../../cluster/index.ts';
import { startNode } from '../../node/index.ts';
import type { VigilConfig } from '../../cluster/index.ts';
import { aroundUpdates, type DetectorFactory } from '../../actors/service/index.ts';
import { autoencoderModel, configureRobust, robustRuntime } from '../../actors/detection/robust/index.ts';

function poisoned(factory: DetectorFactory, poison: number): DetectorFactory {
  return aroundUpdates(factory, (d, ts, value) => {
    if (value === poison) throw new Error(`poisoned sample ${value} at ${ts}`);
    return d.update(ts, value);
  });
}

/** Every sample costs the detector `us` microseconds more: a busy node, so mailboxes fill. */
function slowed(factory: DetectorFactory, us: number): DetectorFactory {
  return aroundUpdates(factory, (d, ts, value) => {
    const until = performance.now() + us / 1000;
    while (performance.now() < until) { /* busy: the actor holds the thread, as real work would */ }
    return d.update(ts, value);
  });
}

const config = JSON.parse(process.argv[2] ?? '{}') as VigilConfig;
const poison = process.env.VIGIL_TEST_POISON;
const slowUs = process.env.VIGIL_TEST_SLOW_US;
let detectors: DetectorFactory | undefined;
if (poison !== undefined) detectors = poisoned(tierDetectors(), Number(poison));
else if (slowUs !== undefined) detectors = slowed(tierDetectors(), Number(slowUs));
const node = await startNode(config, {
  logger: pino({ level: process.env.VIGIL_TEST_LOG ?? 'warn' }, pino.destination(2)),
  ...(detectors ? { detectors } : {}),
});
const modelFault = process.env.VIGIL_TEST_MODEL_FAULT;
if (modelFault !== undefined) {
  // every Robust detector is created after this (a fresh node has restored none): all get it
  let broken = existsSync(modelFault);
  setInterval(() => { broken = existsSync(modelFault); }, 100).unref();
  const runtime = robustRuntime();
  const inner = runtime.build ?? autoencoderModel;
  configureRobust({
    ...runtime,
    build: (weights) => {
      const model = inner(weights);
      return {
        error: (window) => {
          if (broken) throw new Error('model runtime fault (VIGIL_TEST_MODEL_FAULT)');
          return model.error(window);
        },
      };
    },
  });
}
if (process.env.VIGIL_TEST_LOOP_LAG) {
  // diagnostics: the event loop's worst delay and the heap, every second, on stderr
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  setInterval(() => {
    process.stderr.write(`${JSON.stringify({ loopLagMaxMs: Math.round(h.max / 1e6), loopLagP50Ms: Math.round(h.percentile(50) / 1e6), heapMb: Math.round(process.memoryUsage().heapUsed / 1e6) })}\n`);
    h.reset();
  }, 1_000).unref();
}
process.stdout.write(`${JSON.stringify({ url: node.url, port: node.port, pid: process.pid })}\n`);
const stop = (): void => { void node.stop().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
