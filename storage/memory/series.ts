// In-memory SeriesStore: a bounded ring of samples per series (the newest `retain` kept).
// The embedded default for a single node; chdb replaces it with the storage issue.
import { labelsName, type SeriesKey, type TimeRange } from '../../protocols/index.ts';
import type { SeriesStore } from '../types.ts';
import { MAX_PAGE_LIMIT } from '../types.ts';

export const DEFAULT_SAMPLES_PER_SERIES = 8_640; // one day at 10 s resolution

/** First capacity of a ring; it doubles up to the retention, so a sparse series stays small. */
const INITIAL_CAPACITY = 64;

class Ring {
  ts: Float64Array;
  vs: Float64Array;
  head = 0;   // next write position
  count = 0;

  constructor(private readonly retain: number) {
    const cap = Math.min(INITIAL_CAPACITY, retain);
    this.ts = new Float64Array(cap);
    this.vs = new Float64Array(cap);
  }

  /** Returns 1 when the ring grew by a sample, 0 when it overwrote its oldest. */
  push(t: number, v: number): number {
    if (this.count === this.ts.length && this.count < this.retain) this.grow();
    this.ts[this.head] = t;
    this.vs[this.head] = v;
    this.head = this.head + 1 === this.ts.length ? 0 : this.head + 1;
    if (this.count < this.ts.length) {
      this.count++;
      return 1;
    }
    return 0;
  }

  /** Doubles the capacity (while full, so the samples are in order from head). */
  private grow(): void {
    const cap = Math.min(this.ts.length * 2, this.retain);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    const n = this.ts.length;
    for (let i = 0; i < n; i++) {
      const j = (this.head + i) % n;
      ts[i] = this.ts[j]!;
      vs[i] = this.vs[j]!;
    }
    this.ts = ts;
    this.vs = vs;
    this.head = n;
  }

  *samples(): Generator<[number, number]> {
    const cap = this.ts.length;
    const start = (this.head - this.count + cap) % cap;
    for (let i = 0; i < this.count; i++) {
      const j = (start + i) % cap;
      yield [this.ts[j]!, this.vs[j]!];
    }
  }
}

export class MemorySeriesStore implements SeriesStore {
  // tenant → "service\0metric" → series id → ring
  private readonly tenants = new Map<string, Map<string, Map<string, Ring>>>();
  private total = 0;

  constructor(private readonly retain = DEFAULT_SAMPLES_PER_SERIES) {}

  append(tenant: string, key: SeriesKey, samples: ReadonlyArray<readonly [number, number]>): void {
    let byMetric = this.tenants.get(tenant);
    if (!byMetric) this.tenants.set(tenant, (byMetric = new Map()));
    const metricKey = `${key.service}\u0000${key.metric}`;
    let series = byMetric.get(metricKey);
    if (!series) byMetric.set(metricKey, (series = new Map()));
    const id = labelsName(key.labels);
    let ring = series.get(id);
    if (!ring) series.set(id, (ring = new Ring(this.retain)));
    for (let i = 0; i < samples.length; i++) {
      const p = samples[i]!;
      this.total += ring.push(p[0], p[1]);
    }
  }

  query(tenant: string, service: string, metric: string, range: TimeRange & { limit?: number }): Array<[number, number]> {
    const series = this.tenants.get(tenant)?.get(`${service}\u0000${metric}`);
    if (!series) return [];
    const from = range.from ?? -Infinity;
    const to = range.to ?? Infinity;
    const out: Array<[number, number]> = [];
    for (const ring of series.values()) {
      for (const s of ring.samples()) if (s[0] >= from && s[0] <= to) out.push(s);
    }
    out.sort((a, b) => a[0] - b[0]);
    const limit = Math.min(range.limit ?? MAX_PAGE_LIMIT * 10, MAX_PAGE_LIMIT * 10);
    // The newest `limit` samples: a reader asking for a bounded slice wants the recent end.
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  size(): number {
    return this.total;
  }
}
