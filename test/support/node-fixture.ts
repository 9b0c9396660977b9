// A real Vigil node in its own process, for tests that need one they can kill.
// argv[2]: the node config as JSON. With VIGIL_TEST_POISON=<number>, every detector
// throws on that exact value (a poisoned sample), to exercise supervision end to end.
import pino from 'pino';
import { startNode, tierDetectors } from '../../cluster/index.ts';
import type { VigilConfig } from '../../cluster/index.ts';
import type { DetectorFactory } from '../../actors/service/index.ts';
import type { Detector } from '../../actors/detection/index.ts';

function poisoned(factory: DetectorFactory, poison: number): DetectorFactory {
  const wrap = (d: Detector): Detector => ({
    get tier() { return d.tier; },
    get anomalous() { return d.anomalous; },
    get expected() { return d.expected; },
    get rawScore() { return d.rawScore; },
    update(ts, value) {
      if (value === poison) throw new Error(`poisoned sample ${value} at ${ts}`);
      return d.update(ts, value);
    },
    snapshot: () => d.snapshot(),
  });
  return { create: (tier, s) => wrap(factory.create(tier, s)), restore: (s) => wrap(factory.restore(s)) };
}

const config = JSON.parse(process.argv[2] ?? '{}') as VigilConfig;
const poison = process.env.VIGIL_TEST_POISON;
const node = await startNode(config, {
  logger: pino({ level: process.env.VIGIL_TEST_LOG ?? 'warn' }, pino.destination(2)),
  ...(poison === undefined ? {} : { detectors: poisoned(tierDetectors(), Number(poison)) }),
});
process.stdout.write(`${JSON.stringify({ url: node.url, port: node.port, pid: process.pid })}\n`);
const stop = (): void => { void node.stop().then(() => process.exit(0)); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
