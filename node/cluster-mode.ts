// Cluster mode of a node (config `cluster.enabled`): the ingest log is the JetStream stream,
// snapshots live in a NATS KV bucket (any node can restore any shard), the actor tree hosts one
// supervisor per owned shard, and the shard coordinator (cluster/coordinator.ts) takes, hands
// off and loses shards by their leases. compose.ts asks this module at a few points only.
import { connect } from '@nats-io/transport-node';
import type { ActorRef, Behavior, Clock } from '../actors/runtime/index.ts';
import type { TenantsDeps } from '../actors/tenant/index.ts';
import type { Logger } from 'pino';
import {
  ClusterLink, ClusterView, JetStreamIngestLog, liveNodes, KvRunbooks, KvSilenceStore, KvSnapshotStore, SharedLiveHub, restoredState, shardOf, shardsBehavior, ShardCoordinator, TenantPushback,
  type CheckpointParts, type Checkpoints, type IngestLog, type LogRecord, type OpenIncidentsCache, type ShardHosts, type ShardsMsg, type VigilConfig,
} from '../cluster/index.ts';
import type { Incident } from '../protocols/index.ts';
import type { Engine, NodeUsage } from '../api/index.ts';
import { answerOwnerCall, HERE, parseAnswer, type OwnerLink } from './owner-route.ts';

export interface ClusterMode {
  log: IngestLog;
  snapshots: KvSnapshotStore;
  /** silences in a KV bucket, so they move with a tenant's shard */
  silences: KvSilenceStore;
  /** runbooks in a KV bucket: every node holds every tenant's, so the shard's owner fires them */
  runbooks: KvRunbooks;
  /** live events over NATS: a tenant's stream on any node hears its shard owner's events */
  live: SharedLiveHub;
  /** tenants pushed back because the node processing their shard is behind on them (cluster/pushback.ts) */
  pushback: TenantPushback;
  link: ClusterLink;
  tenantsBehavior(deps: TenantsDeps): Behavior<ShardsMsg, unknown>;
  /** whether this node holds the lease of the tenant's shard (writes for others are refused) */
  holdsTenant(tenant: string): boolean;
  /**
   * Whether a batch read under `epoch` may have effects now: the shard is still held under
   * that token (not lost, nor lost and taken again since). A refusal while the lease is still
   * listed under that token (its validity ran out, a renewal unanswered) gives the shard up,
   * so the refused batch is replayed rather than read past (ShardCoordinator.relinquish).
   */
  admitsBatch(tenant: string, epoch: number): boolean;
  /** the lease token this node holds `shard` under (0: not held): what a batch read now is fenced by */
  epochOf(shard: number): number;
  /** a record this node reads again (it was in the log before the shard came here): a checked write */
  isReplay(record: LogRecord): boolean;
  /** What the checkpoints need in cluster mode: the lease fence, and the open incidents each shard's snapshot carries. */
  checkpointParts(incidents: OpenIncidentsCache): Pick<CheckpointParts, 'fence' | 'openIncidents'>;
  /**
   * `incidents`: the node's open incidents; a shard taken over brings its own (from the
   * snapshot), which are also written to this node's store by `storeIncident`.
   */
  start(parts: {
    shardsRef: ActorRef<ShardsMsg>; hosts: ShardHosts; checkpoints: Checkpoints; address: string;
    incidents: OpenIncidentsCache; storeIncident(incident: Incident): void;
    /** the node's degradation level (announced: a node at L3 or worse is placed no shards while a healthier one is there) */
    level?: () => number;
  }): void;
  /** Hands every shard off (a clean stop), then stops coordinating. */
  stop(handOff: boolean): Promise<void>;
  /** Closes the NATS connection (after the stores, which read the log through it). */
  close(): Promise<void>;
  coordinator(): ShardCoordinator | undefined;
  /** Where a tenant's reads and commands go: this node, or its shard's owner (node/owner-route.ts). */
  readonly owners: OwnerLink;
  /** Answers the calls other nodes route here, from this node's own engine. */
  serveOwnerCalls(local: Engine): void;
  /** Answers other nodes asking for a tenant's use of this node (GET /v1/usage sums them). */
  serveUsage(local: (tenant: string) => NodeUsage): void;
  /** A tenant's use of every live node, this one included, by node id; undefined when NATS did not answer. */
  usageAcross(tenant: string): Promise<NodeUsage[] | undefined>;
  /**
   * Where the node's pinned tenants come from, read at every heartbeat (default:
   * cluster.pinnedTenants), and the large tenants that name no nodes, read at every round
   * (placed on nodes kept for them); set before start.
   */
  pinWith(pinned: () => string[], largeTenants?: () => string[]): void;
}

