// Cluster mode of a node (config `cluster.enabled`): the ingest log is the JetStream stream,
// snapshots live in a NATS KV bucket (any node can restore any shard), the actor tree hosts one
// supervisor per owned shard, and the shard coordinator (cluster/coordinator.ts) takes, hands
// off and loses shards by their leases. compose.ts asks this module at a few points only.
import { connect } from '@nats-io/transport-node';
import type { ActorRef, Behavior, Clock } from '../actors/runtime/index.ts';
import type { TenantsDeps } from '../actors/tenant/index.ts';
import type { Logger } from 'pino';
import {
  ClusterLink, JetStreamIngestLog, KvSnapshotStore, restoredState, shardOf, shardsBehavior, ShardCoordinator,
  type Checkpoints, type IngestLog, type LogRecord, type ShardHosts, type ShardsMsg, type VigilConfig,
} from '../cluster/index.ts';

export interface ClusterMode {
  log: IngestLog;
  snapshots: KvSnapshotStore;
  link: ClusterLink;
  tenantsBehavior(deps: TenantsDeps): Behavior<ShardsMsg, null>;
  /** whether this node holds the lease of the tenant's shard (writes for others are refused) */
  holdsTenant(tenant: string): boolean;
  fence: { token(shard: number): number; holds(shard: number): boolean };
  /** a record this node reads again (it was in the log before the shard came here): a checked write */
  isReplay(record: LogRecord): boolean;
  start(parts: { shardsRef: ActorRef<ShardsMsg>; hosts: ShardHosts; checkpoints: Checkpoints; address: string }): void;
  /** Hands every shard off (a clean stop), then stops coordinating. */
  stop(handOff: boolean): Promise<void>;
  /** Closes the NATS connection (after the stores, which read the log through it). */
  close(): Promise<void>;
  coordinator(): ShardCoordinator | undefined;
  /** Where the node's pinned tenants come from, read at every heartbeat (default: cluster.pinnedTenants); set before start. */
  pinWith(pinned: () => string[]): void;
}

const PENDING_WAIT_MS = 10_000;

export async function openClusterMode(config: VigilConfig, clock: Clock, log: Logger): Promise<ClusterMode> {
  const c = config.cluster;
  const servers = c.natsUrl.split(',').map((s) => s.trim());
  const nc = await connect({ servers, name: `vigil-${config.node.id}`, maxReconnectAttempts: -1 });
  const link = await ClusterLink.open({ servers: c.natsUrl, name: c.name, deadAfterMs: c.deadAfterMs, leaseTtlMs: c.deadAfterMs, replicas: c.replicas }, nc);
  const ingest = await JetStreamIngestLog.open({ connection: nc, stream: `${c.name.toUpperCase().replace(/-/g, '_')}_INGEST`, subjectPrefix: `${c.name}.metrics`, shards: c.shards, replicas: c.replicas });
  const snapshots = await KvSnapshotStore.open(nc, c.name, c.replicas);
  const shardOfTenant = (t: string): number => shardOf(t, c.shards);
  const replayUntil = new Map<number, number>();
  let coordinator: ShardCoordinator | undefined;
  // tenants this node hosts exclusively: cluster.pinnedTenants and the large tenants naming it (node/tenancy.ts)
  let pinned = (): string[] => c.pinnedTenants;
  const subs: Array<{ unsubscribe(): void }> = [];

  return {
    log: ingest, snapshots, link,
    tenantsBehavior: (deps) => shardsBehavior({ ...deps, shardOf: shardOfTenant }),
    holdsTenant: (tenant) => coordinator?.holds(shardOfTenant(tenant)) ?? false,
    fence: { token: (s) => coordinator?.token(s) ?? 0, holds: (s) => coordinator?.holds(s) ?? false },
    isReplay: (record) => record.position <= (replayUntil.get(record.shard) ?? 0),
    coordinator: () => coordinator,
    pinWith: (source) => { pinned = source; },
    start({ shardsRef, hosts, checkpoints, address }) {
      const close = async (shard: number): Promise<void> => {
        await shardsRef.ask((reply) => ({ type: 'close-shard', shard, reply }), 30_000);
        hosts.drop(shard);
        checkpoints.forget(shard);
        replayUntil.delete(shard);
      };
      coordinator = new ShardCoordinator({
        link, clock, shards: c.shards, shardOf: shardOfTenant,
        self: { id: config.node.id, address, capacity: c.capacity, zone: c.zone, get pinnedTenants() { return pinned(); } },
        heartbeatMs: c.heartbeatMs, deadAfterMs: c.deadAfterMs, leaseTtlMs: c.deadAfterMs, moveFraction: c.moveFraction,
        ...(c.ownershipLog ? { ownershipLog: c.ownershipLog } : {}),
        async acquired(shard) {
          const latest = await snapshots.latest(shard);
          const { state, resume } = restoredState(latest ? new Map([[shard, latest]]) : new Map());
          const at = resume.get(shard);
          replayUntil.set(shard, await ingest.lastPosition(shard));
          await shardsRef.ask((reply) => ({ type: 'open-shard', shard, restored: state, reply }), 30_000);
          if (at) checkpoints.restored(shard, at.position);
          hosts.start(shard, at?.position ?? 0, at?.tenants ?? []);
        },
        async handOff(shard) {
          await hosts.stopShard(shard);
          const until = clock.now() + PENDING_WAIT_MS;
          while (hosts.pending(shard) > 0 && clock.now() < until) await new Promise((r) => setTimeout(r, 20));
          await checkpoints.take(); // the shard's last snapshot, fenced by its lease
          await close(shard);
        },
        async lost(shard) {
          await hosts.stopShard(shard);
          await close(shard);
        },
        onError: (err, what) => log.warn({ err }, `cluster: ${what} failed`),
      });
      const ctl = (subject: string, answer: () => Promise<unknown>): void => {
        subs.push(nc.subscribe(subject, {
          callback: (_err, msg) => {
            answer().then((v) => msg.respond(JSON.stringify(v)), (err: unknown) => msg.respond(JSON.stringify({ error: String(err) })));
          },
        }));
      };
      ctl(link.subject('drain', config.node.id), async () => ({ node: config.node.id, remaining: await coordinator!.drain() }));
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
      await coordinator?.stop(handOff);
    },
    async close() {
      await nc.drain().catch(() => undefined);
    },
  };
}
