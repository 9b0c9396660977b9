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
  /**
   * The log holds a batch a second time (its id was handed on `first`, at a lower position):
   * a copy the log's own duplicate check let through (a client's retry across a server's
   * leader change, say). It is skipped: handing it on would store its samples twice.
   */
  onDuplicate?(record: LogRecord, first: number): void;
  /** a batch's effects could not be stored: the shard's watermark stays below it (the next owner, or a restart, replays it) */
  onStoreFailed?(record: LogRecord, err: unknown): void;
  /** each read opened and each record handed on, for a trace (absent: not traced) */
  trace?(what: 'read opened' | 'record handed on', shard: number, position: number, id?: string): void;
}

/** How long a shard whose reading failed waits before it reads again. */
export const READ_RETRY_MS = 500;
/**
 * A read that handed nothing on for this long while the log holds more is opened again (a
 * JetStream consumer whose server died can wait for good without failing).
 */
export const READ_STALL_MS = 15_000;
/**
 * The readers of all shards together hand records on for at most this long before the event
 * loop gets a turn: a consumer's burst arrives as one run of microtasks, and without a turn
 * the timers and sockets (the gateway, the coordinator's rounds) waited behind all of it.
 */
export const TURN_MS = 20;
/** Batch ids remembered per shard to catch a copy the log stored twice (a client retries within seconds). */
export const RECENT_IDS = 512;

/** One budget of work per event-loop turn, shared by every reader of the process. */
class Turns {
  private since = performance.now();
  private waiting: Promise<void> | undefined;

  /** undefined while the turn has time left; else a promise that resolves on the loop's next turn */
  pass(): Promise<void> | undefined {
    if (performance.now() - this.since < TURN_MS) return undefined;
    this.waiting ??= new Promise<void>((resolve) => setImmediate(() => {
      this.since = performance.now();
      this.waiting = undefined;
      resolve();
    }));
    return this.waiting;
  }
}

interface ShardProgress {
  /** positions delivered and not yet stored, in log order */
  pending: Array<{ position: number; stored: boolean }>;
  /** every batch up to here is stored */
  watermark: number;
  /** tenants whose batches this shard carried (their state goes in its snapshot) */
  tenants: Set<string>;
  /** the last record handed on: a reader opened again goes on after it */
  delivered: number;
  /** the ids of the last RECENT_IDS records handed on, and their positions */
  recent: Map<string, number>;
  /** stops this shard's reader alone (a hand-off), or with all of them */
  abort: AbortController;
  /** ends the read under way only (a stalled one), not the shard */
  read?: AbortController;
  /** when the read under way was opened or last handed a record on (ms) */
  lastRead: number;
  loop?: Promise<void>;
}

export class ShardHosts {
  private readonly progress = new Map<number, ShardProgress>();
  private readonly abort = new AbortController();
  private readonly loops = new Set<Promise<void>>();
  private readonly watchdog: NodeJS.Timeout;
  private readonly turns = new Turns();

  constructor(private readonly parts: ShardHostParts) {
    setMaxListeners(0, this.abort.signal); // one listener per shard's reader
    this.watchdog = setInterval(() => void this.reopenStalled(), READ_STALL_MS / 3);
    this.watchdog.unref();
  }

  /** Starts reading `shard` after `from` (the position its snapshot covers); `tenants` it already holds. */
  start(shard: number, from: number, tenants: Iterable<string> = []): void {
    const p: ShardProgress = { pending: [], watermark: from, delivered: from, recent: new Map(), tenants: new Set(tenants), abort: this.childAbort(), lastRead: Date.now() };
    this.progress.set(shard, p);
    this.loop(shard, p);
  }

  /** Reads a stopped shard again after the last record it handed on (a hand-off that could not finish). */
  resume(shard: number): void {
    const p = this.progress.get(shard);
    if (!p || !p.abort.signal.aborted || this.abort.signal.aborted) return;
    p.abort = this.childAbort();
    this.loop(shard, p);
  }

  private loop(shard: number, p: ShardProgress): void {
    const loop = this.run(shard);
    p.loop = loop;
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  private childAbort(): AbortController {
    const abort = new AbortController();
    if (this.abort.signal.aborted) abort.abort(); // a shard started as the host stops is never read
    else this.abort.signal.addEventListener('abort', () => abort.abort(), { once: true });
    return abort;
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
    clearInterval(this.watchdog);
    this.abort.abort();
    await Promise.allSettled([...this.loops]);
  }

  /** Opens again each read that has handed nothing on for READ_STALL_MS while its log holds more. */
  private async reopenStalled(): Promise<void> {
    const now = Date.now();
    for (const [shard, p] of this.progress) {
      if (p.abort.signal.aborted || !p.read || now - p.lastRead < READ_STALL_MS) continue;
      p.lastRead = now;
      const last = await this.parts.log.lastPosition(shard).catch(() => 0);
      if (last > p.delivered && p.read && !p.read.signal.aborted) {
        this.parts.onReadError?.(shard, new Error(`nothing read for ${READ_STALL_MS} ms while the log is at ${last} (read up to ${p.delivered}): reading again`));
        p.read.abort();
      }
    }
  }

  /**
   * Reads `shard` in order until stopped. A read that fails or ends (a JetStream consumer lost
   * with its server) is opened again after the last record handed on, so a shard never stops
   * being read while it is held, and no record is handed on twice.
   */
  private async run(shard: number): Promise<void> {
    const p = this.progress.get(shard)!;
    const signal = p.abort.signal;
    while (!signal.aborted) {
      const read = new AbortController();
      p.read = read;
      p.lastRead = Date.now();
      this.parts.trace?.('read opened', shard, p.delivered);
      try {
        for await (const record of this.parts.log.read(shard, p.delivered, { signal: AbortSignal.any([signal, read.signal]) })) {
          if (signal.aborted || read.signal.aborted) break;
          p.lastRead = Date.now();
          if (record.position <= p.delivered) continue; // already handed on before the read was opened again
          p.delivered = record.position;
          this.parts.trace?.('record handed on', shard, record.position, record.id);
          this.handOn(p, record);
          const turn = this.turns.pass();
          if (turn) await turn;
        }
      } catch (err) {
        if (signal.aborted) break;
        if (!read.signal.aborted) this.parts.onReadError?.(shard, err);
      }
      if (!signal.aborted) await abortable(READ_RETRY_MS, signal);
    }
  }

  private handOn(p: ShardProgress, record: LogRecord): void {
    if (record.id) {
      const first = p.recent.get(record.id);
      if (first !== undefined) {
        this.parts.onDuplicate?.(record, first);
        this.settled(p, { position: record.position, stored: true }); // nothing of it is pending
        return;
      }
      p.recent.set(record.id, record.position);
      if (p.recent.size > RECENT_IDS) p.recent.delete(p.recent.keys().next().value!);
    }
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
      this.settled(p);
    }, (err: unknown) => this.parts.onStoreFailed?.(record, err));
  }

  /** Moves the watermark over the stored head of `pending` (`done`: one more, stored already). */
  private settled(p: ShardProgress, done?: { position: number; stored: true }): void {
    if (done) p.pending.push(done);
    while (p.pending.length > 0 && p.pending[0]!.stored) p.watermark = p.pending.shift()!.position;
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
