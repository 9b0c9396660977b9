// ShardSnapshot ⇄ bytes: protobuf (protocols/proto/snapshot.proto), deflated, inside a checked
// file frame.
//
//   frame 2 = "VSNP" | 2 u32 | stored bytes u32 | crc32(stored) u32 | payload bytes u32 | deflate-raw(payload)
//   frame 1 = "VSNP" | 1 u32 | payload bytes u32 | crc32(payload) u32 | payload      (read, no longer written)
//
// Protobuf alone decodes many damaged inputs without complaint; the CRC makes damage an error.
// Deflated because every snapshot crosses the bus (cluster mode: the KV bucket, on the
// nats-server that every tenant's appends also wait on) or the disk: the names of a shard's
// series and their detectors' state shrink about 4x (bench:tenancy's A, 6,400 Basic series of
// distinct histories: 4.2 MB to 1.05 MB), for ~20 ms of the zlib pool at level 1.
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import protobuf from 'protobufjs/minimal.js';
import { seriesName, wire, type Incident } from '../../protocols/index.ts';
import type { DetectorSnapshot } from '../../actors/detection/index.ts';
import { nextTurn } from '../../actors/runtime/index.ts';
import type { SeriesSnapshot } from '../../actors/service/index.ts';
import { decodeValue, encodeValue } from './value-codec.ts';
import { SNAPSHOT_VERSION, type ShardSnapshot, type SnapshotEntry, type SnapshotToSave } from './types.ts';

const MAGIC = 0x504e5356; // "VSNP" little-endian
const FRAME_VERSION = 2;
const HEADER_BYTES = 20;
/** frame 1 (before snapshots were deflated): its snapshots are still read after an upgrade */
const FRAME_V1 = 1;
const HEADER_V1_BYTES = 16;
/** zlib's fastest level: most of the gain (names, zeros, repeated state) for the least CPU */
const DEFLATE = { level: 1 } as const;
const deflateRaw = promisify(zlib.deflateRaw);
const ENCODING_VALUE_V1 = wire.DetectorEncoding.DETECTOR_ENCODING_VALUE_V1;

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
}

/** Entries encoded between two turns of the event loop (encodeSnapshotInTurns). */
export const ENTRIES_PER_TURN = 256;

export function encodeSnapshot(s: ShardSnapshot): Uint8Array {
  return frame([encodeHead(s), encodeSnapshotEntries(s.entries)]);
}

/**
 * The same bytes as encodeSnapshot, encoded ENTRIES_PER_TURN entries at a time with a turn of
 * the event loop between: a shard of thousands of series took 100-200 ms in one piece, and
 * every request waited behind it (the checkpoint's stall in ingest latency, every 5 s).
 * Protobuf messages concatenate: the head's fields, then each run of entries appended.
 */
export async function encodeSnapshotInTurns(s: SnapshotToSave): Promise<Uint8Array> {
  const head = encodeHead(s); // bad fields fail before any entry is encoded
  return frameInTurns([head, ...('encodedEntries' in s ? s.encodedEntries : await encodeEntriesInTurns(s.entries))]);
}

/** A shard's entries as runs of encoded ShardSnapshot fields, ENTRIES_PER_TURN per turn of the event loop. */
export async function encodeEntriesInTurns(entries: readonly SnapshotEntry[]): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < entries.length; i += ENTRIES_PER_TURN) {
    if (i > 0) await nextTurn();
    parts.push(encodeSnapshotEntries(entries.slice(i, i + ENTRIES_PER_TURN)));
  }
  return parts;
}

/** The fencing token of an encoded snapshot, read without decoding its entries. */
export function snapshotFencingToken(file: Uint8Array): number {
  const payload = framePayload(file);
  const r = protobuf.Reader.create(payload);
  let token = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === FENCING_TOKEN_FIELD && (tag & 7) === 0) token = Number(r.int64());
    else r.skipType(tag & 7);
  }
  return token;
}

/** ShardSnapshot.fencing_token's field number (protocols/proto/snapshot.proto). */
const FENCING_TOKEN_FIELD = 6;

function encodeHead(s: Omit<ShardSnapshot, 'entries'>): Uint8Array {
  for (const [name, v] of [['shard', s.shard], ['logPosition', s.logPosition], ['takenAt', s.takenAt], ['fencingToken', s.fencingToken]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`snapshot: ${name} ${v} is not a whole number ≥ 0`);
  }
  return wire.ShardSnapshot.encode({
    version: s.version,
    shard: s.shard,
    logPosition: s.logPosition,
    takenAt: s.takenAt,
    node: s.node,
    fencingToken: s.fencingToken,
    openIncidents: (s.openIncidents ?? []).map((i) => JSON.stringify(i)),
  }).finish();
}

/** Entries as encoded ShardSnapshot fields: runs of them concatenate after the head (encodeSnapshotInTurns). */
export function encodeSnapshotEntries(entries: readonly SnapshotEntry[]): Uint8Array {
  return wire.ShardSnapshot.encode({ entries: entries.map((e) => wireEntry(e.tenant, e.seriesKey, e)) }).finish();
}

