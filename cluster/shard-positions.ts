// How far each shard has come, for the operator (`vigil ctl shards`): the log position its
// newest snapshot covers (where a new owner resumes) and the last position still in the log
// (0: everything acknowledged was purged). Reads only: it binds to the stream and bucket a
// running cluster made and never creates them.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { VigilError } from '../protocols/errors.ts';
import { decodeSnapshot } from './snapshots/index.ts';

export interface ShardPosition {
  shard: number;
  /** the log position the shard's newest snapshot covers (0: no snapshot yet) */
  snapshot: number;
  /** the last position of the shard in the log (0: none left unacknowledged) */
  logEnd: number;
}

/** The stream a cluster named `name` ingests into (as node/cluster-mode.ts names it). */
export function ingestStreamName(name: string): string {
  return `${name.toUpperCase().replace(/-/g, '_')}_INGEST`;
}

export async function shardPositions(servers: string, name: string, shards: readonly number[]): Promise<Map<number, ShardPosition>> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: servers.split(',').map((s) => s.trim()), name: `vigil-ctl-${name}` });
  } catch (err) {
    throw new VigilError('UNAVAILABLE', `cannot reach NATS at ${servers}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const jsm = await jetstreamManager(nc);
    const stream = ingestStreamName(name);
    const kv = await new Kvm(nc).open(`${name}_snapshots`);
    const out = new Map<number, ShardPosition>();
    await Promise.all(shards.map(async (shard) => {
      const [logEnd, snap] = await Promise.all([
        jsm.streams.getMessage(stream, { last_by_subj: `${name}.metrics.${shard}` }).then((m) => m?.seq ?? 0, (err: unknown) => {
          if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return 0;
          throw err;
        }),
        kv.get(`shard.${shard}`),
      ]);
      const snapshot = snap && snap.operation === 'PUT' && snap.value.length > 0 ? decodeSnapshot(snap.value).logPosition : 0;
      out.set(shard, { shard, snapshot, logEnd });
    }));
    return out;
  } catch (err) {
    if (VigilError.is(err)) throw err;
    throw new VigilError('UNAVAILABLE', `reading shard positions of cluster "${name}": ${(err as Error).message}`, { cause: err });
  } finally {
    await nc.close().catch(() => undefined);
  }
}
