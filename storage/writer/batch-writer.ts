// A batch writer for one table: a bounded queue flushed by size and by time, each batch
// written under the database_write retry policy, spilled to disk when the store keeps
// refusing (or memory would pass its bound) and drained, oldest first, when it recovers.
// Each write() resolves once its rows are in the store: that is what the data path may ack.
import type { Clock, Rng, TimerHandle } from '../../actors/runtime/types.ts';
import { VigilError } from '../../protocols/index.ts';
import { RETRY_POLICIES, isRetryable, retry, type RetryPolicy } from '../../supervisors/index.ts';
import { Spill, type SpillFile } from './spill.ts';
import type { WriterEvent, WriterStats, WriterTable } from './types.ts';

/** Rows per INSERT: large enough that the engine's per-insert cost is amortised. */
export const DEFAULT_MAX_BATCH_ROWS = 100_000;
/** A row waits at most this long for its batch to fill. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
/** Rows held in memory per table before the oldest go to disk. */
export const DEFAULT_MAX_MEMORY_ROWS = 400_000;
/** While the store is down, one probe (a single attempt at the oldest spill file) this often. */
export const DEFAULT_PROBE_INTERVAL_MS = 1_000;

export interface BatchWriterOptions {
  clock: Clock;
  rng?: Rng;
  /** this table's spill folder (under the node's data dir) */
  spillDir: string;
  maxBatchRows?: number;
  flushIntervalMs?: number;
  maxMemoryRows?: number;
  probeIntervalMs?: number;
  policy?: RetryPolicy;
  onEvent?: (event: WriterEvent) => void;
}

/** One write() call: its items, and whoever waits for them to be stored. */
interface Entry<R> {
  items: readonly R[];
  rows: number;
  tenants: Map<string, number>;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** some rows may be stored already (a replay): its batch is written checked */
  checked?: boolean;
  /** when it was queued (the clock's ms): its rows wait at most flushIntervalMs from then */
  queuedAt: number;
  /** its place in the order of writes, for flush() */
  seq: number;
}

/** A spilled file and the writes waiting on it (none for files an earlier run left). */
interface Spilled {
  file: SpillFile;
  waiters: Array<Entry<unknown>>;
}

/** Engine verdicts on the SQL or the data itself: trying again cannot help. */
function retryableWrite(err: unknown): boolean {
  return isRetryable(err) && !VigilError.is(err, 'INTERNAL');
}

export class BatchWriter<R> {
  private readonly queue: Array<Entry<R>> = [];
  private readonly spilled: Spilled[] = [];
  private readonly depthByTenant = new Map<string, number>();
  private readonly spill: Spill;
  private readonly maxBatchRows: number;
  private readonly flushIntervalMs: number;
  private readonly maxMemoryRows: number;
  private readonly probeIntervalMs: number;
  private readonly policy: RetryPolicy;
  private queuedRows = 0;
  private inflightRows = 0;
  private storedRows = 0;
  private down = false;
  private closed = false;
  private running: Promise<void> | undefined;
  private flushTimer: TimerHandle | undefined;
  private seq = 0;
  /** flush() was asked for every write up to this one: the loop stores them back to back */
  private flushTo = 0;
  private probeTimer: TimerHandle | undefined;

  constructor(private readonly table: WriterTable<R>, private readonly opts: BatchWriterOptions) {
    this.maxBatchRows = opts.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS;
    this.flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxMemoryRows = Math.max(opts.maxMemoryRows ?? DEFAULT_MAX_MEMORY_ROWS, this.maxBatchRows);
    this.probeIntervalMs = opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.policy = opts.policy ?? RETRY_POLICIES.database_write;
    this.spill = Spill.open(opts.spillDir, (l) => table.decode(l), (item) => ({ tenant: table.tenant(item), rows: table.rows(item) }));
    // What an earlier run spilled is drained first; nobody waits on it in this run.
    for (const file of this.spill.list()) {
      this.spilled.push({ file, waiters: [] });
      this.count(file.tenants, +1);
    }
    if (this.spilled.length > 0) this.kick();
  }

