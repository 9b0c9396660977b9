// One JSON document per tenant in a NATS KV bucket (key `t.<tenant in hex>`), held in memory
// by every node and kept current by a watch: what the cluster's per-tenant settings (silences,
// runbooks) are kept in, so they follow a tenant's shard from node to node. A write goes to the
// bucket first, then to memory; each tenant's document is the one with the highest revision
// seen, so a watch that lags never puts an older one back.
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { VigilError } from '../protocols/index.ts';
import { DEFAULT_FOLLOW_SILENT_MS, followKv, tenantKey, type KvFollow } from './kv-follow.ts';

const VERSION = 1;
const REOPEN_MS = 1_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface TenantDocsOptions<T> {
  /** the bucket: `<cluster>_<what>` */
  bucket: string;
  replicas: number;
  /** what a document is, for errors ('silences', 'runbooks') */
  what: string;
  /** the document as stored (JSON) */
  encode(doc: T): unknown;
  /** a stored document back, checked; throws when it is not one */
  decode(tenant: string, stored: unknown, where: string): T;
  onError?(err: unknown): void;
}

interface Stored {
  version: number;
  tenant: string;
  doc: unknown;
}

export class KvTenantDocs<T> {
  private readonly docs = new Map<string, { doc: T; revision: number }>();
  private follow: KvFollow | undefined;

  private constructor(private readonly kv: KV, private readonly o: TenantDocsOptions<T>) {}

  /** Opens (creating) the bucket and resolves once the documents it holds are in memory. */
  static async open<T>(nc: NatsConnection, o: TenantDocsOptions<T>): Promise<KvTenantDocs<T>> {
    const kv = await new Kvm(nc).create(o.bucket, { history: 1, replicas: o.replicas });
    const docs = new KvTenantDocs(kv, o);
    docs.follow = followKv(kv, (e) => docs.apply(e), { reopenMs: REOPEN_MS, silentMs: DEFAULT_FOLLOW_SILENT_MS, label: `the ${o.bucket} bucket`, onError: (err) => docs.o.onError?.(err) });
    await docs.follow.ready;
    return docs;
  }

  get(tenant: string): T | undefined {
    return this.docs.get(tenant)?.doc;
  }

  tenants(): string[] {
    return [...this.docs.keys()];
  }

  /** Stores `doc` as the tenant's; memory holds it once the bucket has it. */
  async put(tenant: string, doc: T): Promise<void> {
    const stored: Stored = { version: VERSION, tenant, doc: this.o.encode(doc) };
    let revision: number;
    try {
      revision = await this.kv.put(tenantKey(tenant), enc.encode(JSON.stringify(stored)));
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `the ${this.o.what} of tenant ${tenant} could not be stored in NATS KV (${err instanceof Error ? err.message : String(err)}); nothing changed`, { cause: err });
    }
    this.keep(tenant, doc, revision);
  }

  stop(): void {
    this.follow?.stop();
  }

  private keep(tenant: string, doc: T, revision: number): void {
    if ((this.docs.get(tenant)?.revision ?? 0) < revision) this.docs.set(tenant, { doc, revision });
  }

  private apply(e: KvEntry): void {
    if (e.operation !== 'PUT' || e.value.length === 0) return; // a document is rewritten whole, never deleted
    try {
      const v = JSON.parse(dec.decode(e.value)) as Stored;
      if (v.version !== VERSION || typeof v.tenant !== 'string' || tenantKey(v.tenant) !== e.key) throw new Error(`not a version ${VERSION} document`);
      if ((this.docs.get(v.tenant)?.revision ?? 0) < e.revision) this.keep(v.tenant, this.o.decode(v.tenant, v.doc, `NATS KV ${this.o.bucket}/${e.key}`), e.revision);
    } catch (err) {
      this.o.onError?.(new Error(`${this.o.what} ${e.key}: ${err instanceof Error ? err.message : String(err)}; kept what was there`, { cause: err }));
    }
  }
}
