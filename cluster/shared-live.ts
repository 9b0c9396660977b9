// Cluster mode: a tenant's live events reach its streams on every node. The shard's owner is
// the only node whose actors produce them (anomalies, alerts, incidents, rankings, runbook
// runs, notifications), so it publishes each on NATS (`<cluster>.live.t.<tenant in hex>`), and
// every node with a stream open for that tenant (the owner included) follows the subject
// and hands the events to its streams. A hand-off changes nothing for a stream: the next
// owner publishes on the same subject. The node's own level ('status') stays on the node.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { LiveEvent } from '../protocols/index.ts';
import { LiveHub, type LiveListener } from './live.ts';
import { tenantKey } from './kv-follow.ts';

const enc = new TextEncoder();

export class SharedLiveHub extends LiveHub {
  private readonly following = new Map<string, { sub: Subscription; streams: number }>();

  constructor(private readonly nc: NatsConnection, private readonly cluster: string, private readonly onError: (err: unknown) => void = () => undefined) {
    super();
  }

  override publish(tenant: string, event: LiveEvent): void {
    if (event.type === 'status') {
      super.publish(tenant, event); // this node's level, for the streams open here
      return;
    }
    try {
      this.nc.publish(this.subject(tenant), enc.encode(JSON.stringify(event)));
    } catch (err) {
      this.onError(err); // a closed connection at shutdown: the stream misses an event, nothing else
    }
  }

  override subscribe(tenant: string, listener: LiveListener): () => void {
    const leave = super.subscribe(tenant, listener);
    let f = this.following.get(tenant);
    if (!f) {
      const sub = this.nc.subscribe(this.subject(tenant), {
        callback: (err, msg) => {
          if (err) return this.onError(err);
          let event: LiveEvent;
          try {
            event = msg.json<LiveEvent>();
          } catch (e) {
            return this.onError(e);
          }
          super.publish(tenant, event);
        },
      });
      this.following.set(tenant, (f = { sub, streams: 0 }));
    }
    f.streams++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      leave();
      if (--f.streams === 0) {
        f.sub.unsubscribe();
        this.following.delete(tenant);
      }
    };
  }

  private subject(tenant: string): string {
    return `${this.cluster}.live.${tenantKey(tenant)}`;
  }
}
