// The noiseless behaviour of the simulated application: what each service's latency,
// error rate and throughput would be at time t. Pure functions of t: a fault's effect
// travels upstream one hop per `hopLagMs` (a caller feels its dependency's state of a
// moment ago, as queues fill and timeouts pile up).
import { faultEffect, type Fault } from './fault.ts';
import type { ServiceSpec } from './topology.ts';

export interface ModelOptions {
  /** delay with which a dependency's change reaches its callers (default 10 s) */
  hopLagMs: number;
  /** daily swing of traffic and latency around the mean (default 0.1 = ±10%) */
  dayAmplitude: number;
  /** share of a dependency's extra failures its callers pass on (retries hide the rest; default 0.5) */
  errorPassThrough: number;
}

export const DEFAULT_MODEL: ModelOptions = { hopLagMs: 10_000, dayAmplitude: 0.1, errorPassThrough: 0.5 };

const DAY_MS = 86_400_000;

/** Daily load curve: 1 ± amplitude, peaking at 14:00 UTC and lowest at 02:00. */
export function dailyLoad(t: number, amplitude: number): number {
  const phase = ((t % DAY_MS) / DAY_MS) * 2 * Math.PI;
  return 1 + amplitude * Math.sin(phase - (8 / 24) * 2 * Math.PI);
}

export class ServiceModel {
  private readonly byName: Map<string, ServiceSpec>;

  constructor(
    readonly services: readonly ServiceSpec[],
    readonly faults: readonly Fault[],
    readonly options: ModelOptions = DEFAULT_MODEL,
  ) {
    this.byName = new Map(services.map((s) => [s.name, s]));
    for (const s of services) {
      for (const d of s.dependsOn) if (!this.byName.has(d.service)) throw new RangeError(`${s.name} depends on unknown service ${d.service}`);
    }
    for (const f of faults) if (!this.byName.has(f.service)) throw new RangeError(`fault on unknown service ${f.service}`);
    assertAcyclic(services);
  }

  /** Mean latency per request (ms): own work, slower under load and faults, plus the calls made. */
  latencyMs(service: string, t: number): number {
    const s = this.spec(service);
    const load = dailyLoad(t, this.options.dayAmplitude);
    let ms = s.ownLatencyMs * (0.7 + 0.3 * load) * (1 + faultEffect(this.faults, service, 'latency', t));
    for (const d of s.dependsOn) ms += d.calls * this.latencyMs(d.service, t - this.options.hopLagMs);
    return ms;
  }

  /** Fraction of requests that fail (0..1). */
  errorRate(service: string, t: number): number {
    const s = this.spec(service);
    return Math.min(1, s.errorRate + this.extraErrors(service, t));
  }

  /** Requests per second, following the daily load. */
  rps(service: string, t: number): number {
    return this.spec(service).rps * dailyLoad(t, this.options.dayAmplitude);
  }

  private extraErrors(service: string, t: number): number {
    const s = this.spec(service);
    let extra = faultEffect(this.faults, service, 'errors', t);
    for (const d of s.dependsOn) {
      extra += d.calls * this.options.errorPassThrough * this.extraErrors(d.service, t - this.options.hopLagMs);
    }
    return extra;
  }

  private spec(name: string): ServiceSpec {
    const s = this.byName.get(name);
    if (!s) throw new RangeError(`unknown service ${name}`);
    return s;
  }
}

function assertAcyclic(services: readonly ServiceSpec[]): void {
  const deps = new Map(services.map((s) => [s.name, s.dependsOn.map((d) => d.service)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') throw new RangeError(`dependency cycle: ${[...path, n].join(' → ')}`);
    state.set(n, 'visiting');
    for (const d of deps.get(n) ?? []) visit(d, [...path, n]);
    state.set(n, 'done');
  };
  for (const s of services) visit(s.name, []);
}
