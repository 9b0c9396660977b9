// Vigil on a 3-server NATS cluster (servers of the test's own, routed to each other; the ingest
// stream and the KV buckets with replicas = 3). One nats-server is killed (-9) under a steady
// load: Vigil keeps ingesting (clients that were on it reconnect to the others), every
// acknowledged sample is stored, no shard ever had two owners. The longest time the load went
// without any acknowledgement is printed: that is the gap a client saw.
import { strict as assert } from 'node:assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ClusterControl } from '../cluster/index.ts';
import { startNatsCluster, type NatsCluster } from './support/nats-cluster.ts';
import { eventually } from './support/node-process.ts';
import { SteadyLoad } from './support/cluster-load.ts';
import { caughtUp, loadTenants, lossReport, SHARDS, VigilCluster } from './support/vigil-cluster.ts';
import { explainLoss } from './support/loss-detail.ts';

const NAME = 'ncl';
const STREAM = 'NCL_INGEST';
const RATE = Number(process.env.VIGIL_CLUSTER_TEST_RATE ?? 10_000);
const METRICS = 4;
const TENANTS = Math.max(3, Math.round(RATE / 200 / METRICS));

describe('cluster on a 3-server NATS cluster (replicas = 3): one nats-server killed under load (multi-process)', function () {
  this.timeout(600_000);
  const tenants = loadTenants(TENANTS);
  const cluster = new VigilCluster(NAME, tenants, (c) => { c.cluster.replicas = 3; }, { trace: true });
  let nats: NatsCluster;
  let control: ClusterControl;
  let load: SteadyLoad | undefined;

  before(async () => {
    nats = await startNatsCluster(3);
    // each node starts on a server of its own (the client goes to the others if it is lost)
    for (let i = 0; i < 3; i++) {
      const urls = [0, 1, 2].map((k) => nats.servers[(i + k) % 3]!.url).join(',');
      await cluster.start(`node-${i + 1}`, urls);
    }
    control = await ClusterControl.open({ servers: nats.urls, name: NAME });
    await eventually(async () => {
      const rows = await control.shards();
      return rows.length === SHARDS && new Set(rows.map((r) => r.node)).size === 3 ? rows : undefined;
    }, 120_000, 500);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(cluster.logs(40), `\n      all node logs: ${cluster.saveLogs()}`);
  });

  after(async () => {
    await load?.stop(1_000);
    await control?.close();
    await cluster.stopAll();
    await nats?.stop();
  });

  it('keeps ingesting with no acknowledged sample lost and no shard with two owners; prints the longest gap', async () => {
    const nc = await connect({ servers: nats.urls.split(',') });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM);
    assert.equal(info.config.num_replicas, 3, 'the ingest stream has 3 replicas');
    const leader = info.cluster?.leader;
    await nc.close();

    const startTs = Date.now();
    load = new SteadyLoad({ tenants, metrics: METRICS, rate: RATE, startTs, targets: () => cluster.live().map((n) => n.url) });
    load.start();
    await new Promise((r) => setTimeout(r, 15_000));
    const gapBefore = load.stats.longestGapMs;
    const steady = load.rateBetween(3, Math.floor(load.elapsedS()));
    // the ingest stream's leader goes: a new one must be elected before appends are acknowledged again
    const victim = nats.servers.find((s) => s.name === leader) ?? nats.servers[0]!;
    const killedAt = Date.now();
    const killedS = Math.floor(load.elapsedS());
    victim.kill();
    await new Promise((r) => setTimeout(r, 20_000));
    const ackedAfter = load.rateBetween(killedS + 10, Math.floor(load.elapsedS()));
    const drained = await load.stop(120_000);
    assert.ok(drained, `the load could not get every sample acknowledged: ${load.errors.slice(-3).join(' | ')}`);
    const urls = nats.servers.filter((s) => s !== victim).map((s) => s.url).join(',');
    await caughtUp(urls, NAME);
    await cluster.stopAll();
    const stores = await cluster.census();
    const report = lossReport(load.acked(), startTs, stores.values());
    const lost = cluster.ownership().filter((e) => e.event === 'lost' && e.at >= killedAt);

    console.log(`      load: ${TENANTS} tenants x ${METRICS} series at ${RATE}/s (steady ${Math.round(steady)} acked/s); killed nats-server ${victim.name} (the ingest stream's leader)`);
    console.log(`      longest gap in acknowledged ingest: ${load.stats.longestGapMs} ms from ${load.stats.longestGapFrom - killedAt} ms after the kill (before the kill: ${gapBefore} ms); ${Math.round(ackedAfter)} acked/s from 10 s after it; requests retried: ${load.stats.failures}`);
    console.log(`      leases lost after the kill: ${lost.length}; acknowledged ${report.acked}, stored (distinct) ${report.stored}, lost ${report.lost}`);

    assert.ok(ackedAfter > 0, 'ingest goes on after the kill');
    assert.equal(load.stats.refused, 0, 'no batch refused');
    assert.deepEqual(report.lostBySeries, {}, `every acknowledged sample is stored\n${explainLoss({ report, journal: load.journal, ownership: cluster.ownership(), nodes: cluster.nodes, zero: startTs, marks: { 'server killed': killedAt } })}`);
    assert.deepEqual(report.doubled, [], 'no node stores a sample twice');
    assert.deepEqual(cluster.doubleOwned(), [], 'no shard had two owners');
  });
});
