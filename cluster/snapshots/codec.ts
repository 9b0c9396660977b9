// ShardSnapshot ⇄ bytes: protobuf (protocols/proto/snapshot.proto) inside a checked file frame.
//
//   file = "VSNP" | frame version u32 | payload bytes u32 | crc32(payload) u32 | payload
//
// Protobuf alone decodes many damaged inputs without complaint; the CRC makes damage an error.
import * as zlib from 'node:zlib';
import { wire } from '../../protocols/index.ts';
import type { DetectorSnapshot } from '../../actors/detection/index.ts';
import type { Incident } from '../../protocols/index.ts';
import { decodeValue, encodeValue } from './value-codec.ts';
import { SNAPSHOT_VERSION, type ShardSnapshot, type SnapshotEntry } from './types.ts';

const MAGIC = 0x504e5356; // "VSNP" little-endian
const FRAME_VERSION = 1;
const HEADER_BYTES = 16;
const ENCODING_VALUE_V1 = wire.DetectorEncoding.DETECTOR_ENCODING_VALUE_V1;

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

export function encodeSnapshot(s: ShardSnapshot): Uint8Array {
  for (const [name, v] of [['shard', s.shard], ['logPosition', s.logPosition], ['takenAt', s.takenAt], ['fencingToken', s.fencingToken]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`snapshot: ${name} ${v} is not a whole number ≥ 0`);
  }
  const payload = wire.ShardSnapshot.encode({
    version: s.version,
    shard: s.shard,
    logPosition: s.logPosition,
    takenAt: s.takenAt,
    node: s.node,
    fencingToken: s.fencingToken,
    entries: s.entries.map((e) => ({
      tenant: e.tenant,
      service: e.service,
      seriesKey: e.seriesKey,
      metric: e.metric,
      labels: e.labels,
      since: e.since,
      quietUntil: e.quietUntil,
      detectorTier: e.detector.tier,
      detectorVersion: e.detector.version,
      detectorEncoding: ENCODING_VALUE_V1,
      detector: encodeValue(e.detector),
      position: e.position ?? 0,
    })),
    openIncidents: (s.openIncidents ?? []).map((i) => JSON.stringify(i)),
  }).finish();
  const file = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
  file.writeUInt32LE(MAGIC, 0);
  file.writeUInt32LE(FRAME_VERSION, 4);
  file.writeUInt32LE(payload.byteLength, 8);
  file.writeUInt32LE(zlib.crc32(payload), 12);
  file.set(payload, HEADER_BYTES);
  return file;
}

export function decodeSnapshot(file: Uint8Array): ShardSnapshot {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.byteLength < HEADER_BYTES || buf.readUInt32LE(0) !== MAGIC) throw new SnapshotFormatError('not a snapshot file (no VSNP header)');
  if (buf.readUInt32LE(4) !== FRAME_VERSION) throw new SnapshotFormatError(`snapshot frame version ${buf.readUInt32LE(4)} is not ${FRAME_VERSION}`);
  const len = buf.readUInt32LE(8);
  if (buf.byteLength !== HEADER_BYTES + len) throw new SnapshotFormatError(`snapshot is ${buf.byteLength} bytes, its header says ${HEADER_BYTES + len}`);
  const payload = buf.subarray(HEADER_BYTES);
  if (zlib.crc32(payload) !== buf.readUInt32LE(12)) throw new SnapshotFormatError('snapshot checksum does not match');
  const msg = wire.ShardSnapshot.decode(payload);
  if (msg.version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`snapshot version ${msg.version} is not ${SNAPSHOT_VERSION}`);
  return {
    version: msg.version,
    shard: msg.shard,
    logPosition: Number(msg.logPosition),
    takenAt: Number(msg.takenAt),
    node: msg.node,
    fencingToken: Number(msg.fencingToken),
    entries: msg.entries.map((e): SnapshotEntry => {
      if (e.detectorEncoding !== ENCODING_VALUE_V1) throw new SnapshotFormatError(`series ${e.seriesKey}: unknown detector encoding ${e.detectorEncoding}`);
      return {
        tenant: e.tenant ?? '',
        service: e.service ?? '',
        seriesKey: e.seriesKey ?? '',
        metric: e.metric ?? '',
        labels: { ...e.labels },
        since: e.since ?? 0,
        quietUntil: e.quietUntil ?? 0,
        detector: decodeValue(e.detector ?? new Uint8Array()) as unknown as DetectorSnapshot,
        ...(e.position ? { position: Number(e.position) } : {}),
      };
    }),
    ...(msg.openIncidents.length > 0 ? { openIncidents: msg.openIncidents.map((text, i) => incidentOf(text, i)) } : {}),
  };
}

function incidentOf(text: string, i: number): Incident {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new SnapshotFormatError(`open incident ${i} is not JSON`);
  }
  const inc = v as Partial<Incident> | null;
  if (!inc || typeof inc.id !== 'string' || typeof inc.tenant !== 'string' || typeof inc.status !== 'string') throw new SnapshotFormatError(`open incident ${i} has no id, tenant or status`);
  return inc as Incident;
}
