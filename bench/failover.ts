// bench:failover — kill-and-recover rounds under a steady load (issue 8).
//
//   npm run bench:failover -- [--rounds N] [--rate S] [--json]
//
// A nats-server of its own (JetStream, file store), three Vigil node processes in cluster mode
// (256 shards) and a steady load of --rate samples/s (default 20,000) sent over HTTP as
// protobuf batches to the live nodes (test/support/cluster-load.ts: a failed request is sent
// again, same bytes, to the next node, until acknowledged). Each of --rounds rounds (default
// 10): kill -9 of one node (in turn), the time until every shard it held has a new owner in
// the lease bucket (polled every 100 ms), then the node restarted (same id, fresh data folder)
// and the time until it holds shards again, then a few seconds of steady load.
// At the end the load stops (every sample made is acknowledged), the bench waits until every
// shard's snapshot covers its log (as long as shards go on moving; it gives up after 120 s
// in which no behind shard moved on), stops the nodes and counts per series what was
// acknowledged against what the stores of every node incarnation hold, the killed ones'
// too (test/support/vigil-cluster.ts lossReport and census, the failover test's own code);
// double ownership is read from every incarnation's ownership log.
// Last stdout line: JSON with failover_p50_s, failover_max_s, acked_lost, double_owned.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterLink, ClusterView, shardOf, shardPositions, type OwnerEntry } from '../cluster/index.ts';
import { startNatsServer } from '../test/support/nats-server.ts';
import { eventually } from '../test/support/node-process.ts';
import { SteadyLoad } from '../test/support/cluster-load.ts';
import { doubleOwned, loadTenants, lossReport, SHARDS, VigilCluster, type ClusterNode } from '../test/support/vigil-cluster.ts';
import { percentile, round } from './ingest/client.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '20000' },
    'steady-s': { type: 'string', default: '8' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});
const ROUNDS = Number(args.rounds);
const RATE = Number(args.rate);
const STEADY_MS = Number(args['steady-s']) * 1000;
const METRICS = 4;
const TENANTS = Math.max(3, Math.round(RATE / 200 / METRICS)); // 200 samples/s per series: data time = wall time
const NAME = 'fobench';
const IDS = ['node-1', 'node-2', 'node-3'];
const t0 = Date.now();
/** progress: stdout, or stderr with --json (stdout's last line is the JSON) */
const log = (line: string): void => { (args.json ? process.stderr : process.stdout).write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}\n`); };

function heldBy(owners: Map<number, OwnerEntry>, node: string): number[] {
  return [...owners].filter(([, o]) => o.node === node).map(([s]) => s);
}

const nats = await startNatsServer();
const tenants = loadTenants(TENANTS);
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-failover-'));
let incarnation = 0;
// each incarnation of a node writes its own ownership log (the same id comes back after a kill)
const cluster = new VigilCluster(NAME, tenants, (c) => { c.cluster.ownershipLog = join(dir, `${c.node.id}.${incarnation}.jsonl`); });
const link = await ClusterLink.open({ servers: nats.url, name: NAME, deadAfterMs: 3_000, leaseTtlMs: 3_000, replicas: 1 });
// owners as the lease bucket's watch pushes them (a listing of a TTL bucket can wait for entries already gone)
const view = new ClusterView(link.nodesKv, link.leasesKv, 3_000, () => undefined);
await view.start();
const owners = async (): Promise<Map<number, OwnerEntry>> => view.owners(Date.now());
const incarnations: Array<{ node: ClusterNode; tag: string }> = [];

/** Nodes that exited without being killed by the bench (a crash): what they said last. */
const unexpectedExits: string[] = [];

async function start(id: string): Promise<ClusterNode> {
  incarnation++;
  const node = await cluster.start(id, nats.url);
  node.ownershipLog = join(dir, `${id}.${incarnation}.jsonl`);
  const tag = `${id}#${incarnation}`;
  incarnations.push({ node, tag });
  node.process.child.once('exit', (code, signal) => {
    if (node.endedAt !== undefined || stopping.has(node)) return; // killed or stopped by the bench
    node.endedAt = Date.now(); // (a stop would wait for an exit that already happened)
    const why = `${tag} exited by itself (${signal ?? `code ${code}`}): ${node.process.stderr().trim().split('\n').slice(-3).join(' | ').slice(0, 600)}`;
    unexpectedExits.push(why);
    log(why);
  });
  return node;
}