  /**
   * Queues items; resolves when every row of them is in the store. `checked`: some may be
   * stored already (a replayed batch), so the batch they go out in is a checked write.
   */
  write(items: readonly R[], opts: { checked?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new VigilError('UNAVAILABLE', `writer ${this.table.name}: closed`));
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const tenants = new Map<string, number>();
      let rows = 0;
      for (const item of items) {
        const n = this.table.rows(item);
        rows += n;
        const t = this.table.tenant(item);
        tenants.set(t, (tenants.get(t) ?? 0) + n);
      }
      this.queue.push({ items, rows, tenants, resolve, reject, queuedAt: this.opts.clock.now(), seq: ++this.seq, ...(opts.checked ? { checked: true } : {}) });
      this.queuedRows += rows;
      this.count(tenants, +1);
      if (this.queuedRows + this.inflightRows > this.maxMemoryRows) this.spillOverflow();
      if (this.queuedRows >= this.maxBatchRows) this.kick();
      else this.armFlush();
    });
  }

  /** Rows of a tenant not yet stored (memory and disk): the back-pressure signal. */
  depth(tenant: string): number {
    return this.depthByTenant.get(tenant) ?? 0;
  }

  /** Every tenant with rows waiting, and how many. */
  depths(): ReadonlyMap<string, number> {
    return this.depthByTenant;
  }

  stats(): WriterStats {
    return {
      memoryRows: this.queuedRows + this.inflightRows, spilledRows: this.spill.rows(), spillFiles: this.spill.size,
      down: this.down, storedRows: this.storedRows,
    };
  }

  /** Resolves when everything written so far is stored (spilled rows included). */
  async flush(): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const e of this.queue) waits.push(new Promise<void>((res, rej) => chain(e, res, rej)));
    for (const s of this.spilled) for (const e of s.waiters) waits.push(new Promise<void>((res, rej) => chain(e, res, rej)));
    this.flushTo = this.seq;
    this.kick();
    await Promise.all(waits);
    while (this.running) await this.running;
  }

  /**
   * Stops: waits for the write in flight, then puts what is still queued into the spill so the
   * next run stores it. Writes still waiting are rejected (their rows are on disk, not stored).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    while (this.running) await this.running;
    const closing = new VigilError('UNAVAILABLE', `writer ${this.table.name}: closed before these rows were stored (they are in the spill)`);
    if (this.queue.length > 0) this.spillEntries(this.queue.splice(0), 'close');
    for (const s of this.spilled) for (const e of s.waiters.splice(0)) e.reject(closing);
  }

  // ---- the loop ----

  private kick(): void {
    if (this.closed || this.running) return;
    if (this.flushTimer !== undefined) {
      this.opts.clock.clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (!this.closed && !this.down && this.queue.length > 0) this.armFlush();
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      if (this.down) {
        // Not worth hammering: full batches go to disk, the rest waits for the probe.
        while (this.queuedRows >= this.maxBatchRows) this.spillEntries(this.takeBatch(), 'down');
        this.armProbe();
        return;
      }
      if (this.spilled.length > 0) {
        await this.drainOldest();
        continue;
      }
      if (this.queue.length === 0) return;
      if (!this.due()) return; // the timer comes back for it
      const batch = this.takeBatch();
      const rows = sumRows(batch);
      this.inflightRows += rows;
      try {
        await this.store(batch.flatMap((e) => e.items), batch.some((e) => e.checked === true));
        this.inflightRows -= rows;
        this.stored(batch);
      } catch (err) {
        this.inflightRows -= rows;
        if (!retryableWrite(err)) {
          this.failed(batch, err);
          continue;
        }
        this.goDown(err);
        this.spillEntries(batch, 'down');
      }
    }
  }

  /** Stores the oldest spill file (one attempt when probing, else under the policy). */
  private async drainOldest(probing = false): Promise<boolean> {
    const s = this.spilled[0]!;
    let items: R[];
    try {
      items = this.spill.read(s.file, (l) => this.table.decode(l));
    } catch (err) {
      this.spilled.shift();
      this.failed(s.waiters as Array<Entry<R>>, err, s.file);
      return true;
    }
    try {
      await this.store(items, true, probing ? { ...this.policy, retries: 0 } : this.policy);
    } catch (err) {
      if (!retryableWrite(err)) {
        this.spilled.shift();
        this.failed(s.waiters as Array<Entry<R>>, err, s.file);
        this.spill.remove(s.file);
        return true;
      }
      this.goDown(err);
      return false;
    }
    this.spilled.shift();
    this.spill.remove(s.file);
    this.count(s.file.tenants, -1);
    this.storedRows += s.file.rows;
    for (const e of s.waiters) e.resolve();
    this.opts.onEvent?.({ type: 'drained', table: this.table.name, rows: s.file.rows, file: s.file.file });
    return true;
  }

  /** One batch under the retry policy. A retry is a checked write: the first try may have landed. */
  private store(items: readonly R[], checked: boolean, policy = this.policy): Promise<void> {
    return retry(policy, (n, signal) => this.table.write(items, { checked: checked || n > 1, signal }), {
      clock: this.opts.clock,
      rng: this.opts.rng,
      retryable: retryableWrite,
      onRetry: (info) => this.opts.onEvent?.({ type: 'retry', table: this.table.name, ...info }),
    });
  }

  // ---- state changes ----

  private takeBatch(): Array<Entry<R>> {
    const batch: Array<Entry<R>> = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0]!.rows <= this.maxBatchRows)) {
      const e = this.queue.shift()!;
      rows += e.rows;
      batch.push(e);
    }
    this.queuedRows -= rows;
    return batch;
  }

  private stored(batch: Array<Entry<R>>): void {
    for (const e of batch) {
      this.count(e.tenants, -1);
      this.storedRows += e.rows;
      e.resolve();
    }
  }

  private failed(batch: Array<Entry<R>>, error: unknown, file?: SpillFile): void {
    const rows = file ? file.rows : sumRows(batch);
    if (file) this.count(file.tenants, -1);
    for (const e of batch) {
      if (!file) this.count(e.tenants, -1);
      e.reject(error);
    }
    this.opts.onEvent?.({ type: 'failed', table: this.table.name, rows, error });
  }

  /** Memory over its bound: the oldest queued entries go to disk, a batch at a time. */
  private spillOverflow(): void {
    while (this.queuedRows + this.inflightRows > this.maxMemoryRows && this.queue.length > 0) {
      this.spillEntries(this.takeBatch(), 'memory');
    }
  }

  private spillEntries(batch: Array<Entry<R>>, reason: 'down' | 'memory' | 'close'): void {
    if (batch.length === 0) return;
    const lines: string[] = [];
    const tenants = new Map<string, number>();
    let rows = 0;
    for (const e of batch) {
      for (const item of e.items) lines.push(this.table.encode(item));
      rows += e.rows;
      for (const [t, n] of e.tenants) tenants.set(t, (tenants.get(t) ?? 0) + n);
    }
    let file: SpillFile;
    try {
      file = this.spill.append(lines, rows, tenants);
    } catch (err) {
      // Neither store nor disk: these writes fail loudly, the data path does not ack them.
      this.failed(batch, err);
      return;
    }
    // The rows moved from memory to disk; the per-tenant depth is unchanged.
    this.spilled.push({ file, waiters: batch as Array<Entry<unknown>> });
    this.opts.onEvent?.({ type: 'spilled', table: this.table.name, rows, file: file.file, reason });
  }

  private goDown(error: unknown): void {
    if (!this.down) this.opts.onEvent?.({ type: 'down', table: this.table.name, error });
    this.down = true;
  }

  /**
   * Whether the queue's head goes in now: a full batch, a flush() that asked for it, or its
   * time. Rows that came in during an insert wait for their own time: inserted back to back,
   * they made an insert (a part of ~16 files, merges rewriting the growing one) as often as
   * chdb could take one.
   */
  private due(): boolean {
    const head = this.queue[0]!;
    return this.queuedRows >= this.maxBatchRows || head.seq <= this.flushTo || this.opts.clock.now() >= head.queuedAt + this.flushIntervalMs;
  }

  // ---- timers ----

  /** A timer for when the oldest queued row has waited flushIntervalMs. */
  private armFlush(): void {
    if (this.flushTimer !== undefined || this.closed || this.down) return;
    const oldest = this.queue[0]?.queuedAt ?? this.opts.clock.now();
    this.flushTimer = this.opts.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.kick();
    }, Math.max(0, oldest + this.flushIntervalMs - this.opts.clock.now()));
  }

  private armProbe(): void {
    if (this.probeTimer !== undefined || this.closed) return;
    this.probeTimer = this.opts.clock.setTimeout(() => {
      this.probeTimer = undefined;
      this.probe();
    }, this.probeIntervalMs);
  }

  /** One attempt at the oldest spill file (a queued batch is spilled first if there is none). */
  private probe(): void {
    if (this.closed || this.running) return;
    if (this.spilled.length === 0 && this.queue.length > 0) this.spillEntries(this.takeBatch(), 'down');
    if (this.spilled.length === 0) {
      this.down = false;
      return;
    }
    this.running = this.drainOldest(true).then((up) => {
      if (!up) return this.armProbe();
      this.down = false;
      this.opts.onEvent?.({ type: 'up', table: this.table.name });
    }).finally(() => {
      this.running = undefined;
      if (!this.down) this.kick();
    });
  }

  private clearTimers(): void {
    if (this.flushTimer !== undefined) this.opts.clock.clearTimeout(this.flushTimer);
    if (this.probeTimer !== undefined) this.opts.clock.clearTimeout(this.probeTimer);
    this.flushTimer = this.probeTimer = undefined;
  }

  private count(tenants: ReadonlyMap<string, number>, sign: 1 | -1): void {
    for (const [t, n] of tenants) {
      const v = (this.depthByTenant.get(t) ?? 0) + sign * n;
      if (v > 0) this.depthByTenant.set(t, v);
      else this.depthByTenant.delete(t);
    }
  }
}

function sumRows<R>(batch: ReadonlyArray<Entry<R>>): number {
  let n = 0;
  for (const e of batch) n += e.rows;
  return n;
}

/** Waits on an entry alongside its writer: wraps its resolve/reject. */
function chain<R>(e: Entry<R>, res: () => void, rej: (err: unknown) => void): void {
  const { resolve, reject } = e;
  e.resolve = () => { resolve(); res(); };
  e.reject = (err) => { reject(err); rej(err); };
}
