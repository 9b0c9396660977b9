// Shard snapshots in a NATS KV bucket (`<name>_snapshots`, key `shard.<n>`), so the node that
// takes a shard over reads what its previous owner saved. A JetStream message is stored whole
// or not at all, so one snapshot per shard is enough (no damaged newest to fall back from) and
// the log may be acknowledged up to it. A save is fenced: it is refused when the stored
// snapshot carries a newer fencing token (a newer owner saved), and written by revision, so a
// stale owner can never overwrite its successor's snapshot.
//
// A snapshot larger than one message (the server's max_payload, 1 MB by default; a shard of a
// few thousand series is several) is written as chunks under keys of the writer's own
// (`shard.<n>.t<token>.<slot>.<i>`), then committed by the head key, which then holds a small
// manifest naming them. Two slots per owner: a save writes the slot the head does not name, so
// the committed snapshot is never overwritten, and a stale owner (another token) never writes
// the keys of its successor; once the head names the new chunks, the old ones are deleted. The
// frame's length and checksum (codec.ts) check the joined chunks.
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { VigilError } from '../../protocols/errors.ts';
import { fencingAccepts } from '../lease.ts';
import { decodeSnapshot, encodeSnapshotInTurns, snapshotFencingToken, SnapshotFormatError } from './codec.ts';
import type { LoadedSnapshot, SavedSnapshot } from './store.ts';
import type { SnapshotToSave } from './types.ts';

/** The largest chunk written; smaller when the server's max_payload asks for it. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 512 * 1024;
/** Room left in a message for the subject and JetStream's headers. */
const MESSAGE_OVERHEAD_BYTES = 4096;
const MANIFEST_MAGIC = 'VSNM';

interface Manifest {
  shard: number;
  fencingToken: number;
  logPosition: number;
  slot: 'a' | 'b';
  chunks: number;
  bytes: number;
}

const key = (shard: number): string => `shard.${shard}`;
const chunkKey = (m: Pick<Manifest, 'shard' | 'fencingToken' | 'slot'>, i: number): string => `shard.${m.shard}.t${m.fencingToken}.${m.slot}.${i}`;

export class KvSnapshotStore {
  private constructor(private readonly kv: KV, readonly bucket: string, private readonly chunkBytes: number) {}

  static async open(nc: NatsConnection, name: string, replicas = 1, chunkBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES): Promise<KvSnapshotStore> {
    const bucket = `${name}_snapshots`;
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const chunk = Math.max(1024, Math.min(chunkBytes, maxPayload - MESSAGE_OVERHEAD_BYTES));
    return new KvSnapshotStore(await new Kvm(nc).create(bucket, { history: 1, replicas }), bucket, chunk);
  }

  async save(snapshot: SnapshotToSave): Promise<SavedSnapshot> {
    const bytes = await encodeSnapshotInTurns(snapshot);
    const where = `${this.bucket}/${key(snapshot.shard)}`;
    let written: Manifest | undefined;
    try {
      const current = await this.kv.get(key(snapshot.shard));
      const live = current && current.operation === 'PUT' && current.value.length > 0 ? current.value : undefined;
      const before = live ? readManifest(live) : undefined;
      if (live) {
        const stored = before ? before.fencingToken : snapshotFencingToken(live); // the token alone: decoding every entry took ~100 ms a save
        if (!fencingAccepts(stored, snapshot.fencingToken)) {
          throw new VigilError('CONFLICT', `snapshot of shard ${snapshot.shard} refused: fencing token ${snapshot.fencingToken} is older than the stored ${stored} (a newer owner holds the shard)`);
        }
      }
      let head = bytes;
      if (bytes.byteLength > this.chunkBytes) {
        const slot = before?.fencingToken === snapshot.fencingToken && before.slot === 'a' ? 'b' : 'a';
        written = { shard: snapshot.shard, fencingToken: snapshot.fencingToken, logPosition: snapshot.logPosition, slot, chunks: Math.ceil(bytes.byteLength / this.chunkBytes), bytes: bytes.byteLength };
        for (let i = 0; i < written.chunks; i++) await this.kv.put(chunkKey(written, i), bytes.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes));
        head = writeManifest(written);
      }
      if (live) await this.kv.update(key(snapshot.shard), head, current!.revision);
      else await this.kv.create(key(snapshot.shard), head);
      // the chunks the head named before are no one's now (a restore reads the new ones)
      if (before) await this.drop(before);
    } catch (err) {
      if (written) await this.drop(written); // never committed: no head names them
      if (err instanceof VigilError) throw err;
      throw new VigilError('UNAVAILABLE', `snapshot of shard ${snapshot.shard}: cannot write ${where} (${(err as Error).message})`, { cause: err });
    }
    return { file: where, logPosition: snapshot.logPosition, ackable: snapshot.logPosition };
  }

  async latest(shard: number): Promise<LoadedSnapshot | undefined> {
    const e = await this.kv.get(key(shard));
    if (!e || e.operation !== 'PUT' || e.value.length === 0) return undefined;
    const manifest = readManifest(e.value);
    const bytes = manifest ? await this.join(manifest) : e.value;
    return { snapshot: decodeSnapshot(bytes), file: `${this.bucket}/${key(shard)}`, skipped: [] };
  }

  private async join(m: Manifest): Promise<Uint8Array> {
    const out = new Uint8Array(m.bytes);
    let at = 0;
    for (let i = 0; i < m.chunks; i++) {
      const c = await this.kv.get(chunkKey(m, i));
      if (!c || c.operation !== 'PUT' || at + c.value.byteLength > m.bytes) {
        throw new VigilError('UNAVAILABLE', `snapshot of shard ${m.shard}: chunk ${i} of ${m.chunks} (${chunkKey(m, i)}) is missing or too long`);
      }
      out.set(c.value, at);
      at += c.value.byteLength;
    }
    return out; // a short or damaged join fails the frame's length or checksum in decodeSnapshot
  }

  /** Best effort: a chunk left behind costs space, never a wrong read (no head names it). */
  private async drop(m: Manifest): Promise<void> {
    for (let i = 0; i < m.chunks; i++) await this.kv.delete(chunkKey(m, i)).catch(() => undefined);
  }
}

function writeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(`${MANIFEST_MAGIC}${JSON.stringify(m)}`);
}

/** The manifest a head holds, or undefined when it holds a whole snapshot; a damaged one throws. */
function readManifest(value: Uint8Array): Manifest | undefined {
  if (value.byteLength < 4 || new TextDecoder().decode(value.subarray(0, 4)) !== MANIFEST_MAGIC) return undefined;
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(new TextDecoder().decode(value.subarray(4))) as Partial<Manifest>;
  } catch (err) {
    throw new SnapshotFormatError(`snapshot manifest is not JSON (${(err as Error).message})`);
  }
  const whole = (n: unknown, min: number): boolean => Number.isSafeInteger(n) && (n as number) >= min;
  if (!whole(m.shard, 0) || !whole(m.fencingToken, 0) || !whole(m.logPosition, 0) || !whole(m.chunks, 1) || !whole(m.bytes, 1) || (m.slot !== 'a' && m.slot !== 'b')) {
    throw new SnapshotFormatError('snapshot manifest lacks a field or holds a bad one');
  }
  return m as Manifest;
}
