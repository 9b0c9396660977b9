// Request bodies for the benchmark: BATCH series × SAMPLES samples each. Series are spread
// over groups with their own clocks, so timestamps only move forward and stay inside the
// node's accepted window.
import { wire } from '../../protocols/index.ts';

const SERIES_GROUPS = 64;
const STEP_MS = 1000;

interface WireSeries {
  service: string;
  metric: string;
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/** Builds request bodies: group g's series advance by `samples` steps per request. */
export class BatchMaker {
  private readonly clocks: number[];
  private readonly wave: number[];
  private next = 0;

  constructor(private readonly series: number, private readonly samples: number, start: number, private readonly json: boolean) {
    this.clocks = new Array<number>(SERIES_GROUPS).fill(start);
    // A noisy daily-ish wave, precomputed once: values cost nothing per request.
    this.wave = Array.from({ length: 4096 }, (_, i) => 100 + 20 * Math.sin(i / 50) + ((i * 7919) % 13) - 6);
  }

  body(): Uint8Array {
    const series = this.build();
    if (!this.json) return wire.MetricBatch.encode({ tenant: '', series }).finish();
    const samples = (s: WireSeries) => s.timestamps.map((t, i) => [t, s.values[i]]);
    return Buffer.from(JSON.stringify({ series: series.map((s) => ({ service: s.service, metric: s.metric, labels: s.labels, samples: samples(s) })) }));
  }

  private build(): WireSeries[] {
    const g = this.next++ % SERIES_GROUPS;
    const t0 = this.clocks[g]!;
    this.clocks[g] = t0 + this.samples * STEP_MS;
    const timestamps = new Array<number>(this.samples);
    for (let i = 0; i < this.samples; i++) timestamps[i] = t0 + i * STEP_MS;
    const off = Math.floor(t0 / STEP_MS);
    const series = new Array<WireSeries>(this.series);
    for (let s = 0; s < this.series; s++) {
      // each series its own phase and scale of the wave: series with one history would have one
      // detector state, and a snapshot of them would compress as real series never do
      const phase = off + (g * this.series + s) * 61;
      const scale = 1 + ((g * this.series + s) % 17) / 8;
      const values = new Array<number>(this.samples);
      for (let i = 0; i < this.samples; i++) values[i] = scale * this.wave[(phase + i) % this.wave.length]!;
      series[s] = { service: `svc-${g}-${s % 10}`, metric: `m${Math.floor(s / 10)}`, labels: { host: `h${s}` }, timestamps, values };
    }
    return series;
  }
}

