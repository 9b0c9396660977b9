// Shard hosts' level of the actor tree (cluster mode): one supervisor per owned shard
// (`/root/shards/<shard>`), each a tenants supervisor for the tenants of that shard, started
// with the detector state of the shard's snapshot and stopped when the shard is handed off.
// It takes the same messages as the single node's `tenants` actor, so the engine and the
// checkpoints talk to either alike; a message for a shard this node does not hold is dropped
// (an ingest's receipt dropped: its samples leave the backlog, its `stored` rejects, so no
// watermark passes it and the batch stays in the log for the owner).
//
// Between taking a shard's lease and its `open-shard` (the snapshot read, the log's end
// asked for) the node already answers for the shard's tenants: a call routed to it then (an
// alert, a silence, an acknowledgement) waits here until the shard opens, and is handled
// there. Dropped, it went unanswered until its asker gave up (504 after 5 s).
import type { ActorContext, Behavior } from '../actors/runtime/index.ts';
import { SNAPSHOT_ASK_TIMEOUT_MS, tenantsBehavior, type TenantMsg, type TenantsDeps, type TenantsMsg, type TenantSnapshots } from '../actors/tenant/index.ts';

export type ShardsMsg =
  | TenantsMsg
  | { type: 'open-shard'; shard: number; restored: TenantSnapshots; reply: (ok: true) => void }
  | { type: 'close-shard'; shard: number; reply: (ok: true) => void };

export interface ShardsDeps extends Omit<TenantsDeps, 'restored'> {
  shardOf(tenant: string): number;
  /** the node holds the shard's lease (its `open-shard` is coming); absent: never */
  opening?(shard: number): boolean;
}

/** Messages held for one opening shard at most; past it they are dropped as for a shard held elsewhere. */
export const MAX_HELD_PER_OPENING_SHARD = 10_000;

/** Messages for shards whose lease this node holds and which have not opened yet, by shard. */
type ToTenant = Extract<TenantsMsg, { type: 'to-tenant' }>;
type Held = Map<number, ToTenant[]>;

const childName = (shard: number): string => String(shard);

export function shardsBehavior(deps: ShardsDeps): Behavior<ShardsMsg, Held> {
  const tenantsOf = (ctx: ActorContext<ShardsMsg>, tenant: string) => ctx.child<TenantsMsg>(childName(deps.shardOf(tenant)));

  const snapshot = async (ctx: ActorContext<ShardsMsg>, msg: Extract<TenantsMsg, { type: 'snapshot' }>): Promise<Map<string, Uint8Array[]>> => {
    const byShard = new Map<number, string[]>();
    for (const t of msg.tenants) {
      const s = deps.shardOf(t);
      byShard.set(s, [...(byShard.get(s) ?? []), t]);
    }
    const out = new Map<string, Uint8Array[]>();
    await Promise.all([...byShard].map(async ([shard, names]) => {
      const ref = ctx.child<TenantsMsg>(childName(shard));
      if (!ref) return;
      const got = await ref.ask<Map<string, Uint8Array[]>>((reply) => ({ type: 'snapshot', tenants: names, pack: msg.pack, reply }), SNAPSHOT_ASK_TIMEOUT_MS);
      for (const [t, s] of got) out.set(t, s);
    }));
    return out;
  };

  return {
    kind: 'shard-supervisor',
    supervision: deps.supervision,
    init: () => new Map(),
    receive(state, msg, ctx) {
      switch (msg.type) {
        case 'open-shard': {
          const name = childName(msg.shard);
          if (!ctx.child(name)) ctx.spawn(name, tenantsBehavior({ ...deps, restored: msg.restored }));
          const ref = ctx.child<TenantsMsg>(name)!;
          for (const m of state.get(msg.shard) ?? []) ref.tell(m);
          state.delete(msg.shard);
          msg.reply(true);
          return state;
        }
        case 'close-shard':
          ctx.stopChild(childName(msg.shard));
          for (const m of state.get(msg.shard) ?? []) dropped(m.msg);
          state.delete(msg.shard);
          msg.reply(true);
          return state;
        case 'snapshot':
          // Asked before this turn ends, gathered outside it (as the tenants supervisor does). No
          // answer: the checkpoint's own ask fails (see SNAPSHOT_ASK_TIMEOUT_MS). A crash here
          // restarted this actor with no shard children, and every later batch was dropped.
          snapshot(ctx, msg).then((s) => msg.reply(s), (err: unknown) => ctx.log.warn({ err }, 'a shard did not give its state: this checkpoint fails'));
          return state;
        case 'broadcast':
          for (const name of ctx.children()) ctx.child<TenantsMsg>(name)?.tell(msg);
          return state;
        case 'to-tenant': {
          const ref = tenantsOf(ctx, msg.tenant);
          if (ref) ref.tell(msg);
          else hold(state, deps.shardOf(msg.tenant), msg, deps);
          return state;
        }
      }
    },
  };
}

/**
 * A message for a shard with no actors here: kept for an opening shard (not an ingest: that
 * batch is in the log, read again once the shard opens), dropped otherwise. A shard whose
 * lease is gone again lets go of what it kept.
 */
function hold(held: Held, shard: number, msg: ToTenant, deps: ShardsDeps): void {
  const opening = deps.opening?.(shard) ?? false;
  const kept = held.get(shard);
  if (!opening && kept) {
    for (const m of kept) dropped(m.msg);
    held.delete(shard);
  }
  if (!opening || msg.msg.type === 'ingest') return dropped(msg.msg);
  if (!kept) held.set(shard, [msg]);
  else if (kept.length < MAX_HELD_PER_OPENING_SHARD) kept.push(msg);
  else dropped(msg.msg);
}

/** A message for a shard held elsewhere: nothing waits on it forever. */
function dropped(msg: TenantMsg): void {
  if (msg.type === 'ingest') msg.receipt?.drop(); // not stored: the watermark must not pass it
  else if (msg.type === 'set-status') msg.reply(undefined);
  else if (msg.type === 'snapshot') msg.reply([]);
}
