// `vigil cluster up --nodes 2` as a real process (with a gateway and a node kept for large
// tenants): it starts a nats-server and two nodes in cluster mode (each in a process group of its own, in its session), prints where each listens (and its pid), the nodes answer and hold every
// shard between them; SIGINT stops everything: every child process is gone afterwards.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowedCpuList, cgroupPathIn, cpuControllerIn, parseCpuList } from '../supervisors/index.ts';
import { DEFAULT_CLUSTER_SHARDS } from '../cluster/index.ts';
import { freePort } from './support/local-servers.ts';
import { eventually } from './support/node-process.ts';
import { oneLineError, runVigil, spawnVigil, type Running } from './support/cli-process.ts';

const NAME = 'upt';

function listenable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port P such that P to P+3 are free now. */
async function fourFreePorts(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p < 65532 && await listenable(p + 1) && await listenable(p + 2) && await listenable(p + 3)) return p;
  }
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('cli: vigil cluster up (nats-server + nodes as real processes)', function () {
  this.timeout(300_000);
  let up: Running | undefined;
  const pids: number[] = [];

  after(async () => {
    await up?.stop('SIGKILL');
    for (const pid of pids) if (!gone(pid)) process.kill(pid, 'SIGKILL'); // only if the test failed half-way
  });

  it('starts NATS, 2 nodes, a gateway (the first CPU kept for it) and a node kept for large tenants; they answer, the two nodes hold all shards between them; SIGINT leaves no child process', async () => {
    const base = await fourFreePorts();
    const natsPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-up-'));
    up = spawnVigil(['cluster', 'up', '--nodes', '2', '--gateways', '1', '--dedicated', '1', '--gateway-cpu', '--base-port', String(base), '--nats-port', String(natsPort), '--dir', dir, '--cluster', NAME]);
    await up.waitFor((l) => l.startsWith(`cluster "${NAME}" up: 2 node(s) and 1 gateway(s) and 1 dedicated node(s)`), 240_000);

    const natsLine = up.lines.find((l) => l.startsWith('nats '));
    assert.ok(natsLine, up.lines.join('\n'));
    assert.match(natsLine, new RegExp(`^nats +nats://127\\.0\\.0\\.1:${natsPort} +pid \\d+ +JetStream store ${dir}/nats +log ${dir}/nats\\.log$`));
    pids.push(Number(/pid (\d+)/.exec(natsLine)![1]));
    const urls: string[] = [];
    for (const [i, id] of ['node-1', 'node-2', 'gateway-1', 'dedicated-1'].entries()) {
      const line = up.lines.find((l) => l.startsWith(`${id} `));
      assert.ok(line, up.lines.join('\n'));
      assert.match(line, new RegExp(`^${id} +http://127\\.0\\.0\\.1:${base + i} +pid \\d+ +data ${dir}/${id} +log ${dir}/${id}\\.log$`));
      pids.push(Number(/pid (\d+)/.exec(line)![1]));
      urls.push(`http://127.0.0.1:${base + i}`);
    }
    assert.equal(new Set(pids).size, 5);
    // beside a gateway the nodes that own shards yield the CPU (SCHED_IDLE, nice 19); the gateway does not
    const stat = (pid: number): string[] => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    assert.deepEqual(pids.slice(1).map((pid) => Number(stat(pid)[16])), [19, 19, 0, 19], 'nice');
    const SCHED_IDLE = 5; // the policy field (41st of /proc/<pid>/stat); 0 is SCHED_OTHER
    assert.deepEqual(pids.slice(1).map((pid) => Number(stat(pid)[38])), [SCHED_IDLE, SCHED_IDLE, 0, SCHED_IDLE], 'scheduling policy');
    // every child in a process group of its own (a terminal's Ctrl-C reaches only the launcher) but in
    // the launcher's session: with autogroups on, a session is a task group, and SCHED_IDLE yields
    // only within one (supervisors/cpu-priority)
    const launcher = stat(up.pid);
    assert.deepEqual(pids.map((pid) => [Number(stat(pid)[2]), Number(stat(pid)[3])]), pids.map((pid) => [pid, Number(launcher[3])]), 'process group (its own) and session (the launcher\'s)');
    // and, where a CPU cgroup can be written (root here), in a cgroup idle as a whole, which also
    // yields to the host's other sessions
    const controller = cpuControllerIn(readFileSync('/proc/self/mountinfo', 'utf8'));
    const cpuLine = up.lines.find((l) => l.startsWith('cpu '));
    assert.ok(cpuLine, up.lines.join('\n'));
    if (process.getuid?.() === 0 && controller) {
      assert.match(cpuLine, /^cpu +the nodes run at SCHED_IDLE in cgroup \S+\/vigil-idle \(cpu\.idle 1\)/);
      const group = (pid: number): string | undefined => cgroupPathIn(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), controller);
      const mine = group(process.pid)!;
      assert.deepEqual(pids.slice(1).map(group), [1, 2, 3, 4].map((i) => (i === 3 ? mine : join(mine, 'vigil-idle'))), 'cgroups: the nodes in the idle one, the gateway where it was started');
      const path = /in cgroup (\S+) /.exec(cpuLine)![1]!;
      assert.equal(readFileSync(join(path, 'cpu.idle'), 'utf8').trim(), '1');
    } else {
      assert.match(cpuLine, /^cpu +warning: the nodes could not join an idle CPU cgroup \(.+\)/);
    }
    // --gateway-cpu: and off the first CPU where there is more than one, so a gateway always finds one free of them
    const cpus = (pid: number | 'self'): number[] | undefined => parseCpuList(allowedCpuList(pid)!);
    const mine = cpus('self')!;
    const processing = mine.length > 1 ? mine.slice(1) : mine;
    assert.deepEqual(pids.slice(1).map(cpus), [processing, processing, mine, processing], 'CPU lists: the nodes off the first, the gateway on all');
    // and the gateway is told to keep its refusal process (started at its first refusal) off it too
    const environ = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.deepEqual(pids.slice(1).map((pid) => environ(pid).includes('VIGIL_REFUSAL_OFF_FIRST_CPU=1')), [false, false, true, false], 'http.refusalOffFirstCpu');
    // each with its role's V8 flags (node/runtime-flags.ts): a large young generation where shards are processed
    const argv = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.deepEqual(pids.slice(1).map((pid) => argv(pid).some((a) => a.startsWith('--max-semi-space-size='))), [true, true, false, true], 'V8 flags');
    for (const pid of pids) assert.ok(!gone(pid), `pid ${pid} runs`);

    for (const url of urls) {
      const r = await fetch(`${url}/status`);
      assert.equal(r.status, 200, `${url}/status`);
    }
    const ctl = ['--nats', `nats://127.0.0.1:${natsPort}`, '--cluster', NAME, '--json'];
    // the two nodes end up with every shard; a node kept for large tenants that had not heard
    // of them deadAfterMs after its start (a slow machine) may hold some for a moment
    // (placement.ts: when every live node is dedicated they take every shard), a gateway never
    const onGateway = new Set<number>();
    const held = await eventually(async () => {
      const r = await runVigil(['ctl', 'shards', ...ctl]);
      if (r.code !== 0) return undefined;
      const shards = (JSON.parse(r.stdout) as { shards: Array<{ shard: number; node: string }> }).shards;
      for (const s of shards) if (s.node === 'gateway-1') onGateway.add(s.shard);
      const nodes = new Set(shards.map((s) => s.node));
      const both = nodes.has('node-1') && nodes.has('node-2') && shards.every((s) => s.node === 'node-1' || s.node === 'node-2');
      return shards.length === DEFAULT_CLUSTER_SHARDS && both ? shards : undefined;
    }, 120_000, 1_000);
    assert.deepEqual(held.map((s) => s.shard), Array.from({ length: DEFAULT_CLUSTER_SHARDS }, (_, i) => i));
    assert.ok(held.every((s) => s.node === 'node-1' || s.node === 'node-2'));
    assert.deepEqual([...onGateway], [], 'shards the gateway held');
    const nodes = await runVigil(['ctl', 'nodes', ...ctl]);
    assert.deepEqual((JSON.parse(nodes.stdout) as { nodes: Array<{ id: string; address: string; capacity: number; dedicated: boolean; shards: number }> }).nodes
      .map((n) => [n.id, n.address.replace(/\/$/, ''), n.capacity, n.dedicated, n.id.startsWith('node-') ? 'some' : n.shards]),
    [['dedicated-1', urls[3], 1, true, 0], ['gateway-1', urls[2], 0, false, 0], ['node-1', urls[0], 1, false, 'some'], ['node-2', urls[1], 1, false, 'some']]);
    // without a large tenant the node kept for them is a spare: the text says what it is
    assert.match((await runVigil(['ctl', 'nodes', '--nats', `nats://127.0.0.1:${natsPort}`, '--cluster', NAME])).stdout, /^dedicated-1 .* 1 \(dedicated\) +0 +alive/m);

    const code = await up.stop('SIGINT');
    assert.equal(code, 0, up.stderr());
    assert.ok(up.lines.includes('stopped'), up.lines.join('\n'));
    for (const pid of pids) assert.ok(gone(pid), `pid ${pid} is gone`);
    assert.deepEqual(readdirSync(dir).sort(), ['dedicated-1', 'dedicated-1.log', 'gateway-1', 'gateway-1.log', 'nats', 'nats.log', 'node-1', 'node-1.log', 'node-2', 'node-2.log']);
  });

  it('refuses bad arguments and a taken port in one line, exit 2', async () => {
    oneLineError(await runVigil(['cluster']), /^vigil cluster: missing command: up/);
    oneLineError(await runVigil(['cluster', 'down']), /^vigil cluster: unknown command "down" \(known: up\)/);
    oneLineError(await runVigil(['cluster', 'up', '--nodes', '0']), /^vigil cluster up: --nodes must be an integer 1\.\.9 \(got "0"\)/);
    oneLineError(await runVigil(['cluster', 'up', '--gateways', '10']), /^vigil cluster up: --gateways must be an integer 0\.\.9 \(got "10"\)/);
    oneLineError(await runVigil(['cluster', 'up', '--dedicated', '10']), /^vigil cluster up: --dedicated must be an integer 0\.\.9 \(got "10"\)/);
    oneLineError(await runVigil(['cluster', 'up', '--gateway-cpu']), /^vigil cluster up: --gateway-cpu keeps the first CPU for gateways: give --gateways 1 or more/);
    oneLineError(await runVigil(['cluster', 'up', '--base-port', 'x']), /^vigil cluster up: --base-port must be an integer/);
    oneLineError(await runVigil(['cluster', 'up', '--base-port', '9000', '--nats-port', '9001']), /^vigil cluster up: --nats-port 9001 is one of the nodes' ports/);
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      oneLineError(await runVigil(['cluster', 'up', '--nodes', '1', '--base-port', String(port), '--dir', mkdtempSync(join(tmpdir(), 'vigil-up-'))]),
        new RegExp(`^vigil cluster up: port ${port} is in use`));
    } finally {
      taken.close();
    }
  });
});
