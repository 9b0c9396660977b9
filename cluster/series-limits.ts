// Per-tenant limits on the series and services a node holds for it. Every new series
// costs the node its detector state, its ServiceActor share and its in-memory samples,
// so one tenant sending endless new names could exhaust the node for all. A batch that
// would pass a limit is refused whole (429, naming the limit); batches of series the
// tenant already has keep flowing, and other tenants are not touched.
//
// Defaults, from the measured cost of a series in memory: about 7 KB (a node that took
// 100,000 new services went from 155 to 858 MB RSS: detector state of 0.6-4.4 KB by tier,
// Robust's model history up to 7 KB, the ServiceActor's share, the maps that name it; raw
// samples live in the store, not in memory). 10,000 series is ~70 MB for one tenant, so a
// hundred tenants at their limit fit a 24 GiB node with room for everything else; 1,000
// services bounds the actors a tenant can make a node spawn.
import { seriesName, VigilError, type SeriesInput } from '../protocols/index.ts';

export const DEFAULT_MAX_SERIES_PER_TENANT = 10_000;
export const DEFAULT_MAX_SERVICES_PER_TENANT = 1_000;

/** A refusal by a limit; `limit` names it, so the gateway can count refusals by reason. */
export class SeriesLimitError extends VigilError {
  constructor(readonly limit: keyof TenantLimits, message: string) {
    super('QUOTA_EXCEEDED', message);
  }
}

export interface TenantLimits {
  maxSeries: number;
  maxServices: number;
}

interface Holdings {
  /** service → names of its series (protocols' seriesName) */
  services: Map<string, Set<string>>;
  series: number;
}

export class SeriesLimits {
  private readonly tenants = new Map<string, Holdings>();

  constructor(private readonly limitsOf: (tenant: string) => TenantLimits) {}

  /**
   * Records the batch's new series and services, or throws QUOTA_EXCEEDED naming the limit
   * (and records nothing) when the batch would take the tenant past one.
   */
  admit(tenant: string, batch: readonly SeriesInput[]): void {
    let held = this.tenants.get(tenant);
    const fresh = new Map<string, Set<string>>(); // new series by service, this batch only
    for (const s of batch) {
      const name = seriesName(s.metric, s.labels ?? {});
      if (held?.services.get(s.service)?.has(name)) continue;
      let names = fresh.get(s.service);
      if (!names) fresh.set(s.service, (names = new Set()));
      names.add(name);
    }
    if (fresh.size === 0) return;
    const limits = this.limitsOf(tenant);
    let newSeries = 0;
    let newServices = 0;
    for (const [service, names] of fresh) {
      newSeries += names.size;
      if (!held?.services.has(service)) newServices++;
    }
    const series = held?.series ?? 0;
    const services = held?.services.size ?? 0;
    if (services + newServices > limits.maxServices) {
      throw new SeriesLimitError('maxServices', `tenant ${tenant}: limit maxServices (${limits.maxServices}) reached: `
        + `${services} services held, this batch adds ${newServices}; batches for existing services are still accepted`);
    }
    if (series + newSeries > limits.maxSeries) {
      throw new SeriesLimitError('maxSeries', `tenant ${tenant}: limit maxSeries (${limits.maxSeries}) reached: `
        + `${series} series held, this batch adds ${newSeries}; batches for existing series are still accepted`);
    }
    if (!held) this.tenants.set(tenant, (held = { services: new Map(), series: 0 }));
    for (const [service, names] of fresh) {
      let have = held.services.get(service);
      if (!have) held.services.set(service, (have = new Set()));
      for (const n of names) have.add(n);
    }
    held.series += newSeries;
  }

  /** What a tenant holds now (for /metrics and tests). */
  held(tenant: string): { series: number; services: number } {
    const h = this.tenants.get(tenant);
    return { series: h?.series ?? 0, services: h?.services.size ?? 0 };
  }
}
