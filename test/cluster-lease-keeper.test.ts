// The lease renewer thread (cluster/lease-keeper.ts) against a nats-server of the test's own:
// leases stay valid while the main thread is blocked for longer than a lease lasts (the main
// loop's own renewals could not run then: a CPU-starved node lost its shards that way), a
// lease taken over by another holder reads back as lost, and a main thread that stops ticking
// for longer than the stall bound has its leases lapse, so other nodes can take the shards;
// a round's renewals go out spread over the round, not in one burst.
import { strict as assert } from 'node:assert';
import { ClusterLink, isValid, LeaseKeeper, type Lease } from '../cluster/index.ts';
import { startNatsServer, type NatsServer } from './support/nats-server.ts';

const NAME = 'lkeep';
const TTL_MS = 3_000;
const MARGIN_MS = 500;

/** Holds the main thread (no timer, no I/O) for `ms`, as a long run of batches would. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* busy */ }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster lease keeper: renewals on a thread of their own (real nats-server)', function () {
  this.timeout(60_000);
  let nats: NatsServer;
  let link: ClusterLink;

  before(async () => {
    nats = await startNatsServer();
    link = await ClusterLink.open({ servers: nats.url, name: NAME, deadAfterMs: TTL_MS, leaseTtlMs: TTL_MS, replicas: 1 });
  });

  after(async () => {
    await link?.close();
    await nats?.stop();
  });

  it('keeps a lease valid through a 6 s block of the main thread, and reads a lease taken by another holder as lost', async () => {
    const keeper = await LeaseKeeper.start({ servers: nats.url, name: NAME, shards: 8, heartbeatMs: 500, ttlMs: TTL_MS, marginMs: MARGIN_MS });
    try {
      const lease = (await link.acquire(1, 'node-a', Date.now()))!;
      assert.ok(lease, 'the lease was free');
      keeper.keep(lease);
      await sleep(100); // the renewer has the lease
      block(6_000); // twice the TTL: with renewals on this loop the lease would have lapsed
      const { lease: now, lost } = keeper.latest(lease);
      assert.equal(lost, false);
      assert.ok(isValid(now, Date.now(), TTL_MS, MARGIN_MS), `renewed ${Date.now() - now.renewedAt} ms ago`);
      assert.ok(now.revision > lease.revision, 'the renewer moved the revision on');
      // nobody else can take it meanwhile
      assert.equal(await link.acquire(1, 'node-b', Date.now()), undefined);

      // another holder's write (as after a lapse): the next renewal is refused, read back as lost
      const other = (await link.acquire(2, 'node-a', Date.now()))!;
      keeper.keep(other);
      await sleep(100);
      await link.leasesKv.put('shard.2', new TextEncoder().encode(JSON.stringify({ node: 'node-b', token: 999 })));
      await sleep(1_500);
      assert.equal(keeper.latest(other).lost, true);
      assert.equal(keeper.latest(lease).lost, false, 'the other lease is still kept');
    } finally {
      await keeper.close();
    }
  });

  it('stops renewing when the main thread has not ticked for the stall bound: the lease lapses', async () => {
    const keeper = await LeaseKeeper.start({ servers: nats.url, name: NAME, shards: 8, heartbeatMs: 500, ttlMs: TTL_MS, marginMs: MARGIN_MS, stallMs: 1_000 });
    let lease: Lease | undefined;
    try {
      lease = (await link.acquire(3, 'node-a', Date.now()))!;
      keeper.keep(lease);
      await sleep(100);
      block(TTL_MS + 1_000); // longer than the stall bound and the TTL: the renewer gave up
      const { lease: last } = keeper.latest(lease);
      assert.ok(!isValid(last, Date.now(), TTL_MS, MARGIN_MS), 'the holder sees its lease ran out');
      // the server let the entry lapse: another node takes the shard (allow its expiry sweep a moment)
      let taken: Lease | undefined;
      for (let i = 0; i < 30 && !taken; i++) {
        taken = await link.acquire(3, 'node-b', Date.now());
        if (!taken) await sleep(100);
      }
      assert.ok(taken, 'another node took the lapsed lease');
      assert.ok(taken.token > lease.token, 'with a newer fencing token');
    } finally {
      await keeper.close();
    }
  });

  it('spreads a round\'s renewals over the round instead of sending them in one burst', async () => {
    const keeper = await LeaseKeeper.start({ servers: nats.url, name: NAME, shards: 64, heartbeatMs: 500, ttlMs: TTL_MS, marginMs: MARGIN_MS });
    const leases: Lease[] = [];
    try {
      for (let shard = 20; shard < 40; shard++) {
        const lease = (await link.acquire(shard, 'node-a', Date.now()))!;
        assert.ok(lease, `shard ${shard} was free`);
        keeper.keep(lease);
        leases.push(lease);
      }
      await sleep(1_200); // two rounds: every lease renewed by the renewer at least once
      const sent = leases.map((l) => keeper.latest(l)).map(({ lease, lost }, i) => {
        assert.equal(lost, false, `shard ${leases[i]!.shard} kept`);
        assert.ok(lease.revision > leases[i]!.revision, `shard ${leases[i]!.shard} renewed`);
        return lease.renewedAt;
      }).sort((a, b) => a - b);
      // renewals sent within 10 ms of each other count as one burst
      const bursts = sent.filter((t, i) => i === 0 || t - sent[i - 1]! > 10).length;
      assert.ok(bursts >= 5, `renewals went out in ${bursts} burst(s): ${sent.map((t) => t - sent[0]!).join(', ')} ms`);
    } finally {
      await keeper.close();
      for (const l of leases) await link.release(keeper.latest(l).lease).catch(() => undefined);
    }
  });
});
