// The tenants text a cluster's nodes share: one key in the NATS KV bucket `<cluster>_config`,
// written by the node that took an admin API change and followed by every node (api/tenancy's
// SharedTenants; this file only reads and writes). KV keeps the last write; its revision orders
// them, and a write may be made conditional on it (compare-and-set).
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_FOLLOW_SILENT_MS, followKv } from './kv-follow.ts';

const KEY = 'tenants';
/** A broken watch is opened again after this long (NATS away, a leader election). */
const REOPEN_MS = 1_000;

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface SharedTenantsOptions {
  /** cluster.name: names the bucket */
  name: string;
  replicas: number;
  onError?: (err: unknown) => void;
}

export class KvSharedTenants {
  readonly where: string;

  private constructor(private readonly kv: KV, bucket: string, private readonly onError: (err: unknown) => void) {
    this.where = `NATS KV ${bucket}/${KEY}`;
  }

  static async open(nc: NatsConnection, o: SharedTenantsOptions): Promise<KvSharedTenants> {
    const bucket = `${o.name}_config`;
    const kv = await new Kvm(nc).create(bucket, { history: 1, replicas: o.replicas });
    return new KvSharedTenants(kv, bucket, o.onError ?? (() => undefined));
  }

  async read(): Promise<{ text: string; revision: number } | undefined> {
    const e = await this.kv.get(KEY);
    return e && e.operation === 'PUT' && e.value.length > 0 ? { text: dec.decode(e.value), revision: e.revision } : undefined;
  }

  write(text: string): Promise<number> {
    return this.kv.put(KEY, enc.encode(text));
  }

  async replace(text: string, revision: number): Promise<number | undefined> {
    try {
      // create: the key must hold no text (none yet, or deleted); update: still at `revision`
      return await (revision === 0 ? this.kv.create(KEY, enc.encode(text)) : this.kv.update(KEY, enc.encode(text), revision));
    } catch (err) {
      if (movedOn(err)) return undefined;
      throw err;
    }
  }

  /** Follows the key (the current value first) until stopped; a broken watch is opened again. */
  watch(onEntry: (entry: { text: string; revision: number }) => void): () => void {
    const f = followKv(this.kv, (e) => {
      if (e.operation === 'PUT' && e.value.length > 0) onEntry({ text: dec.decode(e.value), revision: e.revision });
    }, { key: KEY, reopenMs: REOPEN_MS, silentMs: DEFAULT_FOLLOW_SILENT_MS, label: 'the tenants file', onError: this.onError });
    return () => f.stop();
  }
}

/** JetStream's answer when the key's last revision is not the one a write expected. */
function movedOn(err: unknown): boolean {
  return err instanceof JetStreamApiError
    && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
