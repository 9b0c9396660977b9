// Remembers the ids of the last `capacity` durable batches, so a client's retry of a batch it
// already got a 202 for (or whose answer it lost) writes nothing twice. A count, not a time span:
// it needs no clock and holds the same on replay; at 200 batches/s the default covers 8 minutes,
// far past any client's retry schedule. After a restart it holds the ids still in the log.
export const DEFAULT_DEDUP_WINDOW = 100_000;

export interface Remembered {
  shard: number;
  position: number;
}

export class IdWindow {
  private readonly ids = new Map<string, Remembered>();

  constructor(readonly capacity = DEFAULT_DEDUP_WINDOW) {}

  get(id: string): Remembered | undefined {
    return this.ids.get(id);
  }

  remember(id: string, at: Remembered): void {
    this.ids.set(id, at);
    // a Map iterates in insertion order: the first key is the oldest
    while (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value as string);
  }

  get size(): number {
    return this.ids.size;
  }
}
