// Cluster mode: a tenant's runbooks in the NATS KV bucket `<cluster>_runbooks`
// (kv-tenant-docs.ts: the whole set of sources per tenant), so every node holds every tenant's
// runbooks: the node that owns the tenant's shard is the one whose incidents fire them, and
// that changes with a drain, a rebalance or a failover.
import type { NatsConnection } from '@nats-io/transport-node';
import { restoredRunbooks, savedRunbooks, type Runbook, type RunbookStore, type SavedRunbook } from '../actors/automation/index.ts';
import { KvTenantDocs } from './kv-tenant-docs.ts';

type RunbookSet = ReadonlyMap<string, Runbook>;

export class KvRunbooks implements RunbookStore {
  /** changes one at a time: each starts from the set the one before it stored */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly docs: KvTenantDocs<RunbookSet>) {}

  static async open(nc: NatsConnection, o: { name: string; replicas: number; onError?: (err: unknown) => void }): Promise<KvRunbooks> {
    return new KvRunbooks(await KvTenantDocs.open<RunbookSet>(nc, {
      bucket: `${o.name}_runbooks`, replicas: o.replicas, what: 'runbooks', ...(o.onError ? { onError: o.onError } : {}),
      encode: (set) => savedRunbooks([...set.values()]),
      decode(tenant, stored, where) {
        if (!Array.isArray(stored)) throw new Error('not a list of runbooks');
        return restoredRunbooks(tenant, stored as SavedRunbook[], where);
      },
    }));
  }

  list(tenant: string): Runbook[] {
    return [...(this.docs.get(tenant)?.values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get(tenant: string, id: string): Runbook | undefined {
    return this.docs.get(tenant)?.get(id);
  }

  async put(runbook: Runbook): Promise<void> {
    await this.change(runbook.tenant, (set) => new Map(set).set(runbook.id, runbook));
  }

  async replace(tenant: string, runbooks: Runbook[]): Promise<void> {
    await this.change(tenant, () => new Map(runbooks.map((r) => [r.id, r])));
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    let had = false;
    await this.change(tenant, (set) => {
      had = set.has(id);
      if (!had) return undefined;
      const next = new Map(set);
      next.delete(id);
      return next;
    });
    return had;
  }

  tenants(): string[] {
    return this.docs.tenants().filter((t) => (this.docs.get(t)?.size ?? 0) > 0).sort();
  }

  stop(): void {
    this.docs.stop();
  }

  /** `next` of the tenant's current set (undefined: nothing to store) goes to the bucket. */
  private change(tenant: string, next: (set: RunbookSet) => RunbookSet | undefined): Promise<void> {
    const run = this.writing.then(async () => {
      const set = next(this.docs.get(tenant) ?? new Map());
      if (set) await this.docs.put(tenant, set);
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}
