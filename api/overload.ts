// After the engine refuses an ingest because the node is overloaded (its backlog is full,
// which is seconds of work), further ingest requests are refused for a short hold before
// their bodies are read: decoding megabytes only to refuse them would take CPU from the
// actors that are draining the backlog. The hold is real time (CPU load), not the node's
// clock, and far shorter than the backlog, so no capacity is lost.
import { performance } from 'node:perf_hooks';
import { VigilError } from '../protocols/index.ts';

export const OVERLOAD_HOLD_MS = 20;

export class OverloadHold {
  private until = 0;

  constructor(private readonly holdMs = OVERLOAD_HOLD_MS) {}

  /** Throws UNAVAILABLE while a hold is on. */
  check(): void {
    if (performance.now() < this.until) throw new VigilError('UNAVAILABLE', 'node is overloaded; retry later');
  }

  /** Starts a hold when `err` is the engine's overload refusal. */
  note(err: unknown): void {
    if (VigilError.is(err, 'UNAVAILABLE')) this.until = performance.now() + this.holdMs;
  }
}
