// The hypervisor's steal, second by second, while a benchmark runs. On a shared virtual
// machine other guests take the CPU in bursts (bench:tenancy on 2026-12-03: 4% on average,
// 8-24% in one second of five); a process that has work then waits whatever it is, and the
// waits of Redis and NATS replies longer than 5 ms came 7x as often in those seconds. This
// lets a benchmark say which of its requests ran in calm seconds.
import { hostTicks, stealShare, type HostTicks } from './ingest/proc-cpu.ts';

interface Second {
  /** Unix ms the interval began and ended */
  from: number;
  to: number;
  steal: number;
}

export class StealSeconds {
  private readonly seconds: Second[] = [];
  private last: { at: number; ticks: HostTicks | undefined } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  start(intervalMs = 1000): void {
    const read = async (): Promise<void> => {
      const [at, ticks] = [Date.now(), await hostTicks()];
      if (this.last?.ticks && ticks) this.seconds.push({ from: this.last.at, to: at, steal: stealShare(this.last.ticks, ticks) });
      this.last = { at, ticks };
    };
    void read();
    this.timer = setInterval(() => void read(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether every interval overlapping [from, to] (Unix ms) was read and had steal under `below`. */
  calm(from: number, to: number, below: number): boolean {
    let lo = 0;
    let hi = this.seconds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seconds[mid]!.to <= from) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.seconds.length || this.seconds[lo]!.from > from) return false; // not read then
    for (let i = lo; i < this.seconds.length && this.seconds[i]!.from < to; i++) {
      if (this.seconds[i]!.steal >= below) return false;
      if (i + 1 === this.seconds.length && this.seconds[i]!.to < to) return false;
    }
    return true;
  }
}
