// Shard snapshots in a NATS KV bucket (`<name>_snapshots`, key `shard.<n>`), so the node that
// takes a shard over reads what its previous owner saved. A JetStream message is stored whole
// or not at all, so one snapshot per shard is enough (no damaged newest to fall back from) and
// the log may be acknowledged up to it. A save is fenced: it is refused when the stored
// snapshot carries a newer fencing token (a newer owner saved), and written by revision, so a
// stale owner can never overwrite its successor's snapshot.
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { VigilError } from '../../protocols/errors.ts';
import { fencingAccepts } from '../lease.ts';
import { decodeSnapshot, encodeSnapshotInTurns, snapshotFencingToken } from './codec.ts';
import type { LoadedSnapshot, SavedSnapshot } from './store.ts';
import type { SnapshotToSave } from './types.ts';

const key = (shard: number): string => `shard.${shard}`;

export class KvSnapshotStore {
  private constructor(private readonly kv: KV, readonly bucket: string) {}

  static async open(nc: NatsConnection, name: string, replicas = 1): Promise<KvSnapshotStore> {
    const bucket = `${name}_snapshots`;
    return new KvSnapshotStore(await new Kvm(nc).create(bucket, { history: 1, replicas }), bucket);
  }

  async save(snapshot: SnapshotToSave): Promise<SavedSnapshot> {
    const bytes = await encodeSnapshotInTurns(snapshot);
    const where = `${this.bucket}/${key(snapshot.shard)}`;
    try {
      const current = await this.kv.get(key(snapshot.shard));
      const live = current && current.operation === 'PUT' && current.value.length > 0;
      if (live) {
        const stored = snapshotFencingToken(current.value); // the token alone: decoding every entry took ~100 ms a save
        if (!fencingAccepts(stored, snapshot.fencingToken)) {
          throw new VigilError('CONFLICT', `snapshot of shard ${snapshot.shard} refused: fencing token ${snapshot.fencingToken} is older than the stored ${stored} (a newer owner holds the shard)`);
        }
        await this.kv.update(key(snapshot.shard), bytes, current.revision);
      } else {
        await this.kv.create(key(snapshot.shard), bytes);
      }
    } catch (err) {
      if (err instanceof VigilError) throw err;
      throw new VigilError('UNAVAILABLE', `snapshot of shard ${snapshot.shard}: cannot write ${where} (${(err as Error).message})`, { cause: err });
    }
    return { file: where, logPosition: snapshot.logPosition, ackable: snapshot.logPosition };
  }

  async latest(shard: number): Promise<LoadedSnapshot | undefined> {
    const e = await this.kv.get(key(shard));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    return { snapshot: decodeSnapshot(e.value), file: `${this.bucket}/${key(shard)}`, skipped: [] };
  }
}
