// The face of the ingest log (DESIGN.md §2.1): the gateway appends a batch and answers 202 only
// when the log says it is durable; a shard host reads its shard in order and acknowledges up to
// the batch whose effects are stored and whose detector state a snapshot covers.

/** Where a batch landed. Positions increase within a shard (not necessarily by 1). */
export interface Appended {
  shard: number;
  position: number;
  /** true when the id was seen within the dedup window: nothing new was written. */
  duplicate: boolean;
}

export interface LogRecord {
  shard: number;
  position: number;
  /** the batch id given to append() (the client's derived id) */
  id: string;
  bytes: Uint8Array;
}

export interface ReadOptions {
  /** stops the iteration (it also ends when the log closes) */
  signal?: AbortSignal;
}

export interface IngestLog {
  /**
   * Appends one batch to `shard` and resolves once it is durable (fsynced, or PubAck'd).
   * A second append with the same `id` inside the dedup window writes nothing and resolves
   * to the first one's position with `duplicate: true`.
   * Rejects with an IngestLogError (UNAVAILABLE with a reason) when the log cannot make it durable.
   */
  append(shard: number, bytes: Uint8Array, id: string): Promise<Appended>;
  /**
   * The records of `shard` with a position greater than `after`, in order, then new ones as
   * they become durable, until `signal` aborts or the log closes. `after` is the position a
   * snapshot covers (0: from the start). Records at or below the acknowledged position may
   * already be deleted: reading from before them starts at the first one kept.
   */
  read(shard: number, after: number, options?: ReadOptions): AsyncIterable<LogRecord>;
  /**
   * Everything of `shard` up to and including `position` may be discarded. Call it only with a
   * position whose effects are stored AND covered by a snapshot. Lower positions are ignored.
   */
  ack(shard: number, position: number): Promise<void>;
  /** The acknowledged position of `shard` (0 when none). */
  acked(shard: number): number;
  /** The position of the last durable batch of `shard` (0 when none): lag = this minus what was consumed. */
  lastPosition(shard: number): Promise<number>;
  close(): Promise<void>;
}
