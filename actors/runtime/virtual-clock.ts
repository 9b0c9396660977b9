// Virtual time for the simulator and tests: nothing happens until the driver advances the
// clock, and due timers then fire in (time, scheduling order), including timers that the
// firing timers schedule, so a run replays exactly.
import { VigilError } from '../../protocols/index.ts';
import type { Clock, TimerHandle } from './types.ts';

interface VirtualTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private live = 0;
  private readonly heap: VirtualTimer[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { at: this.current + Math.max(0, ms || 0), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as VirtualTimer;
    if (t && !t.cancelled && typeof t.seq === 'number') {
      t.cancelled = true;
      this.live--;
    }
  }

  /** Timers scheduled and not yet fired or cleared. */
  pendingTimers(): number {
    return this.live;
  }

  /** Time of the next due timer, if any. */
  nextTimerAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new VigilError('BAD_REQUEST', `virtual time cannot go back (advance ${ms})`);
    this.advanceTo(this.current + ms);
  }

  /** Sets now to `t` (never backwards), firing every timer due by then. */
  advanceTo(t: number): void {
    if (t < this.current) throw new VigilError('BAD_REQUEST', `virtual time cannot go back (${t} < ${this.current})`);
    for (;;) {
      this.dropCancelled();
      const head = this.heap[0];
      if (!head || head.at > t) break;
      this.pop();
      this.live--;
      head.cancelled = true;
      this.current = Math.max(this.current, head.at);
      head.fn();
    }
    this.current = t;
  }

  /** Fires timers, jumping time to each, until none is left; refuses to run forever. */
  runUntilIdle(maxTimers = 100_000): number {
    let fired = 0;
    for (let at = this.nextTimerAt(); at !== undefined; at = this.nextTimerAt()) {
      if (fired++ >= maxTimers) throw new VigilError('INTERNAL', `virtual clock still busy after ${maxTimers} timers`);
      this.advanceTo(Math.max(at, this.current));
    }
    return fired;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
