// A partition (real processes): three nats-servers routed to each other through proxies in the
// test process, one Vigil node on each server and only that one. Cutting every route of the
// third server puts it and its Vigil node in the minority: the node can no longer renew its
// leases, so it stops owning its shards when they lapse, and the majority's nodes take them
// (after the lapse: no shard with two owners in the ownership logs). Under a steady load with
// a fault going on, nothing is processed twice for a client to see: no node stores a sample
// twice (rows, and the rollups a stepped query reads), nor an anomaly or an alert, and no alert
// is in two incidents over every node's store (a batch processed twice would yield the same
// derived ids again); every acknowledged sample is stored. Then the routes heal. The fault's
// incidents are printed: a node at L3 (its log unreachable) correlates nothing by design
// (each alert its own incident), which is degradation, not double processing.
//
// Network namespaces would need root and veth setup; cutting the routes is what the issue
// names as the alternative, and the clients' own connections stay up, as in a real split.
import { strict as assert } from 'node:assert';
import { ClusterControl, shardOf } from '../cluster/index.ts';
import { startNatsCluster, type NatsCluster } from './support/nats-cluster.ts';
import { eventually } from './support/node-process.ts';
import { SteadyLoad } from './support/cluster-load.ts';
import { caughtUp, loadTenants, lossReport, seenTwice, SHARDS, VigilCluster } from './support/vigil-cluster.ts';
import { explainLoss } from './support/loss-detail.ts';

const NAME = 'part';
const RATE = Number(process.env.VIGIL_CLUSTER_TEST_RATE ?? 10_000);
const METRICS = 4;
const TENANTS = Math.max(3, Math.round(RATE / 200 / METRICS));
const SPIKE = 1_000;
const MINORITY = 'node-3';

