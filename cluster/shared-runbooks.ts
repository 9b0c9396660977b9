// Cluster mode: a tenant's runbooks in the NATS KV bucket `<cluster>_runbooks` (one key per
// tenant, the whole set of sources as JSON), so every node holds every tenant's runbooks: the
// node that owns the tenant's shard is the one whose incidents fire them, and that changes
// with a drain, a rebalance or a failover. A change is written to the bucket, then taken into
// memory; the other nodes take it in from the bucket's watch.
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { MemoryRunbooks, restoredRunbooks, savedRunbooks, type Runbook, type SavedRunbook } from '../actors/automation/index.ts';
import { followKv, tenantKey, type KvFollow } from './kv-follow.ts';

const VERSION = 1;
const REOPEN_MS = 1_000;
const enc = new TextEncoder();
const dec = new TextDecoder();


interface RunbooksEntry {
  version: number;
  tenant: string;
  runbooks: SavedRunbook[];
}

export class KvRunbooks extends MemoryRunbooks {
  /** the bucket revision each tenant's set came with (a watch that lags never puts an older one back) */
  private readonly revisions = new Map<string, number>();
  private follow: KvFollow | undefined;

  private constructor(private readonly kv: KV, private readonly onError: (err: unknown) => void) {
    super();
  }

  /** Opens (creating) the bucket and resolves once the runbooks it holds are in memory. */
  static async open(nc: NatsConnection, o: { name: string; replicas: number; onError?: (err: unknown) => void }): Promise<KvRunbooks> {
    const kv = await new Kvm(nc).create(`${o.name}_runbooks`, { history: 1, replicas: o.replicas });
    const store = new KvRunbooks(kv, o.onError ?? (() => undefined));
    store.follow = followKv(kv, (e) => store.apply(e), { reopenMs: REOPEN_MS, onError: store.onError });
    await store.follow.ready;
    return store;
  }

  stop(): void {
    this.follow?.stop();
  }

  protected override async saved(tenant: string): Promise<void> {
    const set = this.list(tenant);
    const entry: RunbooksEntry = { version: VERSION, tenant, runbooks: savedRunbooks(set) };
    const revision = await this.kv.put(tenantKey(tenant), enc.encode(JSON.stringify(entry)));
    // what was written is what memory holds (an older entry the watch brought meanwhile is not)
    this.keep(tenant, new Map(set.map((r) => [r.id, r])), revision);
  }

  private keep(tenant: string, runbooks: Map<string, Runbook>, revision: number): void {
    if ((this.revisions.get(tenant) ?? 0) >= revision) return;
    this.byTenant.set(tenant, runbooks);
    this.revisions.set(tenant, revision);
  }

  private apply(e: KvEntry): void {
    if (e.operation !== 'PUT' || e.value.length === 0) return;
    try {
      const v = JSON.parse(dec.decode(e.value)) as RunbooksEntry;
      if (v.version !== VERSION || typeof v.tenant !== 'string' || tenantKey(v.tenant) !== e.key || !Array.isArray(v.runbooks)) throw new Error('not a version 1 runbook set');
      if ((this.revisions.get(v.tenant) ?? 0) < e.revision) this.keep(v.tenant, restoredRunbooks(v.tenant, v.runbooks, `NATS KV ${e.key}`), e.revision);
    } catch (err) {
      this.onError(new Error(`runbooks ${e.key}: ${err instanceof Error ? err.message : String(err)}; kept what was there`, { cause: err }));
    }
  }
}
