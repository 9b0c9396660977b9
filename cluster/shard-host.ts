// Shard hosts (DESIGN.md §2.1, step 2): for each shard this node owns, read the ingest log
// in order from where the shard's snapshot left off and hand each batch to the actors. Each
// batch's receipt says when its effects are stored; the shard's watermark is the highest
// position up to which every batch is, and the checkpoint acknowledges the log up to it.
import { setMaxListeners } from 'node:events';
import { decodeMetricBatch, type DecodedBatch } from '../protocols/index.ts';
import type { IngestReceipt } from '../actors/tenant/index.ts';
import type { IngestLog, LogRecord } from './ingest-log/index.ts';

/** A batch this process appended, still held decoded, with the receipt its request was admitted with. */
export interface AdmittedBatch {
  batch: DecodedBatch;
  receipt: IngestReceipt;
}

export interface ShardHostParts {
  log: IngestLog;
  /** the batch behind `record` if this process appended it (taken: asked once per record) */
  take(record: LogRecord): AdmittedBatch | undefined;
  /** hands a batch to the actors and returns its receipt; `admitted` is absent for a replay */
  deliver(batch: DecodedBatch, record: LogRecord, admitted: AdmittedBatch | undefined): IngestReceipt;
  /** a record that cannot be decoded (it was validated before append: a bug, or disk damage) */
  onBadRecord(record: LogRecord, err: unknown): void;
  /** a shard's reading failed (its log server went away, say); it resumes after the last record it handed on */
  onReadError?(shard: number, err: unknown): void;
}

/** How long a shard whose reading failed waits before it reads again. */
export const READ_RETRY_MS = 500;

interface ShardProgress {
  /** positions delivered and not yet stored, in log order */
  pending: Array<{ position: number; stored: boolean }>;
  /** every batch up to here is stored */
  watermark: number;
  /** tenants whose batches this shard carried (their state goes in its snapshot) */
  tenants: Set<string>;
  /** stops this shard's reader alone (a hand-off), or with all of them */
  abort: AbortController;
  loop?: Promise<void>;
}

export class ShardHosts {
  private readonly progress = new Map<number, ShardProgress>();
  private readonly abort = new AbortController();
  private readonly loops: Array<Promise<void>> = [];

  constructor(private readonly parts: ShardHostParts) {
    setMaxListeners(0, this.abort.signal); // one listener per shard's reader
  }

  /** Starts reading `shard` after `from` (the position its snapshot covers); `tenants` it already holds. */
  start(shard: number, from: number, tenants: Iterable<string> = []): void {
    const abort = new AbortController();
    this.abort.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const p: ShardProgress = { pending: [], watermark: from, tenants: new Set(tenants), abort };
    this.progress.set(shard, p);
    p.loop = this.run(shard, from);
    this.loops.push(p.loop);
  }

  /** Stops reading `shard` (a hand-off); its progress stays until drop(), for a last checkpoint. */
  async stopShard(shard: number): Promise<void> {
    const p = this.progress.get(shard);
    if (!p) return;
    p.abort.abort();
    await p.loop?.catch(() => undefined);
  }

  /** Forgets a stopped shard. */
  drop(shard: number): void {
    this.progress.delete(shard);
  }

  /** Batches of `shard` delivered and not yet stored. */
  pending(shard: number): number {
    return this.progress.get(shard)?.pending.length ?? 0;
  }

  watermark(shard: number): number {
    return this.progress.get(shard)?.watermark ?? 0;
  }

  tenants(shard: number): string[] {
    return [...(this.progress.get(shard)?.tenants ?? [])];
  }

  shards(): number[] {
    return [...this.progress.keys()];
  }

  /** Batches delivered and not yet stored, over all shards (the log lag the node shows). */
  lag(): number {
    let n = 0;
    for (const p of this.progress.values()) n += p.pending.length;
    return n;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  /**
   * Reads `shard` in order until stopped. A read that fails or ends (a JetStream consumer lost
   * with its server) is opened again after the last record handed on, so a shard never stops
   * being read while it is held, and no record is handed on twice.
   */
  private async run(shard: number, from: number): Promise<void> {
    const p = this.progress.get(shard)!;
    const signal = p.abort.signal;
    let after = from;
    while (!signal.aborted) {
      try {
        for await (const record of this.parts.log.read(shard, after, { signal })) {
          if (signal.aborted) break;
          if (record.position <= after) continue; // already handed on before the read was opened again
          after = record.position;
          this.handOn(p, record);
        }
      } catch (err) {
        if (signal.aborted) break;
        this.parts.onReadError?.(shard, err);
      }
      if (!signal.aborted) await abortable(READ_RETRY_MS, signal);
    }
  }

  private handOn(p: ShardProgress, record: LogRecord): void {
    // a batch this process appended is still in memory: no need to decode what was just encoded
    const mine = this.parts.take(record);
    let batch: DecodedBatch;
    try {
      batch = mine?.batch ?? decodeMetricBatch(record.bytes);
    } catch (err) {
      this.parts.onBadRecord(record, err);
      return;
    }
    p.tenants.add(batch.tenant);
    const entry = { position: record.position, stored: false };
    p.pending.push(entry);
    const receipt = this.parts.deliver(batch, record, mine);
    // a failed write leaves the watermark where it is: the batch stays in the log for a replay
    receipt.stored.then(() => {
      entry.stored = true;
      while (p.pending.length > 0 && p.pending[0]!.stored) p.watermark = p.pending.shift()!.position;
    }, () => undefined);
  }
}

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
