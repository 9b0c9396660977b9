// The ingest backlog counts samples accepted (202) and not yet taken in by their
// ServiceActor. Each batch carries a receipt that gives its samples back to the backlog
// exactly once, whatever happens to the batch: handled, crashed on, re-routed after a
// restart, or dropped as a dead letter. Without it a lost message would hold its share
// of the backlog forever, and one tenant's crashes would end in 503s for every tenant.

export class IngestReceipt {
  private open: number;

  constructor(readonly samples: number, private readonly release: (n: number) => void) {
    this.open = samples;
  }

  /** Splits `n` of the open samples into a receipt of their own (one service's share). */
  split(n: number): IngestReceipt {
    const take = Math.min(n, this.open);
    this.open -= take;
    return new IngestReceipt(take, this.release);
  }

  /** Gives the open samples back; a second call does nothing. */
  settle(): void {
    if (this.open === 0) return;
    const n = this.open;
    this.open = 0;
    this.release(n);
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

/** Settles the receipts of messages that will never be handled (the runtime's dead letters). */
export function settleDropped(messages: readonly unknown[]): void {
  for (const m of messages) {
    let at: unknown = m;
    // envelopes (the tenant supervisor's `to-tenant`) are at most a few levels deep
    for (let depth = 0; depth < 4 && typeof at === 'object' && at !== null; depth++) {
      const c = at as Carrier;
      if (c.receipt instanceof IngestReceipt) {
        c.receipt.settle();
        break;
      }
      at = c.msg;
    }
  }
}
