// bench:cluster — ingest throughput through NATS JetStream for 1 and 3 nodes (issue 8), and
// the CPU it costs.
//
//   npm run bench:cluster -- [--samples N] [--nodes 1,3] [--rounds R] [--json]
//
// One nats-server of its own (JetStream, file store). Per phase (a node count; phases
// interleaved when --rounds > 1): a fresh cluster (its own name, so its own stream and
// buckets) of that many `vigil` node processes in cluster mode (256 shards), settled; then a
// fixed workload of --samples samples (default 1,000,000) as protobuf batches of 5,000
// (10 series x 500 samples) from 24 tenants, one request per tenant at a time, tenant i sent
// to node i mod n (a refused or failed request is sent again, same bytes, to the next node).
// Measured:
//   accepted_per_s   samples / time until every batch was answered 202 (in the JetStream log)
//   processed_per_s  samples / time until the nodes' actors took every one in
//                    (vigil_samples_ingested_total summed over the nodes, polled every 200 ms)
//   durable_s        until every shard's snapshot covers its log (stored, checkpointed; 5 s steps)
//   cpu_s_per_million_samples: the nodes' CPU (Linux /proc, user+system, all threads) from
//                    the first request to processed, per million samples, summed over the nodes
//                    (the cluster's cost); cpu_s_per_million_own_samples: each node's CPU per
//                    million samples it took in itself; nats-server's apart; idle_cpu_s_per_s:
//                    each node's CPU while idle (5 s before the load: heartbeats, renewals).
// The machine has 2 cores shared with other work: 3 nodes + NATS + this client compete for
// them, so 3 nodes cannot be 3x one; the CPU per million shows what a node costs.
// Last stdout line: JSON.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ClusterLink, ClusterView, liveNodes } from '../cluster/index.ts';
import { encodeMetricBatch, type SeriesInput } from '../protocols/index.ts';
import { startNatsServer } from '../test/support/nats-server.ts';
import { eventually } from '../test/support/node-process.ts';
import { caughtUp, loadTenants, SHARDS, VigilCluster } from '../test/support/vigil-cluster.ts';
import { round, scrapeIngested } from './ingest/client.ts';
import { cpuTimes } from './ingest/proc-cpu.ts';

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000000' },
    nodes: { type: 'string', default: '1,3' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});
const TOTAL = Number(args.samples);
const PHASES = args.nodes.split(',').map(Number);
const ROUNDS = Number(args.rounds);
const TENANTS = 24;
const SERIES = 10;
const PER_SERIES = 500;
const BATCH = SERIES * PER_SERIES;
const STEP_MS = 5;
/** CPU of the idle nodes is measured this long before the load (heartbeats, lease renewals, checkpoints) */
const IDLE_MS = 5_000;
/** progress: stdout, or stderr with --json (stdout's last line is the JSON) */
const log = (line: string): void => { (args.json ? process.stderr : process.stdout).write(`${line}\n`); };

/** Per tenant, its batches in order (distinct bytes: distinct batch ids, nothing deduplicated). */
function workload(tenants: string[], startTs: number): Uint8Array[][] {
  const batches = Math.ceil(TOTAL / BATCH);
  const out: Uint8Array[][] = tenants.map(() => []);
  for (let b = 0; b < batches; b++) {
    const t = b % tenants.length;
    const k = out[t]!.length;
    const series: SeriesInput[] = Array.from({ length: SERIES }, (_, m) => ({
      service: 'api', metric: `m${m}`,
      samples: Array.from({ length: PER_SERIES }, (_, i): [number, number] => {
        const n = k * PER_SERIES + i;
        return [startTs + n * STEP_MS, 100 + 10 * Math.sin(n / 40 + m) + ((n * 7919 + m) % 7) - 3];
      }),
    }));
    out[t]!.push(encodeMetricBatch(tenants[t]!, series));
  }
  return out;
}

