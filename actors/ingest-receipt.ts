// The ingest backlog counts samples accepted (202) and not yet taken in by their
// ServiceActor. Each batch carries a receipt that gives its samples back to the backlog
// exactly once, whatever happens to the batch: handled, crashed on, re-routed after a
// restart, or dropped as a dead letter. Without it a lost message would hold its share
// of the backlog forever, and one tenant's crashes would end in 503s for every tenant.

//
// The receipt also tells when the batch's effects are stored: every part hands the store
// writes it started to `track`, and `stored` resolves once the receipt and all its parts
// are settled and those writes are done. The data path acknowledges the ingest log only
// up to batches whose receipts say so (DESIGN.md §2.1, step 4).
//
// A batch dropped before it was handled (a dead letter: its actor stopped or was torn down by
// a restart of its supervisor with the message still queued; a message for a shard this node
// does not host) gives its samples back like any other, but its effects were never stored:
// `drop()` makes `stored` reject, so the shard's watermark stays below it and a snapshot never
// covers it (the batch stays in the log for a replay). Settling it as stored let a checkpoint
// acknowledge the log past samples no store held.
import { VigilError } from '../protocols/index.ts';

/** Why a dropped batch's `stored` rejects (IngestReceipt.drop). */
export class DroppedBatch extends VigilError {
  constructor(message = 'batch dropped before it was handled (a dead letter): left in the log for a replay') {
    super('UNAVAILABLE', message);
  }
}

export class IngestReceipt {
  private open: number;
  private readonly writes: Array<Promise<unknown>> = [];
  /** set by drop(): the batch was never handled, so `stored` rejects with this */
  private failure: DroppedBatch | undefined;
  private finished = false;
  private done!: () => void;
  private readonly settledOnce = new Promise<void>((resolve) => { this.done = resolve; });
  /** resolves when settled and every tracked write (its parts' included) is done; rejects if one failed */
  readonly stored: Promise<void>;

  constructor(readonly samples: number, private readonly release: (n: number) => void) {
    this.open = samples;
    this.stored = this.settledOnce.then(async () => {
      if (this.failure) throw this.failure;
      // parts may track more writes until they settle, so wait in rounds
      for (let seen = 0; seen < this.writes.length;) {
        const round = this.writes.slice(seen);
        seen = this.writes.length;
        await Promise.all(round);
      }
    });
    this.stored.catch(() => undefined); // a failure is for whoever awaits `stored`
  }

  /** Splits `n` of the open samples into a receipt of their own (one service's share). */
  split(n: number): IngestReceipt {
    const take = Math.min(n, this.open);
    this.open -= take;
    const part = new IngestReceipt(take, this.release);
    this.writes.push(part.stored);
    return part;
  }

  /** A store write this batch's effects wait for (before settle). */
  track(write: Promise<unknown>): void {
    this.writes.push(write);
  }

  /** Gives the open samples back; a second call does nothing. */
  settle(): void {
    this.finished = true;
    if (this.open > 0) {
      const n = this.open;
      this.open = 0;
      this.release(n);
    }
    this.done();
  }

  /**
   * The batch (or this part of it) will never be handled: its samples go back like settle(),
   * and `stored` rejects, since nothing of it was written. After settle() it does nothing.
   */
  drop(reason: DroppedBatch = new DroppedBatch()): void {
    if (!this.finished) this.failure = reason;
    this.settle();
  }

  get settled(): boolean {
    return this.open === 0;
  }
}

/** A message, or an envelope `{msg}` around one, carrying a receipt. */
interface Carrier {
  receipt?: unknown;
  msg?: unknown;
}

/**
 * Settles the receipts of messages that will never be handled (the runtime's dead letters):
 * their samples go back to the backlog, and their `stored` rejects (IngestReceipt.drop), so no
 * watermark passes a batch whose samples were never written.
 */
export function settleDropped(messages: readonly unknown[]): void {
  for (const m of messages) {
    let at: unknown = m;
    // envelopes (the tenant supervisor's `to-tenant`) are at most a few levels deep
    for (let depth = 0; depth < 4 && typeof at === 'object' && at !== null; depth++) {
      const c = at as Carrier;
      if (c.receipt instanceof IngestReceipt) {
        c.receipt.drop();
        break;
      }
      at = c.msg;
    }
  }
}
