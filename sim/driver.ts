// Drives a live Vigil node with a workload over HTTP (POST /v1/metrics, JSON): a quick
// backfill of history so detectors learn, then samples as time passes. The only part
// of sim/ with I/O. A node that sheds load (503/429) is waited for, not overrun.
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import { VigilError, type SeriesInput } from '../protocols/index.ts';
import type { Workload } from './workload.ts';

export interface DriverOptions {
  url: string;
  apiKey: string;
  workload: Workload;
  clock: Clock;
  /** samples per series in one request during backfill (default 120) */
  pointsPerRequest?: number;
  /** attempts per request when the node sheds load (default 20) */
  attempts?: number;
}

export class WorkloadDriver {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** samples the node has accepted */
  sent = 0;

  constructor(private readonly options: DriverOptions) {}

  /** Sends [from, to) every stepMs, oldest first, in batches; resolves with the samples sent. */
  async backfill(from: number, to: number, stepMs: number): Promise<number> {
    const span = stepMs * (this.options.pointsPerRequest ?? 120);
    let n = 0;
    for (let start = from; start < to && !this.stopped; start += span) {
      const series = this.options.workload.series(start, Math.min(to, start + span), stepMs);
      n += await this.post(series);
    }
    return n;
  }

  /**
   * Streams samples from `from` on, every stepMs as the clock reaches them, until stop().
   * `onError` hears failed sends (the stream goes on); `onTick` hears each sent timestamp.
   */
  live(from: number, stepMs: number, hooks: { onError?: (err: Error) => void; onTick?: (t: number) => void } = {}): void {
    const { clock, workload } = this.options;
    let next = from;
    const tick = async (): Promise<void> => {
      const now = clock.now();
      if (next <= now) {
        const to = now + 1;
        const series = workload.series(next, to, stepMs);
        const last = next + Math.floor((to - 1 - next) / stepMs) * stepMs;
        next = last + stepMs;
        try {
          await this.post(series);
          hooks.onTick?.(last);
        } catch (err) {
          hooks.onError?.(err as Error);
        }
      }
      if (!this.stopped) this.timer = clock.setTimeout(() => void tick(), Math.max(0, next - clock.now()));
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
  }

  private async post(series: SeriesInput[]): Promise<number> {
    const { url, apiKey, clock } = this.options;
    const count = series.reduce((n, s) => n + s.samples.length, 0);
    const body = JSON.stringify({ series });
    const attempts = this.options.attempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body,
        });
      } catch (err) {
        throw new VigilError('UNAVAILABLE', `cannot reach ${url}: ${(err as Error).message}`, { cause: err });
      }
      if (res.ok) {
        this.sent += count;
        return count;
      }
      const text = await res.text();
      if ((res.status === 503 || res.status === 429) && attempt < attempts) {
        const after = Number(res.headers.get('retry-after'));
        const waitMs = Number.isFinite(after) && after > 0 ? after * 1000 : Math.min(2000, 50 * 2 ** attempt);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, waitMs));
        continue;
      }
      throw new VigilError(res.status === 401 ? 'UNAUTHORIZED' : 'BAD_REQUEST', `POST /v1/metrics: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
  }
}
