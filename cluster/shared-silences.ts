// Cluster mode: a tenant's silences in the NATS KV bucket `<cluster>_silences` (one key per
// tenant, the whole list as JSON), so they move with the tenant's shard: the node that takes
// the shard over (a drain, a rebalance, a failover) starts its correlator with them. Each node
// keeps every tenant's list in memory, fed by a watch of the bucket, because a correlator
// reads its silences synchronously when it starts; a save goes to the bucket, then to memory.
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Silence, SilenceStore } from '../actors/correlation/index.ts';
import { followKv, tenantKey, type KvFollow } from './kv-follow.ts';

const VERSION = 1;
const REOPEN_MS = 1_000;
const enc = new TextEncoder();
const dec = new TextDecoder();


interface SilenceEntry {
  version: number;
  tenant: string;
  silences: Silence[];
}

export class KvSilenceStore implements SilenceStore {
  /** each tenant's list and the bucket revision it came with (a watch that lags never puts an older one back) */
  private readonly byTenant = new Map<string, { silences: Silence[]; revision: number }>();
  private follow: KvFollow | undefined;

  private constructor(private readonly kv: KV, private readonly onError: (err: unknown) => void) {}

  /** Opens (creating) the bucket and resolves once the silences it holds are in memory. */
  static async open(nc: NatsConnection, o: { name: string; replicas: number; onError?: (err: unknown) => void }): Promise<KvSilenceStore> {
    const kv = await new Kvm(nc).create(`${o.name}_silences`, { history: 1, replicas: o.replicas });
    const store = new KvSilenceStore(kv, o.onError ?? (() => undefined));
    store.follow = followKv(kv, (e) => store.apply(e), { reopenMs: REOPEN_MS, onError: store.onError });
    await store.follow.ready;
    return store;
  }

  load(tenant: string): Silence[] {
    return [...(this.byTenant.get(tenant)?.silences ?? [])];
  }

  async save(tenant: string, silences: readonly Silence[]): Promise<void> {
    const entry: SilenceEntry = { version: VERSION, tenant, silences: [...silences] };
    const revision = await this.kv.put(tenantKey(tenant), enc.encode(JSON.stringify(entry)));
    this.keep(tenant, [...silences], revision);
  }

  stop(): void {
    this.follow?.stop();
  }

  private keep(tenant: string, silences: Silence[], revision: number): void {
    if ((this.byTenant.get(tenant)?.revision ?? 0) < revision) this.byTenant.set(tenant, { silences, revision });
  }

  private apply(e: KvEntry): void {
    if (e.operation !== 'PUT' || e.value.length === 0) return; // a tenant's list is rewritten whole, never deleted here
    try {
      const v = JSON.parse(dec.decode(e.value)) as SilenceEntry;
      if (v.version !== VERSION || typeof v.tenant !== 'string' || tenantKey(v.tenant) !== e.key || !Array.isArray(v.silences)) throw new Error('not a version 1 silence list');
      this.keep(v.tenant, v.silences, e.revision);
    } catch (err) {
      this.onError(new Error(`silences ${e.key}: ${err instanceof Error ? err.message : String(err)}; kept what was there`, { cause: err }));
    }
  }
}