/**
 * One tenant's series as encoded entries, the same bytes as encodeSnapshotEntries of their
 * SnapshotEntries: `keys[i]` is series i's seriesKey where the caller holds it (a service's
 * map of series), else it is named here. No SnapshotEntry copy is made per series.
 */
export function encodeTenantEntries(tenant: string, series: readonly SeriesSnapshot[], keys?: readonly string[]): Uint8Array {
  return wire.ShardSnapshot.encode({ entries: series.map((e, i) => wireEntry(tenant, keys?.[i] ?? seriesName(e.metric, e.labels), e)) }).finish();
}

function wireEntry(tenant: string, seriesKey: string, e: SeriesSnapshot) {
  return {
    tenant,
    service: e.service,
    seriesKey,
    metric: e.metric,
    labels: e.labels,
    since: e.since,
    quietUntil: e.quietUntil,
    detectorTier: e.detector.tier,
    detectorVersion: e.detector.version,
    detectorEncoding: ENCODING_VALUE_V1,
    detector: encodeValue(e.detector),
    position: e.position ?? 0,
  };
}

function frame(parts: readonly Uint8Array[]): Uint8Array {
  return framed(zlib.deflateRawSync(Buffer.concat(parts), DEFLATE), sum(parts));
}

/** Bytes concatenated between two turns of the event loop (frameInTurns). */
export const FRAME_BYTES_PER_TURN = 256 * 1024;

/**
 * frame()'s bytes. The parts are joined FRAME_BYTES_PER_TURN at a time with a turn of the event
 * loop between (a shard of 6,400 Basic series is ~4.2 MB, and its concatenation in one piece
 * stalled every request for ~25 ms: bench:tenancy, a CPU profile against the event loop's
 * stalls); the deflate runs on zlib's thread pool, off the event loop.
 */
async function frameInTurns(parts: readonly Uint8Array[]): Promise<Uint8Array> {
  const length = sum(parts);
  const payload = Buffer.allocUnsafe(length);
  let at = 0;
  let sinceTurn = 0;
  for (const part of parts) {
    for (let from = 0; from < part.byteLength; from += FRAME_BYTES_PER_TURN) {
      if (sinceTurn >= FRAME_BYTES_PER_TURN) {
        await nextTurn();
        sinceTurn = 0;
      }
      const piece = part.subarray(from, Math.min(part.byteLength, from + FRAME_BYTES_PER_TURN));
      payload.set(piece, at);
      at += piece.byteLength;
      sinceTurn += piece.byteLength;
    }
  }
  return framed(await deflateRaw(payload, DEFLATE), length);
}

const sum = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + p.byteLength, 0);

function framed(stored: Buffer, payloadBytes: number): Buffer {
  const file = Buffer.allocUnsafe(HEADER_BYTES + stored.byteLength);
  file.writeUInt32LE(MAGIC, 0);
  file.writeUInt32LE(FRAME_VERSION, 4);
  file.writeUInt32LE(stored.byteLength, 8);
  file.writeUInt32LE(zlib.crc32(stored), 12);
  file.writeUInt32LE(payloadBytes, 16);
  file.set(stored, HEADER_BYTES);
  return file;
}

/** The payload of a framed snapshot (frame 2 inflated, or frame 1 as stored), its header and checksum checked. */
function framePayload(file: Uint8Array): Buffer {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.byteLength < HEADER_V1_BYTES || buf.readUInt32LE(0) !== MAGIC) throw new SnapshotFormatError('not a snapshot file (no VSNP header)');
  const version = buf.readUInt32LE(4);
  if (version !== FRAME_VERSION && version !== FRAME_V1) throw new SnapshotFormatError(`snapshot frame version ${version} is not ${FRAME_V1} or ${FRAME_VERSION}`);
  const header = version === FRAME_V1 ? HEADER_V1_BYTES : HEADER_BYTES;
  const len = buf.readUInt32LE(8);
  if (buf.byteLength !== header + len) throw new SnapshotFormatError(`snapshot is ${buf.byteLength} bytes, its header says ${header + len}`);
  const stored = buf.subarray(header);
  if (zlib.crc32(stored) !== buf.readUInt32LE(12)) throw new SnapshotFormatError('snapshot checksum does not match');
  if (version === FRAME_V1) return stored;
  const payloadBytes = buf.readUInt32LE(16);
  let payload: Buffer;
  try {
    payload = zlib.inflateRawSync(stored, { maxOutputLength: payloadBytes });
  } catch (err) {
    throw new SnapshotFormatError(`snapshot does not inflate (${(err as Error).message})`);
  }
  if (payload.byteLength !== payloadBytes) throw new SnapshotFormatError(`snapshot inflates to ${payload.byteLength} bytes, its header says ${payloadBytes}`);
  return payload;
}

export function decodeSnapshot(file: Uint8Array): ShardSnapshot {
  const msg = wire.ShardSnapshot.decode(framePayload(file));
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
