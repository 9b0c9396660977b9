// The ingest log on NATS JetStream (the cluster issue): one stream, one subject per shard
// (`<prefix>.<shard>`), the batch id as the message id (Nats-Msg-Id) so the server drops a
// retry inside its duplicate window, append resolved by the PubAck. A shard is read through an
// ordered consumer from a position (no server-side state to clean up or redeliver after a
// failover: the position lives in the snapshot), and "ack up to a position" purges the shard's
// subject below it, which is what deleting acknowledged segments is in the embedded log.
//
// The records themselves are read from the stream's leader, the server whose PubAcks named
// their positions; the consumer only says that something new is there. A consumer is served
// by one replica, and nats-server 2.9's replicas can disagree after a partition: in the
// partition test a replica held another batch at the position the leader had acknowledged one
// at, and a consumer it served skipped six acknowledged batches (cluster/README.md).
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy, jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type NextMsgRequest, type SeqMsgRequest,
} from '@nats-io/jetstream';
import { badInput, closedError, IngestLogError } from './errors.ts';
import type { Appended, IngestLog, LogRecord, ReadOptions } from './types.ts';

export const DEFAULT_STREAM = 'VIGIL_INGEST';
export const DEFAULT_SUBJECT_PREFIX = 'metrics';
export const DEFAULT_SHARDS = 256;
export const DEFAULT_REPLICAS = 1;
/** the server's own default: a retry later than this is stored again (stores dedupe on derived keys) */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/**
 * How long one append waits for its PubAck. A node retries its appends above this log with
 * shorter attempts (APPEND_ATTEMPT_MS, cluster/node-stores.ts); an attempt it gave up on still
 * waits here, and a late answer is ignored (the batch id makes the retry a duplicate).
 */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;
/** A record the consumer announced but the leader does not show yet is asked for again this often, this many times, before it is left. */
export const LEADER_LAG_RETRY_MS = 20;
export const LEADER_LAG_RETRIES = 10;

export interface JetStreamLogOptions {
  /** an open connection (kept open on close), or servers to connect to (closed on close) */
  connection?: NatsConnection;
  servers?: string | string[];
  stream?: string;
  subjectPrefix?: string;
  shards?: number;
  /** set when the log creates the stream; an existing stream keeps its own */
  replicas?: number;
  duplicateWindowMs?: number;
  publishTimeoutMs?: number;
}

