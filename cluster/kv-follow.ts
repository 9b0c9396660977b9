// Following a NATS KV bucket (or one key of it) for as long as a node runs: the current
// entries first, then every change. A watch that breaks (NATS away, a leader election) is
// opened again after a pause, from the current values, so a follower never stops by itself.
// A watch can also go silent without breaking: its consumer sits on a server cut off from the
// rest, and nats.js reports the missed heartbeats but neither reopens nor ends it (in the
// partition test the majority's views stood still for about 60 s, until the servers sorted the
// consumer out, and no shard moved meanwhile). So a follower may say how long its watch may
// hear nothing (`silentMs`); past that it asks the bucket whether it was written meanwhile,
// and opens the watch again if it was.
import type { KV, KvEntry } from '@nats-io/kv';

export interface KvFollowOptions {
  /** one key (or a wildcard); absent: the whole bucket */
  key?: string;
  /** the pause before a broken watch is opened again */
  reopenMs: number;
  /** `ready` resolves after this long even if the first opening delivered nothing (an empty bucket) */
  waitMs?: number;
  /**
   * How long a watch may hear nothing before the bucket is asked whether it was written
   * meanwhile; if it was, the watch is stuck and is opened again. A whole bucket or one key
   * (a wildcard key is never asked). Absent: never asked.
   */
  silentMs?: number;
  /** what is followed, for the errors (e.g. "the leases bucket") */
  label?: string;
  onError(err: unknown): void;
}

export interface KvFollow {
  /** resolves once the entries held at the first opening are in (or after waitMs) */
  ready: Promise<void>;
  stop(): void;
}

export const DEFAULT_FOLLOW_WAIT_MS = 2_000;
/** `silentMs` for buckets written now and then (tenant documents, the tenants file): one question per quiet 5 s */
export const DEFAULT_FOLLOW_SILENT_MS = 5_000;

/** A KV key (or subject token) for any tenant id: its UTF-8 bytes in hex, as keys allow a narrow alphabet. */
export const tenantKey = (tenant: string): string => `t.${Buffer.from(tenant, 'utf8').toString('hex')}`;

export function followKv(kv: KV, apply: (entry: KvEntry) => void, o: KvFollowOptions): KvFollow {
  let stopped = false;
  let current: { stop(): void } | undefined;
  let ready!: () => void;
  const readyP = new Promise<void>((resolve) => { ready = resolve; });
  setTimeout(ready, o.waitMs ?? DEFAULT_FOLLOW_WAIT_MS).unref();
  // a bucket that holds nothing delivers nothing to wait for: ready now, not after waitMs
  // (each empty bucket added its full wait to a node's start)
  if (o.key === undefined) void kv.status().then((s) => { if (s.values === 0) ready(); }, () => undefined);
  let heardRevision = 0;
  // the revision last written of what is followed: the whole bucket's, or one key's (a wildcard is not asked)
  const lastWritten = o.key === undefined ? async () => (await kv.status()).streamInfo.state.last_seq
    : /[*>]/.test(o.key) ? undefined : async () => (await kv.get(o.key!))?.revision ?? 0;
  const open = async (): Promise<void> => {
    while (!stopped) {
      try {
        const it = await kv.watch(o.key !== undefined ? { key: o.key } : {});
        current = it;
        if (stopped) it.stop();
        let heardAt = performance.now();
        let checking = false;
        // silent past silentMs: the bucket's last revision tells a quiet bucket (go on) from a
        // watch that missed writes (open it again); no answer, it is opened again as well
        const silence = o.silentMs === undefined || lastWritten === undefined ? undefined : setInterval(() => {
          const silentMs = performance.now() - heardAt;
          if (silentMs <= o.silentMs! || checking) return;
          checking = true;
          lastWritten().then((last) => {
            if (last <= heardRevision) {
              heardAt = performance.now();
              return;
            }
            o.onError(new Error(`the watch of ${o.label ?? 'a bucket'} heard nothing for ${Math.round(silentMs)} ms while it was written (revision ${heardRevision} heard, ${last} written): opened again`));
            it.stop();
          }, () => it.stop()).finally(() => { checking = false; });
        }, Math.max(50, o.silentMs / 4));
        silence?.unref();
        try {
          for await (const e of it) {
            heardAt = performance.now();
            heardRevision = Math.max(heardRevision, e.revision);
            apply(e);
            if (e.isUpdate) ready(); // the entries held when the watch opened are all in
          }
        } finally {
          clearInterval(silence);
        }
      } catch (err) {
        if (!stopped) o.onError(err);
      }
      if (!stopped) await new Promise((r) => setTimeout(r, o.reopenMs));
    }
  };
  void open();
  return {
    ready: readyP,
    stop() {
      stopped = true;
      current?.stop();
    },
  };
}
