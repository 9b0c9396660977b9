// The lease renewer's thread (lease-keeper.ts starts it): renews the node's shard leases on a
// NATS connection and an event loop of its own, so a main thread busy with batches, or starved
// of CPU, no longer lets them lapse. Plain JavaScript: a worker gets no TypeScript loader when
// the node registered it in its own thread only (cli/bin/vigil.js).
//
// It also sends the node's heartbeat (the main thread hands its content over each round), so a
// busy node is not taken for dead while its leases are kept.
//
// What it knows comes from the main thread by message (keep / drop / announce / stop); what it learns goes
// back through shared memory, which only this thread writes per shard (slots: token, revision,
// renewedAt, status) and which the main thread reads when it checks a lease. It stops renewing
// when the main thread has not ticked for `stallMs`: a node whose loop is hung gives its shards
// up. The heartbeat goes on (the process is alive; its rounds place nothing while its own view is stale).
import { parentPort, workerData } from 'node:worker_threads';
import { clearTimeout, setTimeout } from 'node:timers';
import { TextEncoder } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';

const { servers, name, shards, heartbeatMs, ttlMs, marginMs, stallMs, buffer } = workerData;
const slots = new BigInt64Array(buffer);
const SLOT = 4;
const HELD = 1n;
const LOST = 2n;
const aliveSlot = shards * SLOT;
const enc = new TextEncoder();
/** shard → { node, token, revision, renewedAt } */
const kept = new Map();
let stopped = false;
let timer;

function write(shard, lease, status) {
  const at = shard * SLOT;
  Atomics.store(slots, at, BigInt(lease.token));
  Atomics.store(slots, at + 1, BigInt(lease.revision));
  Atomics.store(slots, at + 2, BigInt(lease.renewedAt));
  Atomics.store(slots, at + 3, status);
}

function lose(shard, lease) {
  kept.delete(shard);
  write(shard, lease, LOST);
}

/** Refused by the server (the entry is another holder's now, or gone), as opposed to no answer yet. */
function refused(err) {
  return err?.code === 10071 || err?.api_error?.err_code === 10071 || /wrong last sequence|key not found|not found/i.test(String(err?.message ?? ''));
}

// noAsyncTraces, as on the node's own connections (node/cluster-mode.ts): a node holding all 256
// shards renews 512 leases a second, and a stack captured for each request was a fifth of this
// thread's time; without it the thread of an idle processing node took 3.8-4.0% of a core
// instead of 5.4-7.9%. A refusal is told by its code and message (refused()), never by its stack.
const nc = await connect({ servers, name: `vigil-${name}-leases`, maxReconnectAttempts: -1, noAsyncTraces: true });
const kvm = new Kvm(nc);
const kv = await kvm.open(`${name}_leases`);
const nodesKv = await kvm.open(`${name}_nodes`);
/** the heartbeat to send (without `at`), as the main thread last announced it */
let beat;
let beatSentAt = 0;

async function heartbeat() {
  if (!beat) return;
  const at = Date.now();
  beatSentAt = at;
  try {
    await nodesKv.put(beat.id, enc.encode(JSON.stringify({ ...beat, at })), { timeout: ttlMs });
  } catch (err) {
    parentPort.postMessage({ type: 'error', what: 'heartbeat', message: String(err?.message ?? err) });
  }
}

async function renew(shard, lease) {
  const sentAt = Date.now();
  const until = lease.renewedAt + ttlMs - marginMs;
  if (sentAt >= until) return lose(shard, lease);
  try {
    const revision = await kv.update(`shard.${shard}`, enc.encode(JSON.stringify({ node: lease.node, token: lease.token })), lease.revision, Math.max(100, until - sentAt));
    if (kept.get(shard) !== lease) return; // dropped (or taken anew) meanwhile
    // answered after the lease's validity ended: the main thread may have read it as lapsed and
    // dropped a batch's effects meanwhile; a lease seen lapsed must never read as held again
    // (its checkpoint would then acknowledge the log past that batch)
    if (Date.now() >= until) return lose(shard, lease);
    lease.revision = revision;
    lease.renewedAt = sentAt;
    write(shard, lease, HELD);
  } catch (err) {
    if (kept.get(shard) !== lease) return;
    // no answer yet: tried again next tick while the lease is still valid
    if (refused(err) || Date.now() >= until) lose(shard, lease);
  }
}

let paused = false;
/**
 * A round is cut into this many slices, and a shard is renewed in slice `shard % SLICES`: each
 * lease is still renewed once a round, but 256 of them at once were a burst of updates that
 * the server, and every node that follows the leases, took in one go.
 */
const SLICES = 10;
let slice = 0;
/** shards whose renewal is unanswered yet */
const renewing = new Set();
let beating = false;

function tick() {
  const startedAt = Date.now();
  const silentMs = startedAt - Number(Atomics.load(slots, aliveSlot));
  if (silentMs > stallMs && !paused && kept.size > 0) {
    parentPort.postMessage({ type: 'error', what: 'renewing leases', message: `the main thread has been silent for ${silentMs} ms: ${kept.size} lease(s) no longer renewed, they lapse` });
  }
  paused = silentMs > stallMs;
  if (slice === 0 && !beating) {
    beating = true;
    void heartbeat().finally(() => { beating = false; });
  }
  // not awaited: a slow answer must not hold up the next slices' shards; a shard whose last
  // renewal is still unanswered waits for its next round
  for (const [shard, lease] of paused ? [] : kept) {
    if (shard % SLICES !== slice || renewing.has(shard)) continue;
    renewing.add(shard);
    void renew(shard, lease).finally(() => renewing.delete(shard));
  }
  slice = (slice + 1) % SLICES;
  if (!stopped) timer = setTimeout(tick, Math.max(0, startedAt + heartbeatMs / SLICES - Date.now()));
}

parentPort.on('message', (msg) => {
  if (msg.type === 'keep') {
    const lease = { node: msg.node, token: msg.token, revision: msg.revision, renewedAt: msg.renewedAt };
    kept.set(msg.shard, lease);
    write(msg.shard, lease, HELD);
  } else if (msg.type === 'drop') {
    const lease = kept.get(msg.shard);
    kept.delete(msg.shard);
    if (lease) write(msg.shard, { ...lease, renewedAt: 0 }, 0n);
  } else if (msg.type === 'announce') {
    const changed = JSON.stringify(beat) !== JSON.stringify(msg.beat);
    beat = msg.beat;
    if (changed || Date.now() - beatSentAt > heartbeatMs) void heartbeat(); // the first, a change (draining, level), or ticks held up: now
  } else if (msg.type === 'stop') {
    stopped = true;
    clearTimeout(timer);
    kept.clear();
    void nc.close().catch(() => undefined).finally(() => {
      parentPort.postMessage({ type: 'stopped' });
      parentPort.close(); // nothing left: the thread ends
    });
  }
});
parentPort.postMessage({ type: 'ready' });
timer = setTimeout(tick, heartbeatMs / SLICES);