async function send(urls: string[], first: number, key: string, body: Uint8Array): Promise<number> {
  let retries = 0;
  for (let attempt = 0; ; attempt++) {
    const url = urls[(first + attempt) % urls.length]!;
    try {
      const res = await fetch(`${url}/v1/metrics`, {
        method: 'POST', body, signal: AbortSignal.timeout(30_000),
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}` },
      });
      const text = await res.text();
      if (res.status === 202) return retries;
      if (res.status < 500 && res.status !== 429) throw new Error(`batch refused: ${res.status} ${text.slice(0, 200)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('batch refused')) throw err;
    }
    retries++;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The buckets of cluster `name` (as its nodes made them), for a view. */
async function bound(nc: Parameters<typeof ClusterLink.bind>[0], name: string): Promise<[ClusterLink['nodesKv'], ClusterLink['leasesKv']]> {
  const link = await ClusterLink.bind(nc, name);
  return [link.nodesKv, link.leasesKv];
}

async function cpuOf(pids: number[]): Promise<number[]> {
  return Promise.all(pids.map(async (pid) => (await cpuTimes(pid))?.process ?? NaN));
}

interface Phase {
  nodes: number;
  accepted_per_s: number;
  processed_per_s: number;
  accepted_s: number;
  processed_s: number;
  durable_s: number;
  retried_requests: number;
  node_cpu_s: number[];
  cpu_s_per_million_samples: number;
  node_samples: number[];
  cpu_s_per_million_own_samples: number[];
  idle_cpu_s_per_s: number[];
  nats_cpu_s_per_million_samples: number;
  load_avg_1m_start: number;
}

const nats = await startNatsServer();
const tenants = loadTenants(TENANTS);
const phases: Phase[] = [];
try {
  log(`nats-server ${nats.url}; ${TOTAL} samples per phase, batches of ${BATCH}, ${TENANTS} tenants; phases ${PHASES.join(', ')} node(s) x ${ROUNDS}`);
  let run = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of PHASES) {
      const name = `cbench${++run}`;
      const cluster = new VigilCluster(name, tenants);
      try {
        const ids = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
        for (const id of ids) await cluster.start(id, nats.url);
        // settled: every shard owned, every node some, no move for 3 s (read from the buckets' watches)
        const nc = await connect({ servers: nats.url });
        const view = new ClusterView(...await bound(nc, name), 3_000, () => undefined);
        try {
          await view.start();
          let last = '';
          let since = Date.now();
          await eventually(async () => {
            const now = Date.now();
            const owners = view.owners(now);
            const text = JSON.stringify([...owners].map(([s, o]) => [s, o.node, o.token]).sort((a, b) => Number(a[0]) - Number(b[0])));
            if (text !== last) [last, since] = [text, now];
            const holders = new Set([...owners.values()].map((o) => o.node));
            const placed = liveNodes(view.heartbeats(), now, 3_000).length === n && holders.size === n && owners.size === SHARDS;
            return placed && now - since >= 3_000 ? true : undefined;
          }, 240_000, 500);
        } finally {
          view.stop();
          await nc.close();
        }
        log(`${n} node(s) settled`);
        const urls = cluster.live().map((x) => x.url);
        const pids = cluster.live().map((x) => x.process.pid);
        const batches = workload(tenants.map((t) => t.id), Date.now() - 60_000);
        const samples = batches.reduce((a, b) => a + b.length, 0) * BATCH;
        const idle0 = await cpuOf(pids);
        await new Promise((r) => setTimeout(r, IDLE_MS));
        const idle = (await cpuOf(pids)).map((c, i) => (c - idle0[i]!) / (IDLE_MS / 1000));
        const load = loadavg()[0]!;
        const before = await cpuOf([...pids, nats.pid]);
        const t0 = performance.now();
        let retried = 0;
        let acceptedAt = 0;
        const sending = Promise.all(tenants.map(async (t, i) => {
          for (const body of batches[i]!) retried += await send(urls, i % urls.length, t.key, body);
        })).then(() => { acceptedAt = performance.now(); });
        const taken = eventually(async () => {
          const counts = (await Promise.all(urls.map((u) => scrapeIngested(u)))).map((c) => c ?? 0);
          return counts.reduce((a, c) => a + c, 0) >= samples ? counts : undefined;
        }, 900_000, 200);
        // a batch refused for good ends the phase at once (the count would never be reached)
        const perNode = await Promise.race([taken, sending.then(() => taken)]);
        const processedAt = performance.now();
        const after = await cpuOf([...pids, nats.pid]);
        await sending;
        await caughtUp(nats.url, name, 300_000);
        const durableAt = performance.now();
        const cpu = after.map((a, i) => a - before[i]!);
        const nodeCpu = cpu.slice(0, n);
        const millions = samples / 1e6;
        const p: Phase = {
          nodes: n,
          accepted_per_s: Math.round(samples / ((acceptedAt - t0) / 1000)),
          processed_per_s: Math.round(samples / ((processedAt - t0) / 1000)),
          accepted_s: round((acceptedAt - t0) / 1000),
          processed_s: round((processedAt - t0) / 1000),
          durable_s: round((durableAt - t0) / 1000),
          retried_requests: retried,
          node_cpu_s: nodeCpu.map((c) => round(c)),
          cpu_s_per_million_samples: round(nodeCpu.reduce((a, b) => a + b, 0) / millions),
          node_samples: perNode,
          cpu_s_per_million_own_samples: nodeCpu.map((c, i) => round(c / Math.max(1e-9, perNode[i]! / 1e6))),
          idle_cpu_s_per_s: idle.map((c) => round(c, 3)),
          nats_cpu_s_per_million_samples: round(cpu[n]! / millions),
          load_avg_1m_start: round(load),
        };
        phases.push(p);
        log(`${n} node(s): ${samples} samples accepted at ${p.accepted_per_s}/s (${p.accepted_s} s), processed at ${p.processed_per_s}/s (${p.processed_s} s), `
          + `durable after ${p.durable_s} s; node CPU ${p.cpu_s_per_million_samples} s per million (each node per million it took in: ${p.cpu_s_per_million_own_samples.join(', ')}; idle ${p.idle_cpu_s_per_s.join(', ')} CPU s/s), `
          + `nats-server ${p.nats_cpu_s_per_million_samples} s per million; load ${load.toFixed(1)} at the start`);
      } finally {
        await cluster.stopAll();
      }
    }
  }
  const best = (n: number, f: (p: Phase) => number): number => Math.max(...phases.filter((p) => p.nodes === n).map(f));
  const scaling = PHASES.includes(1) && PHASES.includes(3) ? round(best(3, (p) => p.processed_per_s) / best(1, (p) => p.processed_per_s)) : null;
  process.stdout.write(`${JSON.stringify({
    samples_per_phase: TOTAL, batch_samples: BATCH, tenants: TENANTS, shards: SHARDS, cores: cpus().length,
    processed_scaling_3_vs_1: scaling,
    phases,
    load_avg_1m_end: round(loadavg()[0]!),
  })}\n`);
} finally {
  await nats.stop();
}
process.exit(0);