const stopping = new Set<ClusterNode>();
let emptyRounds = 0;
const FAILOVER_LIMIT_MS = 120_000;
/** the wait for every shard to be processed to the end gives up only after this long without progress */
const CATCH_UP_STUCK_MS = 120_000;
const incomplete: Array<{ round: number; node: string; shards: number; without_new_owner: number }> = [];

/** Stops every live incarnation, each by its own process. */
async function stopLive(): Promise<void> {
  for (const n of cluster.live()) stopping.add(n);
  await cluster.stopAll();
}

/**
 * Until every shard's snapshot covers its log (processed to the end, stored, checkpointed): the
 * loss is counted only then. It gives up only when no behind shard has moved on for
 * `stuckMs` (a shard nobody processes), and says which shards and who owns them.
 */
async function caughtUp(stuckMs: number): Promise<number[]> {
  let behind: number[] = [];
  let progressAt = Date.now();
  let last = new Map<number, number>();
  while (Date.now() - progressAt < stuckMs) {
    const at = await shardPositions(nats.url, NAME, Array.from({ length: SHARDS }, (_, i) => i));
    behind = [...at.values()].filter((p) => p.logEnd > 0 && p.snapshot < p.logEnd).map((p) => p.shard);
    if (behind.length === 0) return [];
    const now = new Map(behind.map((s) => [s, at.get(s)!.snapshot]));
    if (behind.some((s) => (last.get(s) ?? -1) < now.get(s)!) || behind.length < last.size) progressAt = Date.now();
    last = now;
    const o = await owners();
    const unowned = behind.filter((s) => !o.has(s));
    log(`  ${behind.length} shard(s) not yet covered by their snapshot${unowned.length > 0 ? ` (${unowned.length} without an owner: ${unowned.slice(0, 10).join(', ')})` : ''}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  return behind;
}

/** Ownership intervals two incarnations shared, from every log (an incarnation is a node of its own there). */
let ownershipEvents = 0;
function doubleOwnedAll(): string[] {
  const logs: string[] = [];
  const ended = new Map<string, number>();
  for (const { node, tag } of incarnations) {
    const file = join(dir, `${tag.replace('#', '.')}.tagged.jsonl`);
    let text = '';
    try {
      text = readFileSync(node.ownershipLog, 'utf8');
    } catch { /* took no shard */ }
    ownershipEvents += text.split('\n').filter(Boolean).length;
    writeFileSync(file, text.split('\n').filter(Boolean).map((l) => JSON.stringify({ ...JSON.parse(l) as object, node: tag })).join('\n'));
    logs.push(file);
    if (node.endedAt !== undefined) ended.set(tag, node.endedAt);
  }
  return doubleOwned(logs, ended);
}

let load: SteadyLoad | undefined;
try {
  log(`nats-server ${nats.url}; starting ${IDS.length} nodes; load ${RATE} samples/s over ${TENANTS} tenants x ${METRICS} series; load average ${loadavg()[0]!.toFixed(1)}`);
  for (const id of IDS) await start(id);
  log(`nodes started: ${cluster.live().map((n) => `${n.id} ${n.url} pid ${n.process.pid}`).join(', ')}`);
  await eventually(async () => {
    const o = await owners();
    return o.size === SHARDS && IDS.every((id) => heldBy(o, id).length > 0) ? o : undefined;
  }, 180_000, 500);
  log('every shard owned, every node holding some; load starts');

  const startTs = Date.now();
  load = new SteadyLoad({ tenants, metrics: METRICS, rate: RATE, startTs, targets: () => cluster.live().map((n) => n.url) });
  load.start();
  await new Promise((r) => setTimeout(r, STEADY_MS + 5_000)); // snapshots taken meanwhile (every 5 s)

  const failovers: number[] = [];
  const rejoins: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // the next node in turn, once it holds shards again (a node with none has no failover to time)
    const id = IDS[r % IDS.length]!;
    const victim = cluster.live().find((n) => n.id === id)!;
    const theirs = await eventually(async () => {
      const held = heldBy(await owners(), id);
      return held.length > 0 ? held : undefined;
    }, 120_000, 250).catch(() => []);
    if (theirs.length === 0) {
      emptyRounds++;
      log(`round ${r + 1}: ${id} held no shard for 120 s; no failover to time, round skipped`);
      continue;
    }
    victim.process.kill();
    const killedAt = Date.now();
    victim.endedAt = killedAt;
    const done = await eventually(async () => {
      const o = await owners();
      return theirs.every((s) => o.has(s) && o.get(s)!.node !== id) ? true : undefined;
    }, FAILOVER_LIMIT_MS, 100).catch(() => false);
    const failoverS = (Date.now() - killedAt) / 1000;
    failovers.push(failoverS); // an incomplete one counts at the limit: a lower bound
    if (!done) {
      const o = await owners();
      const orphans = theirs.filter((s) => !o.has(s) || o.get(s)!.node === id);
      incomplete.push({ round: r + 1, node: id, shards: theirs.length, without_new_owner: orphans.length });
      log(`round ${r + 1}: kill -9 ${id}: ${orphans.length} of its ${theirs.length} shards still without a new owner after ${FAILOVER_LIMIT_MS / 1000} s (${orphans.slice(0, 10).join(', ')}…)`);
    }
    const restartAt = Date.now();
    await start(id);
    const rejoined = await eventually(async () => (heldBy(await owners(), id).length > 0 ? true : undefined), 180_000, 250).catch(() => false);
    rejoins.push((Date.now() - restartAt) / 1000);
    if (!rejoined) log(`round ${r + 1}: the restarted ${id} holds no shard after 180 s`);
    log(`round ${r + 1}: kill -9 ${id} (${theirs.length} shards): ${done ? 'all re-owned in' : 'not all re-owned after'} ${failoverS.toFixed(2)} s; restarted, holding shards again ${rejoins.at(-1)!.toFixed(1)} s later; load ${loadavg()[0]!.toFixed(1)}`);
    await new Promise((res) => setTimeout(res, STEADY_MS));
  }

  const steady = load.rateBetween(5, Math.floor(load.elapsedS()));
  const drained = await load.stop(180_000);
  if (!drained) throw new Error(`the load could not get every sample acknowledged: ${load.errors.slice(-3).join(' | ')}`);
  log('load stopped; waiting until every shard\'s snapshot covers its log');
  const behind = await caughtUp(CATCH_UP_STUCK_MS);
  log(behind.length > 0
    ? `shards still not covered by their snapshot, none of them moving on for ${CATCH_UP_STUCK_MS / 1000} s (their samples count as lost if no store has them): ${behind.join(', ')}; stopping the nodes`
    : 'every shard covered; stopping the nodes');
  await stopLive();
  log('nodes stopped; reading every incarnation\'s store');
  const stores = await cluster.census(); // every incarnation's store (a restarted id's earlier ones as id#k)
  const report = lossReport(load.acked(), startTs, stores.values());
  const double = doubleOwnedAll();

  const sorted = [...failovers].sort((a, b) => a - b);
  log(`acknowledged ${report.acked}, stored (distinct, all incarnations) ${report.stored}, lost ${report.lost}; stored twice by a node: ${report.doubled.length}`);
  log(`longest time without an acknowledgement: ${(load.stats.longestGapMs / 1000).toFixed(1)} s; requests sent again: ${load.stats.failures}`);
  for (const d of double.slice(0, 5)) log(`two owners: ${d}`);
  process.stdout.write(`${JSON.stringify({
    failover_p50_s: round(percentile(sorted, 50)),
    failover_max_s: round(sorted.at(-1) ?? 0),
    acked_lost: report.lost,
    double_owned: double.length,
    ownership_events: ownershipEvents,
    rounds: ROUNDS,
    rounds_without_shards: emptyRounds,
    failovers_incomplete: incomplete,
    shards_behind_at_end: behind.length,
    // of acked_lost, the samples of tenants whose shard was still behind (acknowledged, in the stream, not processed)
    lost_in_shards_behind: Object.entries(report.lostBySeries).filter(([k]) => behind.includes(shardOf(k.split('/')[0]!, SHARDS))).reduce((a, [, n]) => a + n, 0),
    failovers_s: failovers.map((f) => round(f)),
    rejoin_p50_s: round(percentile([...rejoins].sort((a, b) => a - b), 50)),
    rate_target: RATE,
    rate_acked_steady: Math.round(steady),
    acked: report.acked,
    stored: report.stored,
    stored_twice_series: report.doubled.length,
    refused: load.stats.refused,
    longest_ack_gap_s: round(load.stats.longestGapMs / 1000),
    unexpected_exits: unexpectedExits.length,
    retried_requests: load.stats.failures,
    nodes: IDS.length,
    shards: SHARDS,
    load_avg_1m: round(loadavg()[0]!),
  })}\n`);
} finally {
  await load?.stop(1_000).catch(() => undefined);
  await stopLive().catch(() => undefined);
  view.stop();
  await link.close();
  await nats.stop();
}
process.exit(0);