describe('cluster partition: the minority side stops owning shards when its leases lapse (multi-process)', function () {
  this.timeout(600_000);
  const tenants = loadTenants(TENANTS);
  const cluster = new VigilCluster(NAME, tenants, (c) => { c.cluster.replicas = 3; }, { trace: true });
  let nats: NatsCluster;
  let control: ClusterControl;
  let load: SteadyLoad | undefined;
  let spikes: NodeJS.Timeout | undefined;

  before(async () => {
    nats = await startNatsCluster(3);
    // node-i knows only server i: on the minority side it cannot reach the majority
    for (let i = 0; i < 3; i++) await cluster.start(`node-${i + 1}`, nats.servers[i]!.url);
    control = await ClusterControl.open({ servers: nats.servers[0]!.url, name: NAME }); // on the majority side
    await eventually(async () => {
      const rows = await control.shards();
      return rows.length === SHARDS && new Set(rows.map((r) => r.node)).size === 3 ? rows : undefined;
    }, 120_000, 500);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(cluster.logs(40), `\n      all node logs: ${cluster.saveLogs()}`);
  });

  after(async () => {
    clearInterval(spikes);
    nats?.heal();
    await load?.stop(1_000);
    await control?.close();
    await cluster.stopAll();
    await nats?.stop();
  });

  it('cut routes: the minority node gives its shards up, the majority takes them after the lapse, nothing twice for a client, nothing lost', async () => {
    const startTs = Date.now();
    load = new SteadyLoad({ tenants, metrics: METRICS, rate: RATE, startTs, targets: () => cluster.live().map((n) => n.url) });
    load.start();
    await new Promise((r) => setTimeout(r, 5_000));
    const shards = await control.shards();
    const ownerOf = (tenant: string): string | undefined => shards.find((r) => r.shard === shardOf(tenant, SHARDS))?.node;
    const faulty = tenants.find((t) => ownerOf(t.id) === MINORITY);
    assert.ok(faulty, `some tenant lives on ${MINORITY}`);
    let next = 0;
    spikes = setInterval(() => { load!.spike(faulty.id, next++ % METRICS, SPIKE); }, 1_000);
    await new Promise((r) => setTimeout(r, 10_000));

    const held = (await control.shards(MINORITY)).map((r) => r.shard);
    const cutAt = Date.now();
    nats.isolate(2);
    // the majority holds every shard once the minority's leases have lapsed
    const majority = await eventually(async () => {
      const rows = await control.shards();
      return rows.length === SHARDS && rows.every((r) => r.node !== MINORITY) ? rows : undefined;
    }, 120_000, 200);
    const takenS = (Date.now() - cutAt) / 1000;
    console.log(`      ${MINORITY} held ${held.length} shards at the cut; the majority held all ${SHARDS} ${takenS.toFixed(1)} s after it`);
    await new Promise((r) => setTimeout(r, 10_000)); // the load and the fault go on through the majority
    const lostByMinority = cluster.ownership().filter((e) => e.node === MINORITY && e.event === 'lost' && e.at >= cutAt);
    const ackedDuring = load.rateBetween(Math.ceil((cutAt - startTs) / 1000) + 5, Math.floor(load.elapsedS()));

    nats.heal();
    const healedAt = Date.now();
    const back = await eventually(async () => {
      const rows = await control.shards(MINORITY);
      return rows.length > 0 ? rows : undefined;
    }, 120_000, 500).catch(() => []);
    const backS = (Date.now() - healedAt) / 1000;
    console.log(`      after the heal ${MINORITY} held shards again ${back.length > 0 ? `${backS.toFixed(1)} s later (${back.length})` : 'not within 120 s'}`);
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(spikes);
    const drained = await load.stop(120_000);
    assert.ok(drained, `the load could not get every sample acknowledged: ${load.errors.slice(-3).join(' | ')}`);
    await caughtUp(nats.urls, NAME);
    await cluster.stopAll();
    const stores = await cluster.census();
    // the takeover from the nodes' own ownership logs (complete once they stopped): when the
    // listing above saw it late, this says whether the takeover or the listing was slow
    const ownership = cluster.ownership();
    const retaken = held.map((s) => ownership.find((e) => e.node !== MINORITY && e.shard === s && e.event === 'acquired' && e.at >= cutAt)?.at);
    const lastRetaken = retaken.every((at) => at !== undefined) ? Math.max(...(retaken as number[])) : undefined;
    const report = lossReport(load.acked(), startTs, stores.values());
    const incidentIds = new Set([...stores.values()].flatMap((c) => c.incidents.filter((i) => i.tenant === faulty.id).map((i) => i.id)));
    const twice = seenTwice(stores);

    console.log(`      load: ${TENANTS} tenants x ${METRICS} series at ${RATE}/s; ${MINORITY} held ${held.length} shards when its server's routes were cut`);
    console.log(`      the majority held all ${SHARDS} shards ${takenS.toFixed(1)} s after the cut (the nodes logged taking the last ${lastRetaken === undefined ? '(not every one logged)' : `${((lastRetaken - cutAt) / 1000).toFixed(1)} s after it`}); ${MINORITY} recorded ${lostByMinority.length} leases lost, the last valid until ${lostByMinority.length ? Math.max(...lostByMinority.map((e) => e.until)) - cutAt : '-'} ms after the cut`);
    const cutS = Math.floor((cutAt - startTs) / 1000);
    console.log(`      acks per second from 2 s before the cut: ${load.stats.perSecond.slice(Math.max(0, cutS - 2), cutS + 40).map((n) => n ?? 0).join(' ')}`);
    console.log(`      acked during the partition: ${Math.round(ackedDuring)}/s; after the heal ${MINORITY} held shards again ${back.length > 0 ? `${backS.toFixed(1)} s later (${back.length})` : 'not within 120 s'}`);
    console.log(`      acknowledged ${report.acked}, stored (distinct) ${report.stored}, lost ${report.lost}; the fault's incidents over all stores: ${[...incidentIds].join(', ')}; longest ack gap ${load.stats.longestGapMs} ms, retried requests ${load.stats.failures}`);

    for (const [node, c] of stores) for (const i of c.incidents.filter((x) => x.tenant === faulty.id)) console.log(`      ${node}: ${i.id} opened ${i.openedAt - cutAt} ms after the cut, ${i.alerts} alerts, ${i.status}`);
    if (process.env.VIGIL_TEST_NATS_LOGS) for (const s of nats.servers) console.log(`      ${s.name} log: ${s.log}`);
    assert.deepEqual(majority.filter((r) => r.node === MINORITY), []);
    // a lease the bucket named the minority as holder of at the cut, but which it never took (its
    // create was not yet confirmed, TAKE_CONFIRM_MS, when the cut came): nothing to give up
    const tookBeforeCut = (s: number): boolean => cluster.ownership().filter((e) => e.node === MINORITY && e.shard === s && e.at < cutAt).at(-1)?.event === 'acquired';
    for (const s of held) assert.ok(lostByMinority.some((e) => e.shard === s) || !tookBeforeCut(s), `${MINORITY} gave shard ${s} up`);
    assert.deepEqual(cluster.doubleOwned(), [], 'no shard had two owners');
    assert.ok(ackedDuring > 0, 'the majority kept ingesting');
    assert.equal(load.stats.refused, 0, 'no batch refused');
    assert.deepEqual(report.lostBySeries, {}, `every acknowledged sample is stored\n${explainLoss({ report, journal: load.journal, ownership: cluster.ownership(), nodes: cluster.nodes, zero: startTs, marks: { cut: cutAt, heal: healedAt } })}`);
    assert.deepEqual(report.doubled, [], 'no node stores a sample twice');
    assert.deepEqual(twice, [], 'no anomaly or alert stored twice by a node, no alert in two incidents');
  });
});
