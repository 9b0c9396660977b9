// Drain under a steady load (real processes: own nats-server, three node processes; the drain
// asked over NATS through ClusterControl, as `vigil ctl drain` does). Every shard leaves the
// drained node; every acknowledged sample is in some node's store afterwards; no shard had two
// owners; and a fault that goes on through the hand-off stays one incident: the shard's last
// snapshot carries its open incidents, and the new owner's correlator goes on with them (before,
// the new owner opened a second incident for the same fault).
import { strict as assert } from 'node:assert';
import { ClusterControl, shardOf } from '../cluster/index.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';
import { eventually } from './support/node-process.ts';
import { SteadyLoad } from './support/cluster-load.ts';
import { caughtUp, loadTenants, lossReport, SHARDS, VigilCluster } from './support/vigil-cluster.ts';
import { explainLoss } from './support/loss-detail.ts';

const NAME = 'drain';
const RATE = Number(process.env.VIGIL_CLUSTER_TEST_RATE ?? 10_000);
const METRICS = 4;
const TENANTS = Math.max(3, Math.round(RATE / 200 / METRICS));
const SPIKE = 1_000;

interface Incident { id: string; alertIds: string[]; status: string }

async function incidentsOf(url: string, key: string): Promise<Incident[]> {
  const r = await fetch(`${url}/v1/incidents?limit=100`, { headers: { authorization: `Bearer ${key}` } });
  return ((await r.json()) as { incidents: Incident[] }).incidents;
}

