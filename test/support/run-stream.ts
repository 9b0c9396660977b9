// A JetStream ingest log on a stream of this run's own (NATS at 127.0.0.1:4222), for a suite:
// opened in its `before`, the stream deleted in its `after` with the folders the suite listed.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { JetStreamIngestLog } from '../../cluster/index.ts';

const NATS = '127.0.0.1:4222';

export interface RunStream {
  /** this run's id (hex): batch ids and names made from it are this run's own */
  readonly run: string;
  /** the log, from the suite's `before` on */
  readonly log: JetStreamIngestLog;
  /** folders deleted after the suite */
  readonly dirs: string[];
}

/** Call inside `describe`: `name` names the stream (VIGIL_TEST_<name>_<run>) and its subjects. */
export function runStream(name: string, options: { shards: number; duplicateWindowMs?: number }): RunStream {
  const run = randomBytes(4).toString('hex');
  const stream = `VIGIL_TEST_${name}_${run}`;
  const dirs: string[] = [];
  let nc: NatsConnection | undefined;
  let log: JetStreamIngestLog | undefined;

  before(async () => {
    nc = await connect({ servers: NATS });
    log = await JetStreamIngestLog.open({ connection: nc, stream, subjectPrefix: `${name.toLowerCase()}${run}.metrics`, ...options });
  });

  after(async () => {
    await log?.close();
    if (nc) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  return {
    run,
    dirs,
    get log(): JetStreamIngestLog {
      if (!log) throw new Error(`stream ${stream}: not open before the suite's before hook`);
      return log;
    },
  };
}
