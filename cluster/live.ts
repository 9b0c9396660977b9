// Live events per tenant, for the WebSocket stream. A listener that throws is dropped
// rather than allowed to break delivery to the others.
import type { LiveEvent } from '../protocols/index.ts';

export type LiveListener = (event: LiveEvent) => void;

export class LiveHub {
  private readonly listeners = new Map<string, Set<LiveListener>>();

  subscribe(tenant: string, listener: LiveListener): () => void {
    let set = this.listeners.get(tenant);
    if (!set) this.listeners.set(tenant, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenant);
    };
  }

  publish(tenant: string, event: LiveEvent): void {
    const set = this.listeners.get(tenant);
    if (!set) return;
    for (const l of set) {
      try {
        l(event);
      } catch {
        set.delete(l);
      }
    }
  }

  count(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}