const PENDING_WAIT_MS = 10_000;
/** How long GET /v1/usage waits for the other nodes' figures: the nodes that have not answered by then are left out. */
const USAGE_WAIT_MS = 500;
/** A drain request may ask for at most this long. */
const MAX_DRAIN_MS = 10 * 60_000;

/** A ctl request's or a notice's JSON body ({} when empty or unreadable: every field is optional). */
function requestBody(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

export async function openClusterMode(config: VigilConfig, clock: Clock, log: Logger): Promise<ClusterMode> {
  const c = config.cluster;
  const servers = c.natsUrl.split(',').map((s) => s.trim());
  // two connections: the data (the log's reads and appends, snapshots) would otherwise hold up
  // the leases' renewals and the heartbeats behind megabytes of batches in one socket
  // noAsyncTraces: nats.js otherwise builds an Error (a stack capture) for every request and
  // publish, in case it times out; it was the largest JS item of a gateway's CPU profile under
  // bench:tenancy (4.4% of its busy time). Our errors say where they came from themselves
  // (jetstreamError, IngestLogError). A second Error per request stays: nats-core 3.3.1's
  // RequestOne rejects its settled promise with a new one on cleanup (3.3% on 2026-12-03).
  const nc = await connect({ servers, name: `vigil-${config.node.id}`, maxReconnectAttempts: -1, noAsyncTraces: true });
  const control = await connect({ servers, name: `vigil-${config.node.id}-control`, maxReconnectAttempts: -1, noAsyncTraces: true });
  const link = await ClusterLink.open({ servers: c.natsUrl, name: c.name, deadAfterMs: c.deadAfterMs, leaseTtlMs: c.deadAfterMs, replicas: c.replicas }, control);
  const ingest = await JetStreamIngestLog.open({ connection: nc, stream: `${c.name.toUpperCase().replace(/-/g, '_')}_INGEST`, subjectPrefix: `${c.name}.metrics`, shards: c.shards, replicas: c.replicas });
  const snapshots = await KvSnapshotStore.open(nc, c.name, c.replicas);
  const view = new ClusterView(link.nodesKv, link.leasesKv, c.deadAfterMs, (err) => log.warn({ err }, 'cluster: watching the buckets failed; reopening'));
  // each waits until what its bucket holds is in memory: side by side, not one after another
  const [runbooks, silences] = await Promise.all([
    KvRunbooks.open(nc, { name: c.name, replicas: c.replicas, onError: (err) => log.warn({ err }, 'cluster: following the runbooks failed') }),
    KvSilenceStore.open(nc, { name: c.name, replicas: c.replicas, onError: (err) => log.warn({ err }, 'cluster: following the silences failed') }),
    view.start(),
  ]);
  const shardOfTenant = (t: string): number => shardOf(t, c.shards);
  const replayUntil = new Map<number, number>();
  const tenantsOf = (incidents: OpenIncidentsCache, shard: number): string[] => incidents.tenants().filter((t) => shardOfTenant(t) === shard);
  let coordinator: ShardCoordinator | undefined;
  // tenants this node hosts exclusively: cluster.pinnedTenants and the large tenants naming it (node/tenancy.ts)
  let pinned = (): string[] => c.pinnedTenants;
  let largeTenants = (): string[] => [];
  const subs: Array<{ unsubscribe(): void }> = [];
  const enc = new TextEncoder();
  // on the control connection: a notice must not wait behind megabytes of batches
  const pushback = new TenantPushback({
    clock, node: config.node.id,
    send: (notice) => {
      try {
        control.publish(link.subject('pushback'), enc.encode(JSON.stringify(notice)));
      } catch (err) {
        log.warn({ err, tenant: notice.tenant }, 'cluster: a pushback notice could not be sent');
      }
    },
  });
  // an unreadable notice reads as {}, which hear() ignores as any malformed one
  const pushbackSub = control.subscribe(link.subject('pushback'), { callback: (_err, msg) => pushback.hear(requestBody(msg.string())) });
  /** this node answers for the shard's tenants: it holds the lease, or the view says it does (a restore under way is answered here: shard-supervisor.ts holds the calls until the shard opens) */
  const answersFor = (shard: number): boolean => (coordinator?.holds(shard) ?? false) || view.owner(shard, clock.now()) === config.node.id;
  const owners: OwnerLink = {
    ownerOf(tenant) {
      const shard = shardOfTenant(tenant);
      return answersFor(shard) ? HERE : view.owner(shard, clock.now());
    },
    async ask(node, call, timeoutMs) {
      const reply = await control.request(link.subject('tenant', node), enc.encode(JSON.stringify(call)), { timeout: timeoutMs });
      return parseAnswer(JSON.parse(reply.string()));
    },
  };

  return {
    log: ingest, snapshots, link, silences, runbooks, pushback,
    live: new SharedLiveHub(nc, c.name, (err) => log.warn({ err }, 'cluster: a live event could not be relayed')),
    tenantsBehavior: (deps) => shardsBehavior({ ...deps, shardOf: shardOfTenant, opening: answersFor }),
    holdsTenant: (tenant) => coordinator?.holds(shardOfTenant(tenant)) ?? false,
    admitsBatch: (tenant, epoch) => {
      const shard = shardOfTenant(tenant);
      const admitted = (coordinator?.holds(shard) ?? false) && coordinator?.token(shard) === epoch;
      if (!admitted) coordinator?.relinquish(shard, epoch);
      return admitted;
    },
    epochOf: (shard) => (coordinator?.holds(shard) ? coordinator.token(shard) : 0),
    isReplay: (record) => record.position <= (replayUntil.get(record.shard) ?? 0),
    coordinator: () => coordinator,
    owners,
    serveOwnerCalls(local) {
      subs.push(control.subscribe(link.subject('tenant', config.node.id), {
        callback: (_err, msg) => {
          let call: unknown;
          try {
            call = JSON.parse(msg.string());
          } catch {
            call = undefined; // answered as a bad call
          }
          void answerOwnerCall(local, call).then((a) => msg.respond(JSON.stringify(a)));
        },
      }));
    },
    serveUsage(local) {
      subs.push(control.subscribe(link.subject('usage'), {
        callback: (_err, msg) => {
          const asked = requestBody(msg.string()).tenant;
          if (typeof asked === 'string') msg.respond(JSON.stringify(local(asked)));
        },
      }));
    },
    async usageAcross(tenant) {
      // every live node answers, this one too (its own heartbeat may not be out yet); one that died and is still listed costs the wait
      const expected = new Set([config.node.id, ...liveNodes(view.heartbeats(), clock.now(), c.deadAfterMs).map((b) => b.id)]).size;
      try {
        const replies = await control.requestMany(link.subject('usage'), JSON.stringify({ tenant }), { strategy: 'count', maxMessages: expected, maxWait: USAGE_WAIT_MS });
        const byNode = new Map<string, NodeUsage>();
        for await (const m of replies) {
          const u = m.json<NodeUsage>();
          if (typeof u?.node === 'string') byNode.set(u.node, u);
        }
        return byNode.size === 0 ? undefined : [...byNode.values()].sort((a, b) => (a.node < b.node ? -1 : 1));
      } catch (err) {
        log.warn({ err, tenant }, 'cluster: the nodes\' usage could not be gathered; answering with this node\'s');
        return undefined;
      }
    },
    pinWith: (source, large) => {
      pinned = source;
      if (large) largeTenants = large;
    },
    checkpointParts: (incidents) => ({
      fence: { token: (s) => coordinator?.token(s) ?? 0, holds: (s) => coordinator?.holds(s) ?? false },
      openIncidents: (shard) => tenantsOf(incidents, shard).flatMap((t) => incidents.unresolved(t)),
    }),
    start({ shardsRef, hosts, checkpoints, address, incidents, storeIncident, level }) {
      const close = async (shard: number): Promise<void> => {
        await shardsRef.ask((reply) => ({ type: 'close-shard', shard, reply }), 30_000);
        hosts.drop(shard);
        checkpoints.forget(shard);
        replayUntil.delete(shard);
        for (const t of tenantsOf(incidents, shard)) incidents.forget(t); // the next owner goes on with them
      };
      // What this node knew of the shard's incidents is stale (an earlier stay, or its own store's view): the snapshot's are current.
      const adopt = (shard: number, open: readonly Incident[]): void => {
        for (const t of tenantsOf(incidents, shard)) incidents.forget(t);
        for (const inc of open) {
          if (shardOfTenant(inc.tenant) !== shard) continue;
          incidents.put(inc);
          storeIncident(inc);
        }
      };
      coordinator = new ShardCoordinator({
        link, view, clock, shards: c.shards, shardOf: shardOfTenant, ...(level ? { level } : {}), largeTenants: () => largeTenants(),
        self: { id: config.node.id, address, capacity: c.capacity, zone: c.zone, ...(c.dedicated ? { dedicated: true } : {}), get pinnedTenants() { return pinned(); } },
        heartbeatMs: c.heartbeatMs, deadAfterMs: c.deadAfterMs, leaseTtlMs: c.deadAfterMs, moveFraction: c.moveFraction,
        ...(c.ownershipLog ? { ownershipLog: c.ownershipLog } : {}),
        async acquired(shard) {
          const latest = await snapshots.latest(shard);
          const { state, resume } = restoredState(latest ? new Map([[shard, latest]]) : new Map());
          const at = resume.get(shard);
          replayUntil.set(shard, await ingest.lastPosition(shard));
          adopt(shard, latest?.snapshot.openIncidents ?? []);
          await shardsRef.ask((reply) => ({ type: 'open-shard', shard, restored: state, reply }), 30_000);
          if (at) checkpoints.restored(shard, at.position);
          log.trace({ shard, position: at?.position ?? 0, last: replayUntil.get(shard), token: coordinator?.token(shard) }, 'shard restored');
          hosts.start(shard, at?.position ?? 0, at?.tenants ?? []);
        },
        // Graceful: the new owner must start exactly where this node stopped, so without a last
        // snapshot at the end of what was read there is no hand-off: the shard reads on, held,
        // and the next round tries again (a release without it would have the next owner
        // process again what this node already did).
        async handOff(shard) {
          await hosts.stopShard(shard);
          try {
            const until = clock.now() + PENDING_WAIT_MS;
            while (hosts.pending(shard) > 0 && clock.now() < until) await new Promise((r) => setTimeout(r, 20));
            if (hosts.pending(shard) > 0) throw new Error(`${hosts.pending(shard)} batches of shard ${shard} not stored yet`);
            await checkpoints.fresh(shard); // the shard's last snapshot (with its open incidents), fenced by its lease
          } catch (err) {
            hosts.resume(shard);
            throw err;
          }
          await close(shard);
        },
        async lost(shard) {
          await hosts.stopShard(shard);
          await close(shard);
        },
        onError: (err, what) => log.warn({ err }, `cluster: ${what} failed`),
      });
      const ctl = (subject: string, answer: (body: Record<string, unknown>) => Promise<unknown>): void => {
        subs.push(control.subscribe(subject, {
          callback: (_err, msg) => {
            answer(requestBody(msg.string())).then((v) => msg.respond(JSON.stringify(v)), (err: unknown) => msg.respond(JSON.stringify({ error: String(err) })));
          },
        }));
      };
      ctl(link.subject('drain', config.node.id), async (body) => {
        const timeoutMs = typeof body.timeoutMs === 'number' && body.timeoutMs > 0 ? Math.min(body.timeoutMs, MAX_DRAIN_MS) : undefined;
        return { node: config.node.id, remaining: await coordinator!.drain(timeoutMs) };
      });
      ctl(link.subject('undrain', config.node.id), async () => { coordinator!.draining = false; return { node: config.node.id, draining: false }; });
      ctl(link.subject('rebalance'), async () => {
        await coordinator!.round();
        await coordinator!.settled();
        return { node: config.node.id, held: coordinator!.held().length };
      });
      coordinator.start();
      log.info({ node: config.node.id, nats: c.natsUrl, cluster: c.name, shards: c.shards }, 'cluster mode: coordinating shards over NATS');
    },
    async stop(handOff) {
      for (const s of subs) s.unsubscribe();
      pushback.stop();
      pushbackSub.unsubscribe();
      await coordinator?.stop(handOff);
      view.stop();
      silences.stop();
      runbooks.stop();
    },
    async close() {
      await nc.drain().catch(() => undefined);
      await control.drain().catch(() => undefined);
    },
  };
}
