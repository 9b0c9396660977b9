// `vigil ctl nodes | shards | drain | undrain | rebalance`: operate a cluster over NATS (its
// KV buckets and the nodes' `<name>.ctl.…` subjects), not through one node's HTTP API, so
// they work while any node, or the node an operator would have asked, is down.
import { ClusterControl, shardPositions, type NodeRow, type ShardRow } from '../../cluster/index.ts';
import { VigilError } from '../../protocols/errors.ts';
import { duration, parse, showHelp, str, usageError, type Parsed } from '../args.ts';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_CLUSTER_NAME = 'vigil';

export const CLUSTER_CTL_HELP = `Cluster commands (over NATS; a node in cluster mode answers them):
  nodes [--json]         membership: node id, address, zone, capacity (0: a gateway;
                         "dedicated": kept for large tenants), shards owned,
                         state (alive, draining, lapsed), degradation level (from L3 on
                         a node takes no shards while a healthier one is there) and the
                         last heartbeat's age
  shards [--node ID] [--json]
                         shard, owner, lease token (the fencing token: the revision of the
                         lease's create), the log position its newest snapshot covers and
                         the last position still in the log
  drain <node> [--timeout DURATION]
                         the node hands every shard off and takes none; waits until it
                         holds none (default 60s); exit 1 if some are left
  undrain <node>         lets a drained node take shards again
  rebalance [--wait DURATION]
                         every live node runs a placement round now (default wait 10s);
                         exit 1 if a live node did not answer within the wait

Cluster options:
  --nats URL         NATS server(s), comma-separated (VIGIL_NATS_URL; default ${DEFAULT_NATS_URL})
  --cluster NAME     the cluster's name (VIGIL_CLUSTER_NAME; default ${DEFAULT_CLUSTER_NAME})
  --json             JSON instead of a table
`;

export const CLUSTER_FLAGS_WITH_VALUE = ['--nats', '--cluster', '--node', '--timeout', '--wait'];
const CLUSTER = { nats: { type: 'string' }, cluster: { type: 'string' }, json: { type: 'boolean' } } as const;

function control(command: string, p: Parsed): Promise<ClusterControl> {
  return ClusterControl.open(target(command, p));
}

