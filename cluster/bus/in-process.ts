// In-process bus: direct hand-off to subscribers on the same node. It gives no durability
// (the NATS bus does); it keeps the same subject space so code does not care which runs.
import { VigilError } from '../../protocols/index.ts';
import type { Bus, Subscription } from './types.ts';

interface Entry<T> {
  pattern: string;
  prefix: string | undefined; // set for `foo.>` patterns
  handler: (message: T, subject: string) => void;
}

export class InProcessBus<T> implements Bus<T> {
  private entries: Array<Entry<T>> = [];
  private closed = false;

  async publish(subject: string, message: T): Promise<void> {
    this.deliver(subject, message);
  }

  /** The synchronous core of publish, for callers on the hot path that need no promise. */
  deliver(subject: string, message: T): void {
    if (this.closed) throw new VigilError('UNAVAILABLE', 'bus is closed');
    let delivered = false;
    for (const e of this.entries) {
      if (e.pattern === subject || (e.prefix !== undefined && subject.startsWith(e.prefix))) {
        e.handler(message, subject);
        delivered = true;
      }
    }
    if (!delivered) throw new VigilError('UNAVAILABLE', `no subscriber for ${subject}`);
  }

  subscribe(subject: string, handler: (message: T, subject: string) => void): Subscription {
    const entry: Entry<T> = {
      pattern: subject,
      prefix: subject.endsWith('.>') ? subject.slice(0, -1) : undefined,
      handler,
    };
    this.entries.push(entry);
    return { unsubscribe: () => { this.entries = this.entries.filter((e) => e !== entry); } };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entries = [];
  }
}
