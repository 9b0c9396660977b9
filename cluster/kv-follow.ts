// Following a NATS KV bucket (or one key of it) for as long as a node runs: the current
// entries first, then every change. A watch that breaks (NATS away, a leader election) is
// opened again after a pause, from the current values, so a follower never stops by itself.
import type { KV, KvEntry } from '@nats-io/kv';

export interface KvFollowOptions {
  /** one key (or a wildcard); absent: the whole bucket */
  key?: string;
  /** the pause before a broken watch is opened again */
  reopenMs: number;
  /** `ready` resolves after this long even if the first opening delivered nothing (an empty bucket) */
  waitMs?: number;
  onError(err: unknown): void;
}

export interface KvFollow {
  /** resolves once the entries held at the first opening are in (or after waitMs) */
  ready: Promise<void>;
  stop(): void;
}

export const DEFAULT_FOLLOW_WAIT_MS = 2_000;

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
  const open = async (): Promise<void> => {
    while (!stopped) {
      try {
        const it = await kv.watch(o.key !== undefined ? { key: o.key } : {});
        current = it;
        if (stopped) it.stop();
        for await (const e of it) {
          apply(e);
          if (e.isUpdate) ready(); // the entries held when the watch opened are all in
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