function target(command: string, p: Parsed): { servers: string; name: string } {
  const servers = str(p, 'nats') ?? nonEmpty(process.env.VIGIL_NATS_URL) ?? DEFAULT_NATS_URL;
  for (const s of servers.split(',')) {
    if (!/^(nats|tls|ws|wss):\/\/[^/\s]+$|^[^:/\s]+:\d+$/.test(s.trim())) throw usageError(command, `--nats must be nats://HOST:PORT (comma-separated for several; got "${s.trim()}")`);
  }
  const name = str(p, 'cluster') ?? nonEmpty(process.env.VIGIL_CLUSTER_NAME) ?? DEFAULT_CLUSTER_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw usageError(command, `--cluster must be letters, digits, - or _ (got "${name}")`);
  return { servers, name };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Reads of the buckets should take well under a second; this bounds a NATS that stalls. */
const READ_LIMIT_MS = 30_000;

/**
 * Runs `work` on a connection to the cluster, at most `limitMs` (then TIMEOUT: the command
 * exits, main.ts does not wait for what is still pending); a failure's one line names the command.
 */
async function using<T>(command: string, p: Parsed, work: (c: ClusterControl) => Promise<T>, limitMs = READ_LIMIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VigilError('TIMEOUT', `no answer from the cluster within ${Math.round(limitMs / 1000)} s (NATS at ${target(command, p).servers})`)), limitMs);
  });
  const run = async (): Promise<T> => {
    const c = await control(command, p);
    try {
      return await work(c);
    } finally {
      await c.close();
    }
  };
  try {
    return await Promise.race([run(), limit]);
  } catch (err) {
    if (VigilError.is(err) && !err.message.startsWith(command)) throw new VigilError(err.code, `${command}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function print(p: Parsed, json: unknown, text: () => string): void {
  process.stdout.write(p.values.json ? `${JSON.stringify(json, null, 2)}\n` : text());
}

export async function nodesCommand(argv: string[], help: string): Promise<number> {
  const cmd = 'vigil ctl nodes';
  const p = parse(cmd, argv, CLUSTER);
  if (p.values.help) return showHelp(help);
  const now = Date.now();
  const nodes = await using(cmd, p, (c) => c.nodes(now));
  print(p, { nodes }, () => renderNodes(nodes));
  return 0;
}

export async function shardsCommand(argv: string[], help: string): Promise<number> {
  const cmd = 'vigil ctl shards';
  const p = parse(cmd, argv, { ...CLUSTER, node: { type: 'string' } });
  if (p.values.help) return showHelp(help);
  const node = str(p, 'node');
  if (node !== undefined && node.trim() === '') throw usageError(cmd, '--node needs a node id (as vigil ctl nodes shows them)');
  const { servers, name } = target(cmd, p);
  const rows = await using(cmd, p, async (c) => {
    const shards = await c.shards(node);
    const at = await shardPositions(servers, name, shards.map((s) => s.shard));
    return shards.map((s) => ({ ...s, position: at.get(s.shard)?.snapshot ?? 0, logEnd: at.get(s.shard)?.logEnd ?? 0 }));
  });
  print(p, { shards: rows }, () => renderShards(rows, node));
  return 0;
}

export async function drainCommand(argv: string[], help: string): Promise<number> {
  const cmd = 'vigil ctl drain';
  const p = parse(cmd, argv, { ...CLUSTER, timeout: { type: 'string' } }, 1);
  if (p.values.help) return showHelp(help);
  const node = p.positionals[0];
  if (!node) throw usageError(cmd, 'missing the node id (as vigil ctl nodes shows them)');
  const timeoutMs = duration(cmd, p, 'timeout') ?? 60_000;
  if (timeoutMs < 1_000 || timeoutMs > 600_000) throw usageError(cmd, '--timeout must be between 1s and 10m');
  const started = Date.now();
  const r = await using(cmd, p, (c) => c.drain(node, timeoutMs), timeoutMs + READ_LIMIT_MS);
  const tookS = (Date.now() - started) / 1000;
  print(p, { ...r, tookS }, () => (r.remaining === 0
    ? `drained ${r.node}: it holds no shard (${tookS.toFixed(1)} s); it takes none until vigil ctl undrain ${r.node}\n`
    : `drain of ${r.node} incomplete: it still holds ${r.remaining} shard(s) after ${tookS.toFixed(1)} s (no other node takes shards?)\n`));
  return r.remaining === 0 ? 0 : 1;
}

export async function undrainCommand(argv: string[], help: string): Promise<number> {
  const cmd = 'vigil ctl undrain';
  const p = parse(cmd, argv, CLUSTER, 1);
  if (p.values.help) return showHelp(help);
  const node = p.positionals[0];
  if (!node) throw usageError(cmd, 'missing the node id (as vigil ctl nodes shows them)');
  const r = await using(cmd, p, (c) => c.undrain(node));
  print(p, r, () => `${r.node} takes shards again\n`);
  return 0;
}

export async function rebalanceCommand(argv: string[], help: string): Promise<number> {
  const cmd = 'vigil ctl rebalance';
  const p = parse(cmd, argv, { ...CLUSTER, wait: { type: 'string' } });
  if (p.values.help) return showHelp(help);
  const waitMs = duration(cmd, p, 'wait') ?? 10_000;
  if (waitMs < 100 || waitMs > 600_000) throw usageError(cmd, '--wait must be between 100ms and 10m');
  const { answers, silent } = await using(cmd, p, async (c) => {
    const answers = await c.rebalance(waitMs);
    const live = (await c.nodes()).filter((n) => n.alive).map((n) => n.id);
    return { answers, silent: live.filter((id) => !answers.some((a) => a.node === id)) };
  }, waitMs + READ_LIMIT_MS);
  print(p, { nodes: answers, silent }, () => `${table([['NODE', 'SHARDS HELD'], ...answers.map((a) => [a.node, String(a.held)])], [1])}\n`
    + `${answers.length} node(s) ran a placement round (each round moves at most cluster.moveFraction of the shards; the rest follow)\n`
    + (silent.length > 0 ? `no answer within ${waitMs / 1000} s from: ${silent.join(', ')} (a round still under way, or a stuck node)\n` : ''));
  return silent.length === 0 ? 0 : 1;
}

/** `vigil ctl nodes` as text. */
export function renderNodes(nodes: readonly NodeRow[]): string {
  if (nodes.length === 0) return 'no node has a heartbeat in this cluster\n';
  const rows = nodes.map((n) => [
    n.id, n.address, n.zone === '' ? '-' : n.zone, n.capacity === 0 ? '0 (gateway)' : n.dedicated ? `${n.capacity} (dedicated)` : String(n.capacity), String(n.shards),
    !n.alive ? 'lapsed' : n.draining ? 'draining' : 'alive', `L${n.level}`, `${(n.lastSeenMs / 1000).toFixed(1)}s ago`,
  ]);
  const total = nodes.reduce((a, n) => a + n.shards, 0);
  return `${table([['NODE', 'ADDRESS', 'ZONE', 'CAPACITY', 'SHARDS', 'STATE', 'LEVEL', 'HEARTBEAT'], ...rows], [3, 4])}\n${nodes.filter((n) => n.alive).length} alive, ${total} shards leased\n`;
}

/** `vigil ctl shards` as text. */
export function renderShards(rows: ReadonlyArray<ShardRow & { position: number; logEnd: number }>, node?: string): string {
  if (rows.length === 0) return node === undefined ? 'no shard has a lease in this cluster\n' : `${node} holds no shard\n`;
  const body = rows.map((r) => [String(r.shard), r.node, String(r.token), String(r.position), r.logEnd === 0 ? '-' : String(r.logEnd)]);
  return `${table([['SHARD', 'OWNER', 'TOKEN', 'POSITION', 'LOG END'], ...body], [0, 2, 3, 4])}\n${rows.length} shard(s)${node === undefined ? '' : ` on ${node}`}\n`;
}

/** Columns padded to their widest cell; the columns in `right` (numbers) right-aligned. */
function table(rows: string[][], right: number[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
