// The operator's side of a cluster (what `vigil ctl nodes/shards/drain/rebalance` and the
// tests call): reads membership and ownership from the cluster's KV buckets, and sends the
// nodes their commands over NATS request/reply (`<name>.ctl.drain.<node>`, `<name>.ctl.rebalance`).
// It only binds to buckets a running cluster made: a wrong name is an error, not a new cluster.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { VigilError } from '../protocols/index.ts';
import { liveNodes } from './membership.ts';
import { ClusterLink } from './nats-link.ts';

export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;
export const DEFAULT_REBALANCE_WAIT_MS = 10_000;

export interface NodeRow {
  id: string;
  address: string;
  zone: string;
  capacity: number;
  pinnedTenants: string[];
  /** kept for large tenants that name no nodes (cluster.dedicated) */
  dedicated: boolean;
  draining: boolean;
  /** its degradation level as it announced it (0-4): from 3 on it is placed no shards while a healthier node is there */
  level: number;
  /** its heartbeat is younger than the cluster's deadAfterMs */
  alive: boolean;
  /** ms since its last heartbeat (sender's clock against ours) */
  lastSeenMs: number;
  /** shards whose lease it holds now */
  shards: number;
}

export interface ShardRow {
  shard: number;
  node: string;
  /** the lease's fencing token */
  token: number;
}

export interface DrainResult {
  node: string;
  /** shards it still held when it answered (0: drained) */
  remaining: number;
}

export interface RebalanceAnswer {
  node: string;
  /** shards it holds after its round */
  held: number;
}

export interface ControlOptions {
  /** comma-separated NATS URLs */
  servers: string;
  /** cluster.name */
  name: string;
}

export class ClusterControl {
  private constructor(private readonly nc: NatsConnection, private readonly link: ClusterLink, private readonly deadAfterMs: number) {}

  /** Connects and binds to the cluster's buckets; UNAVAILABLE when NATS does not answer, NOT_FOUND when no such cluster. */
  static async open(options: ControlOptions): Promise<ClusterControl> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers.split(',').map((s) => s.trim()), name: `vigil-ctl-${options.name}` });
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `cannot reach NATS at ${options.servers}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const link = await ClusterLink.bind(nc, options.name);
      const deadAfterMs = (await link.nodesKv.status()).ttl;
      return new ClusterControl(nc, link, deadAfterMs > 0 ? deadAfterMs : 3_000);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new VigilError('NOT_FOUND', `no cluster named "${options.name}" on ${options.servers} (its KV buckets are missing)`, { cause: err });
    }
  }

  /** Every node with a heartbeat in the bucket, alive or lapsing, by id. */
  async nodes(now = Date.now()): Promise<NodeRow[]> {
    const [beats, owners] = await Promise.all([this.link.heartbeats(), this.link.owners()]);
    const live = new Set(liveNodes(beats, now, this.deadAfterMs).map((b) => b.id));
    const held = new Map<string, number>();
    for (const o of owners.values()) held.set(o.node, (held.get(o.node) ?? 0) + 1);
    return beats
      .map((b) => ({
        id: b.id, address: b.address, zone: b.zone, capacity: b.capacity, pinnedTenants: b.pinnedTenants, dedicated: b.dedicated === true,
        draining: b.draining === true, level: b.level ?? 0, alive: live.has(b.id), lastSeenMs: Math.max(0, now - b.at), shards: held.get(b.id) ?? 0,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every shard with a lease (of `node` only, when given), by shard number. */
  async shards(node?: string): Promise<ShardRow[]> {
    const owners = await this.link.owners();
    return [...owners.values()]
      .filter((o) => node === undefined || o.node === node)
      .map((o) => ({ shard: o.shard, node: o.node, token: o.token }))
      .sort((a, b) => a.shard - b.shard);
  }

  /**
   * Asks `node` to hand every shard off and take none; answers when it holds none (or its
   * own timeout ran out: `remaining` > 0). NOT_FOUND when no such node answers.
   */
  async drain(node: string, timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<DrainResult> {
    return this.ask<DrainResult>(this.link.subject('drain', node), { timeoutMs }, timeoutMs + 5_000, `node "${node}"`);
  }

  /** Lets a drained node take shards again. */
  async undrain(node: string): Promise<{ node: string; draining: boolean }> {
    return this.ask(this.link.subject('undrain', node), {}, 10_000, `node "${node}"`);
  }

  /** Asks every node for a placement round now; the answers that came within `waitMs`. */
  async rebalance(waitMs = DEFAULT_REBALANCE_WAIT_MS): Promise<RebalanceAnswer[]> {
    const expected = (await this.nodes()).filter((n) => n.alive).length;
    if (expected === 0) throw new VigilError('NOT_FOUND', 'no live node in the cluster');
    const out: RebalanceAnswer[] = [];
    try {
      const replies = await this.nc.requestMany(this.link.subject('rebalance'), '', { maxWait: waitMs, maxMessages: expected });
      for await (const m of replies) {
        const v = parseAnswer<RebalanceAnswer>(m.string(), 'rebalance');
        if (v) out.push(v);
      }
    } catch (err) {
      throw new VigilError('UNAVAILABLE', `rebalance: ${(err as Error).message}`, { cause: err });
    }
    return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }

  private async ask<T>(subject: string, body: unknown, timeoutMs: number, who: string): Promise<T> {
    let text: string;
    try {
      text = (await this.nc.request(subject, JSON.stringify(body), { timeout: timeoutMs })).string();
    } catch (err) {
      const msg = (err as Error).message;
      if (/no responders/i.test(msg)) throw new VigilError('NOT_FOUND', `${who} does not answer on ${subject} (no such live node)`, { cause: err });
      if (/timeout/i.test(msg)) throw new VigilError('TIMEOUT', `${who} did not answer within ${timeoutMs} ms`, { cause: err });
      throw new VigilError('UNAVAILABLE', `${who}: ${msg}`, { cause: err });
    }
    const v = parseAnswer<T>(text, who);
    if (!v) throw new VigilError('INTERNAL', `${who} answered something unreadable: ${text.slice(0, 200)}`);
    return v;
  }
}

function parseAnswer<T>(text: string, who: string): T | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v && typeof v === 'object' && 'error' in v) throw new VigilError('INTERNAL', `${who} failed: ${String((v as { error: unknown }).error)}`);
  return v as T;
}
