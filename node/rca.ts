// The node's side of RCA: where the RCA actors read (the topology through the cache, the raw
// series from the store) and the newest ranking of each recent incident, kept in memory so
// GET /v1/incidents/:id/rca answers with it before the batch writer has stored it.
import type { RcaSource } from '../actors/rca/index.ts';
import type { IncidentRca } from '../protocols/index.ts';
import { cacheKeys, type TwoLevelCache } from '../storage/cache/index.ts';
import type { GraphStore } from '../storage/graph/index.ts';
import { MAX_SERIES_POINTS, type TsdbStore } from '../storage/tsdb/index.ts';

export function rcaSource(store: Pick<TsdbStore, 'query'>, graph: GraphStore, cache: TwoLevelCache): RcaSource {
  return {
    // the same cache entry as GET /v1/topology: a topology change drops it
    topology: async (tenant) => (await cache.get(cacheKeys.topology(tenant, '*'), () => graph.topology(tenant)))!,
    series: (tenant, r) => store.query(tenant, r.service, r.metric, { from: r.from, to: r.to, limit: MAX_SERIES_POINTS }),
  };
}

/** Rankings kept in memory; older ones are read from the store. */
export const RECENT_RCA_RESULTS = 10_000;

export class RecentRcaResults {
  private readonly byIncident = new Map<string, IncidentRca>();

  constructor(private readonly max = RECENT_RCA_RESULTS) {}

  put(r: IncidentRca): void {
    const key = `${r.tenant}\u0000${r.incidentId}`;
    this.byIncident.delete(key); // re-inserted: newest last
    this.byIncident.set(key, r);
    if (this.byIncident.size > this.max) this.byIncident.delete(this.byIncident.keys().next().value!);
  }

  get(tenant: string, incidentId: string): IncidentRca | undefined {
    return this.byIncident.get(`${tenant}\u0000${incidentId}`);
  }
}
