// The simulated workload: the model's values plus seeded noise, as metric samples.
// Noise is drawn from a stream keyed by (series, timestamp), not by position, so the
// value at t is the same whatever range or order it is generated in: backfill and live
// streaming agree, and a run replays exactly from its seed.
import type { Rng } from '../actors/runtime/index.ts';
import type { SeriesInput, Topology } from '../protocols/index.ts';
import type { Fault } from './fault.ts';
import { DEFAULT_MODEL, ServiceModel, type ModelOptions } from './model.ts';
import { topologyOf, type ServiceSpec } from './topology.ts';

export const METRICS = ['latency_ms', 'error_rate', 'requests_per_s'] as const;
export type MetricName = (typeof METRICS)[number];

export interface WorkloadOptions {
  services: readonly ServiceSpec[];
  faults?: readonly Fault[];
  rng: Rng;
  model?: Partial<ModelOptions>;
  /** relative noise (standard deviation as a fraction of the value; default 0.04) */
  noise?: number;
}

export interface Sample {
  service: string;
  metric: MetricName;
  timestamp: number;
  value: number;
}

export class Workload {
  readonly model: ServiceModel;
  private readonly noise: number;
  private readonly streams = new Map<string, Rng>();

  constructor(private readonly options: WorkloadOptions) {
    this.model = new ServiceModel(options.services, options.faults ?? [], { ...DEFAULT_MODEL, ...options.model });
    this.noise = options.noise ?? 0.04;
    for (const s of options.services) for (const m of METRICS) this.streams.set(`${s.name}/${m}`, options.rng.fork(`${s.name}/${m}`));
  }

  get services(): readonly ServiceSpec[] {
    return this.options.services;
  }

  topology(): Topology {
    return topologyOf(this.options.services);
  }

  /** One value of one series at `t`. */
  value(service: string, metric: MetricName, t: number): number {
    const z = this.stream(service, metric).fork(String(t)).normal();
    switch (metric) {
      case 'latency_ms':
        // latency is skewed: multiplicative (log-normal) noise
        return round(this.model.latencyMs(service, t) * Math.exp(this.noise * z), 2);
      case 'error_rate':
        // rare events: relative noise three times wider, never below zero
        return round(Math.max(0, this.model.errorRate(service, t) * (1 + 3 * this.noise * z)), 6);
      case 'requests_per_s':
        return round(Math.max(0, this.model.rps(service, t) * (1 + this.noise * z)), 1);
    }
  }

  /** Every series at `t`. */
  samplesAt(t: number): Sample[] {
    const out: Sample[] = [];
    for (const s of this.options.services) for (const m of METRICS) out.push({ service: s.name, metric: m, timestamp: t, value: this.value(s.name, m, t) });
    return out;
  }

  /** Every series over [from, to) every `stepMs`, in the ingest API's shape. */
  series(from: number, to: number, stepMs: number): SeriesInput[] {
    if (!(stepMs > 0)) throw new RangeError(`step must be positive (got ${stepMs})`);
    const out: SeriesInput[] = [];
    for (const s of this.options.services) {
      for (const m of METRICS) {
        const samples: Array<[number, number]> = [];
        for (let t = from; t < to; t += stepMs) samples.push([t, this.value(s.name, m, t)]);
        out.push({ service: s.name, metric: m, samples });
      }
    }
    return out;
  }

  private stream(service: string, metric: MetricName): Rng {
    const r = this.streams.get(`${service}/${metric}`);
    if (!r) throw new RangeError(`unknown series ${service}/${metric}`);
    return r;
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