describe('cluster drain: every shard off a node under load, nothing lost, one incident per fault (multi-process)', function () {
  this.timeout(600_000);
  const tenants = loadTenants(TENANTS);
  const cluster = new VigilCluster(NAME, tenants, undefined, { trace: true });
  let nats: NatsServer;
  let control: ClusterControl;
  let load: SteadyLoad | undefined;
  let spikes: NodeJS.Timeout | undefined;

  before(async () => {
    nats = await startNatsServer();
    for (const id of ['node-1', 'node-2', 'node-3']) await cluster.start(id, nats.url);
    control = await ClusterControl.open({ servers: nats.url, name: NAME });
    await eventually(async () => {
      const rows = await control.shards();
      return new Set(rows.filter((r) => r.node).map((r) => r.shard)).size === SHARDS && new Set(rows.map((r) => r.node)).size === 3 ? rows : undefined;
    }, 120_000, 500);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(cluster.logs(40), `\n      all node logs: ${cluster.saveLogs()}`);
  });

  after(async () => {
    clearInterval(spikes);
    await load?.stop(1_000);
    await control?.close();
    await cluster.stopAll();
    await nats?.stop();
  });

  it('ctl drain hands every shard off; no acknowledged sample lost, no shard with two owners, no second incident', async () => {
    // a complete table: a shard moving between two rounds may be missing from one read
    const shards = await eventually(async () => {
      const rows = await control.shards();
      return new Set(rows.filter((r) => r.node).map((r) => r.shard)).size === SHARDS ? rows : undefined;
    }, 60_000, 200);
    const ownerOf = (tenant: string): string => shards.find((r) => r.shard === shardOf(tenant, SHARDS))!.node;
    // the drained node: the one hosting the most of the load's tenants; the fault is on one of them
    const hosting = new Map<string, number>();
    for (const t of tenants) hosting.set(ownerOf(t.id), (hosting.get(ownerOf(t.id)) ?? 0) + 1);
    const drained = [...hosting].sort((a, b) => b[1] - a[1])[0]![0];
    const faulty = tenants.find((t) => ownerOf(t.id) === drained)!;

    const startTs = Date.now();
    load = new SteadyLoad({ tenants, metrics: METRICS, rate: RATE, startTs, targets: () => cluster.live().map((n) => n.url) });
    load.start();
    // one fault: every second a spike on one of the faulty tenant's series, through the hand-off
    await new Promise((r) => setTimeout(r, 5_000));
    let next = 0;
    const spikeTimes: number[] = [];
    spikes = setInterval(() => { spikeTimes.push(load!.spike(faulty.id, next++ % METRICS, SPIKE)); }, 1_000);
    const before = await eventually(async () => {
      const open = (await incidentsOf(cluster.node(drained).url, faulty.key)).filter((i) => i.status !== 'resolved');
      return open.length > 0 ? open : undefined;
    }, 60_000, 500);

    const drainFrom = Date.now();
    const result = await control.drain(drained);
    const drainS = (Date.now() - drainFrom) / 1000;
    const left = await control.shards(drained);
    const nodes = await control.nodes();
    // the others take what it released on their next round
    const owned = await eventually(async () => {
      const rows = await control.shards();
      return new Set(rows.filter((r) => r.node).map((r) => r.shard)).size === SHARDS && rows.every((r) => r.node !== drained) ? rows : undefined;
    }, 60_000, 100);
    const reownedS = (Date.now() - drainFrom) / 1000;
    const newOwner = owned.find((r) => r.shard === shardOf(faulty.id, SHARDS))!.node;

    // the fault goes on: a spike after the hand-off is flagged by the new owner
    const after = Date.now();
    const flaggedAfter = await eventually(async () => {
      const r = await fetch(`${cluster.node(newOwner).url}/v1/anomalies?from=${after}&limit=10`, { headers: { authorization: `Bearer ${faulty.key}` } });
      const body = (await r.json()) as { anomalies: Array<{ timestamp: number }> };
      return body.anomalies.length > 0 ? body.anomalies : undefined;
    }, 60_000, 500);
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(spikes);
    const drainedLoad = await load.stop(120_000);
    assert.ok(drainedLoad, `the load could not get every sample acknowledged: ${load.errors.slice(-3).join(' | ')}`);
    await caughtUp(nats.url, NAME);
    await cluster.stopAll();
    const stores = await cluster.census();
    const report = lossReport(load.acked(), startTs, stores.values());
    const incidentIds = new Set([...stores.values()].flatMap((c) => c.incidents.filter((i) => i.tenant === faulty.id).map((i) => i.id)));
    const onNewOwner = stores.get(newOwner)!.incidents.filter((i) => i.tenant === faulty.id);

    console.log(`      load: ${TENANTS} tenants x ${METRICS} series at ${RATE}/s; drained ${drained} (${shards.filter((r) => r.node === drained).length} shards) in ${drainS.toFixed(1)} s (${result.remaining} left), all ${SHARDS} owned again ${reownedS.toFixed(1)} s after the request; the fault's shard went to ${newOwner}`);
    console.log(`      incident before the drain: ${before.map((i) => `${i.id} (${i.alertIds.length} alerts)`).join(', ')}; after, on ${newOwner}: ${onNewOwner.map((i) => `${i.id} (${i.alerts} alerts, ${i.status})`).join(', ')}`);
    console.log(`      acknowledged ${report.acked}, stored (distinct, all nodes) ${report.stored}, lost ${report.lost}; spikes sent ${spikeTimes.length}; longest ack gap ${load.stats.longestGapMs} ms`);

    assert.equal(result.remaining, 0, 'the drain answered with nothing left');
    assert.deepEqual(left, [], 'the drained node holds no shard');
    assert.ok(nodes.find((n) => n.id === drained)?.draining, 'the drained node shows as draining');
    assert.ok(flaggedAfter.length > 0);
    assert.equal(load.stats.refused, 0, 'no batch refused');
    assert.deepEqual(report.lostBySeries, {}, `every acknowledged sample is stored\n${explainLoss({ report, journal: load.journal, ownership: cluster.ownership(), nodes: cluster.nodes, zero: startTs, marks: { drain: drainFrom } })}`);
    assert.deepEqual(report.doubled, [], 'no node stores a sample twice');
    assert.deepEqual(cluster.doubleOwned(), [], 'no shard had two owners');
    assert.deepEqual([...incidentIds], [before[0]!.id], 'the fault is one incident on every node');
    assert.ok(onNewOwner.length === 1 && onNewOwner[0]!.alerts > before[0]!.alertIds.length, 'the new owner went on with the incident (more alerts joined it)');
  });
});
