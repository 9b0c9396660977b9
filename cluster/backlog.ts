// Samples accepted but not yet taken in by their ServiceActor. Past the bound, ingest
// answers 503 (retry later) instead of letting mailboxes grow until the node runs out of
// memory. A request that alone exceeds the bound still passes when nothing waits, so a
// large batch on an idle node is never refused forever.
import { VigilError } from '../protocols/index.ts';
import { IngestReceipt } from '../actors/tenant/index.ts';

export const DEFAULT_MAX_BACKLOG_SAMPLES = 2_000_000;

export class IngestBacklog {
  private waiting = 0;

  constructor(readonly max = DEFAULT_MAX_BACKLOG_SAMPLES) {}

  /**
   * Counts `n` samples in, or throws UNAVAILABLE when the node is overloaded. The receipt
   * gives them back exactly once (when taken in, or when the batch is lost).
   */
  admit(n: number): IngestReceipt {
    if (this.waiting > 0 && this.waiting + n > this.max) {
      throw new VigilError('UNAVAILABLE', `node is overloaded (${this.waiting} samples waiting); retry later`);
    }
    this.waiting += n;
    return new IngestReceipt(n, (k) => {
      this.waiting -= k;
    });
  }

  /** Nothing more fits: a request can be refused before its body is even read. */
  get full(): boolean {
    return this.waiting >= this.max;
  }

  get size(): number {
    return this.waiting;
  }
}
