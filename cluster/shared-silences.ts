// Cluster mode: a tenant's silences in the NATS KV bucket `<cluster>_silences` (kv-tenant-docs.ts),
// so they move with the tenant's shard: the node that takes the shard over (a drain, a
// rebalance, a failover) starts its correlator with them. Every node holds every tenant's list
// in memory, because a correlator reads its silences synchronously when it starts.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Silence, SilenceStore } from '../actors/correlation/index.ts';
import { KvTenantDocs } from './kv-tenant-docs.ts';

export class KvSilenceStore implements SilenceStore {
  private constructor(private readonly docs: KvTenantDocs<Silence[]>) {}

  static async open(nc: NatsConnection, o: { name: string; replicas: number; onError?: (err: unknown) => void }): Promise<KvSilenceStore> {
    return new KvSilenceStore(await KvTenantDocs.open<Silence[]>(nc, {
      bucket: `${o.name}_silences`, replicas: o.replicas, what: 'silences', ...(o.onError ? { onError: o.onError } : {}),
      encode: (list) => list,
      decode(_tenant, stored) {
        if (!Array.isArray(stored)) throw new Error('not a list of silences');
        return stored as Silence[];
      },
    }));
  }

  load(tenant: string): Silence[] {
    return [...(this.docs.get(tenant) ?? [])];
  }

  save(tenant: string, silences: readonly Silence[]): Promise<void> {
    return this.docs.put(tenant, [...silences]);
  }

  stop(): void {
    this.docs.stop();
  }
}
