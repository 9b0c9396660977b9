// Cluster mode: pushing back a tenant whose samples wait where its shard is processed.
// A gateway answers 202 once the log has a batch; the node that owns the tenant's shard reads
// it later and hands it to the actors. When that node falls behind on a tenant (its budget
// holds its batches, its detectors are slow), the samples read and not yet taken in pile up
// there, and on a single node its own ingest would answer 503 (cluster/backlog.ts). Here the
// gateways are other nodes, so the owner says so on NATS: while a tenant's backlog on it is
// past its bound, every node answers that tenant's ingest 503 with Retry-After, and other
// tenants go on. Pure: the transport is injected (node/cluster-mode.ts sends over NATS).
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';

/** How often a node repeats what it pushes back, while it does. */
export const PUSHBACK_REPEAT_MS = 1_000;
/**
 * How long a notice holds unless repeated: a node that dies or loses its connection while it
 * pushes a tenant back holds it back for at most this long.
 */
export const PUSHBACK_TTL_MS = 3_000;

export interface PushbackNotice {
  tenant: string;
  /** the node whose backlog of the tenant is past its bound (or no longer) */
  node: string;
  full: boolean;
}

export interface PushbackParts {
  clock: Clock;
  /** this node's id */
  node: string;
  /** sends a notice to every node */
  send(notice: PushbackNotice): void;
}

export class TenantPushback {
  /** tenant → node → until when its notice holds */
  private readonly heard = new Map<string, Map<string, number>>();
  /** the tenants this node pushes back */
  private readonly saying = new Set<string>();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly p: PushbackParts) {}

  /** This node's backlog of `tenant` reached its bound (true) or fell back under it (false). */
  report(tenant: string, full: boolean): void {
    if (this.stopped || full === this.saying.has(tenant)) return;
    if (full) this.saying.add(tenant);
    else this.saying.delete(tenant);
    this.p.send({ tenant, node: this.p.node, full });
    this.arm();
  }

  /** A notice from a node (this one's own come back too). Anything else is ignored. */
  hear(notice: unknown): void {
    if (!isNotice(notice)) return;
    const nodes = this.heard.get(notice.tenant);
    if (notice.full) {
      if (nodes) nodes.set(notice.node, this.p.clock.now() + PUSHBACK_TTL_MS);
      else this.heard.set(notice.tenant, new Map([[notice.node, this.p.clock.now() + PUSHBACK_TTL_MS]]));
    } else if (nodes) {
      nodes.delete(notice.node);
      if (nodes.size === 0) this.heard.delete(notice.tenant);
    }
  }

  /** The node that pushes `tenant` back now; undefined when none does. */
  pushedBackBy(tenant: string): string | undefined {
    const nodes = this.heard.get(tenant);
    if (!nodes) return undefined;
    const now = this.p.clock.now();
    for (const [node, until] of nodes) {
      if (until > now) return node;
      nodes.delete(node);
    }
    this.heard.delete(tenant);
    return undefined;
  }

  /** Stops repeating; what this node pushed back is let go at once (a clean stop). */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.p.clock.clearTimeout(this.timer);
    for (const tenant of this.saying) this.p.send({ tenant, node: this.p.node, full: false });
    this.saying.clear();
  }

  private arm(): void {
    if (this.timer || this.saying.size === 0) return;
    this.timer = this.p.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      for (const tenant of this.saying) this.p.send({ tenant, node: this.p.node, full: true });
      this.arm();
    }, PUSHBACK_REPEAT_MS);
  }
}

function isNotice(v: unknown): v is PushbackNotice {
  if (v === null || typeof v !== 'object') return false;
  const n = v as Record<string, unknown>;
  return typeof n.tenant === 'string' && typeof n.node === 'string' && typeof n.full === 'boolean';
}