export class JetStreamIngestLog implements IngestLog {
  private readonly ackedAt = new Map<number, number>();
  private readonly stops = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly subjectPrefix: string,
    readonly shards: number,
    private readonly publishTimeoutMs: number,
  ) {}

  /** Connects and makes sure the stream exists (creating it with `<prefix>.*`, file storage, limits retention). */
  static async open(options: JetStreamLogOptions = {}): Promise<JetStreamIngestLog> {
    const shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isInteger(shards) || shards < 1) throw badInput(`shards must be a whole number ≥ 1, not ${shards}`);
    const stream = options.stream ?? DEFAULT_STREAM;
    const prefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
    let nc = options.connection;
    try {
      nc ??= await connect({ servers: options.servers ?? '127.0.0.1:4222' });
    } catch (err) {
      throw new IngestLogError('UNAVAILABLE', 'jetstream', `ingest log: cannot reach NATS at ${String(options.servers ?? '127.0.0.1:4222')}`, { cause: err });
    }
    const owns = options.connection === undefined;
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, stream, prefix, options);
      return new JetStreamIngestLog(nc, owns, jetstream(nc), jsm, stream, prefix, shards, options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS);
    } catch (err) {
      if (owns) await nc.close().catch(() => undefined);
      throw err instanceof IngestLogError ? err : jetstreamError(`opening stream ${stream}`, err);
    }
  }

  subject(shard: number): string {
    return `${this.subjectPrefix}.${shard}`;
  }

  async append(shard: number, bytes: Uint8Array, id: string): Promise<Appended> {
    this.check(shard);
    if (typeof id !== 'string' || id.length === 0) throw badInput('a batch id must be a non-empty string');
    const max = this.nc.info?.max_payload;
    if (max !== undefined && bytes.byteLength > max) {
      throw new IngestLogError('PAYLOAD_TOO_LARGE', 'bad-input', `ingest log: a batch of ${bytes.byteLength} bytes is over the server's max_payload of ${max}`);
    }
    try {
      const ack = await this.js.publish(this.subject(shard), bytes, { msgID: id, timeout: this.publishTimeoutMs });
      // a duplicate's PubAck carries the sequence the first copy got
      return { shard, position: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw jetstreamError(`appending to ${this.subject(shard)}`, err);
    }
  }

  read(shard: number, after: number, options: ReadOptions = {}): AsyncIterable<LogRecord> {
    this.check(shard);
    if (!Number.isSafeInteger(after) || after < 0) throw badInput(`read position ${after} is not a whole number ≥ 0`);
    return this.readShard(shard, after, options.signal);
  }

  private async *readShard(shard: number, after: number, signal: AbortSignal | undefined): AsyncGenerator<LogRecord> {
    if (signal?.aborted) return;
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: this.subject(shard), // one string: servers before 2.10 know only filter_subject
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: after + 1,
      headers_only: true, // it only says which position is new: the record is read from the leader
    });
    const messages = await consumer.consume();
    const stop = (): void => void messages.stop();
    signal?.addEventListener('abort', stop);
    this.stops.add(stop);
    // an abort or close that came while the consumer was being opened found no listener yet:
    // without this the read would wait for a message that a quiet shard never sends
    if (signal?.aborted || this.closed) stop();
    let cursor = after;
    try {
      for await (const m of messages) {
        if (signal?.aborted || this.closed) break;
        if (m.seq <= cursor) continue; // read from the leader already
        // the leader's records after the cursor up to the announced one: a later record comes
        // with an announcement of its own, so asking past it would cost a request per record
        // that the leader answers with nothing
        for (let tries = 0; cursor < m.seq && tries <= LEADER_LAG_RETRIES;) {
          const record = await this.leaderNext(shard, cursor);
          if (signal?.aborted || this.closed) return;
          if (!record) {
            tries++; // its apply trails the replica's
            if (tries <= LEADER_LAG_RETRIES) await new Promise((r) => setTimeout(r, LEADER_LAG_RETRY_MS));
            continue;
          }
          cursor = record.position;
          yield record;
        }
      }
    } finally {
      this.stops.delete(stop);
      signal?.removeEventListener('abort', stop);
      messages.stop();
    }
  }

  /** The leader's first record of `shard` after `after` (none: it holds nothing later). */
  private async leaderNext(shard: number, after: number): Promise<LogRecord | undefined> {
    try {
      // STREAM.MSG.GET takes next_by_subj since server 2.9 (the client's type names it for direct gets only)
      const next: SeqMsgRequest & NextMsgRequest = { seq: after + 1, next_by_subj: this.subject(shard) };
      const m = await this.jsm.streams.getMessage(this.stream, next);
      return m ? { shard, position: m.seq, id: m.header?.get('Nats-Msg-Id') ?? '', bytes: m.data } : undefined;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined;
      throw jetstreamError(`reading ${this.subject(shard)} after ${after} from the stream's leader`, err);
    }
  }

  async ack(shard: number, position: number): Promise<void> {
    this.check(shard);
    if (!Number.isSafeInteger(position) || position < 0) throw badInput(`ack position ${position} is not a whole number ≥ 0`);
    if (position <= this.acked(shard)) return;
    try {
      await this.jsm.streams.purge(this.stream, { filter: this.subject(shard), seq: position + 1 });
    } catch (err) {
      throw jetstreamError(`acknowledging ${this.subject(shard)} up to ${position}`, err);
    }
    this.ackedAt.set(shard, Math.max(position, this.acked(shard)));
  }

  async lastPosition(shard: number): Promise<number> {
    this.check(shard);
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(shard) });
      return m?.seq ?? 0;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return 0;
      throw jetstreamError(`reading the last position of ${this.subject(shard)}`, err);
    }
  }

  /** The position this instance acknowledged (the durable truth is the snapshot's position). */
  acked(shard: number): number {
    return this.ackedAt.get(shard) ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.stops) stop();
    if (this.ownsConnection) await this.nc.drain().catch(() => undefined);
  }

  private check(shard: number): void {
    if (this.closed) throw closedError();
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shards) throw badInput(`shard ${shard} is not a whole number from 0 to ${this.shards - 1}`);
  }
}

async function ensureStream(jsm: JetStreamManager, name: string, prefix: string, options: JetStreamLogOptions): Promise<void> {
  const subject = `${prefix}.*`;
  try {
    const info = await jsm.streams.info(name);
    if (!info.config.subjects?.includes(subject)) {
      throw new IngestLogError('CONFIG_INVALID', 'jetstream', `ingest log: stream ${name} exists but does not take ${subject} (it takes ${info.config.subjects?.join(', ') ?? 'nothing'})`);
    }
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  await jsm.streams.add({
    name,
    subjects: [subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits, // nothing is dropped by age or size: only an ack purges
    num_replicas: options.replicas ?? DEFAULT_REPLICAS,
    duplicate_window: nanos(options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
  });
}

function jetstreamError(what: string, err: unknown): IngestLogError {
  if (err instanceof IngestLogError) return err;
  const text = err instanceof Error ? err.message : String(err);
  // the server's own words for a full store (JetStream's account or server limits)
  const full = err instanceof JetStreamApiError && /insufficient resources|maximum bytes|storage/i.test(text);
  return new IngestLogError('UNAVAILABLE', full ? 'disk-full' : 'jetstream', `ingest log: JetStream failed while ${what}: ${text}`, { cause: err });
}
