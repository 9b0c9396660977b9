// `vigil ctl`: operate a running node through its admin API.
import { call, fetchTree, restartActor, type AdminTarget } from '../admin-client.ts';
import { duration, int, parse, showHelp, usageError } from '../args.ts';
import type { NodeStatusView } from '../../api/engine.ts';
import { renderTree } from '../tree-table.ts';
import { VigilError } from '../../protocols/errors.ts';
import { CLUSTER_CTL_HELP, CLUSTER_FLAGS_WITH_VALUE, drainCommand, nodesCommand, rebalanceCommand, shardsCommand, undrainCommand } from './ctl-cluster.ts';

export const DEFAULT_URL = 'http://127.0.0.1:7400';

export const CTL_HELP = `Usage: vigil ctl <command> [options]

Operates a running node through its admin API, or a cluster over NATS.

Commands:
  tree [--json]          the supervision tree: path, kind, status, restarts, mailbox depth
  restart <actor-path>   restarts one actor and its subtree with fresh state
                         (e.g. /root/tenants/demo/db; paths as tree shows them)
  status [--json]        the degradation level (L0 full .. L4 emergency), the node's
                         breakers, the dependencies that are down, override and faults
  degrade --level N --for DURATION
                         holds the level at least at N (0..4 or L0..L4) for DURATION
                         (e.g. 10m); --level 0 drops the override
  breaker <name> open|close|disable
                         forces a node breaker open, closes it, or disables it
                         (names as status shows them: graph_db, ml_inference)

${CLUSTER_CTL_HELP}
Node options:
  --url URL          the node (default ${DEFAULT_URL})
  --admin-key KEY    the admin key (default: VIGIL_ADMIN_API_KEY)
  -h, --help         this help

Exit status: 0 done; 2 bad usage, node (or NATS, or the cluster) unreachable or request
refused (unknown path, wrong key, no such node); 1 the node failed to carry out the
request (a drain that left shards behind).
`;

const COMMON = { url: { type: 'string' }, 'admin-key': { type: 'string' } } as const;
const COMMANDS = 'tree, restart, status, degrade, breaker, nodes, shards, drain, undrain, rebalance';
const BREAKER_COMMANDS = ['open', 'close', 'disable'];

export async function ctlCommand(argv: string[]): Promise<number> {
  // The subcommand is the first argument that is not a flag or a flag's value.
  const i = argv.findIndex((a, j) => !a.startsWith('-') && !['--url', '--admin-key', ...CLUSTER_FLAGS_WITH_VALUE].includes(argv[j - 1] ?? ''));
  const sub = i < 0 ? undefined : argv[i];
  const rest = i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 1)];
  switch (sub) {
    case 'tree': return tree(rest);
    case 'restart': return restart(rest);
    case 'status': return status(rest);
    case 'degrade': return degrade(rest);
    case 'breaker': return breaker(rest);
    case 'nodes': return nodesCommand(rest, CTL_HELP);
    case 'shards': return shardsCommand(rest, CTL_HELP);
    case 'drain': return drainCommand(rest, CTL_HELP);
    case 'undrain': return undrainCommand(rest, CTL_HELP);
    case 'rebalance': return rebalanceCommand(rest, CTL_HELP);
    case undefined: {
      const p = parse('vigil ctl', rest, { ...COMMON, nats: { type: 'string' }, cluster: { type: 'string' }, json: { type: 'boolean' } });
      if (p.values.help) return showHelp(CTL_HELP);
      throw usageError('vigil ctl', `missing command: ${COMMANDS}`);
    }
    default: throw usageError('vigil ctl', `unknown command "${sub}" (known: ${COMMANDS})`);
  }
}

async function tree(argv: string[]): Promise<number> {
  const p = parse('vigil ctl tree', argv, { ...COMMON, json: { type: 'boolean' } });
  if (p.values.help) return showHelp(CTL_HELP);
  const root = await named('vigil ctl tree', fetchTree(target('vigil ctl tree', p.values)));
  process.stdout.write(p.values.json ? `${JSON.stringify(root, null, 2)}\n` : `${renderTree(root)}\n`);
  return 0;
}

async function restart(argv: string[]): Promise<number> {
  const p = parse('vigil ctl restart', argv, COMMON, 1);
  if (p.values.help) return showHelp(CTL_HELP);
  const path = p.positionals[0];
  if (!path) throw usageError('vigil ctl restart', 'missing the actor path (e.g. /root/tenants/demo/db)');
  await named('vigil ctl restart', restartActor(target('vigil ctl restart', p.values), path));
  process.stdout.write(`restarted ${path}\n`);
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const p = parse('vigil ctl status', argv, { ...COMMON, json: { type: 'boolean' } });
  if (p.values.help) return showHelp(CTL_HELP);
  const s = await named('vigil ctl status', call(target('vigil ctl status', p.values), 'GET', '/v1/status')) as NodeStatusView;
  process.stdout.write(p.values.json ? `${JSON.stringify(s, null, 2)}\n` : renderStatus(s));
  return 0;
}

async function degrade(argv: string[]): Promise<number> {
  const cmd = 'vigil ctl degrade';
  const p = parse(cmd, argv, { ...COMMON, level: { type: 'string' }, for: { type: 'string' } });
  if (p.values.help) return showHelp(CTL_HELP);
  if (typeof p.values.level === 'string') p.values.level = p.values.level.replace(/^L/i, '');
  const level = int(cmd, p, 'level', 0, 4);
  if (level === undefined) throw usageError(cmd, 'missing --level N (0..4)');
  const forMs = duration(cmd, p, 'for') ?? (level === 0 ? 1 : undefined);
  if (forMs === undefined) throw usageError(cmd, 'missing --for DURATION (e.g. 10m)');
  if (forMs < 1 || forMs > 86_400_000) throw usageError(cmd, '--for must be between 1ms and 24h');
  const s = await named(cmd, call(target(cmd, p.values), 'POST', '/v1/admin/degrade', { level, durationMs: forMs })) as NodeStatusView;
  process.stdout.write(level === 0 ? `override dropped: level L${s.level} (${s.levelName})\n`
    : `level held at least at L${level} until ${iso(s.override?.until)}: now L${s.level} (${s.levelName})\n`);
  return 0;
}

async function breaker(argv: string[]): Promise<number> {
  const cmd = 'vigil ctl breaker';
  const p = parse(cmd, argv, COMMON, 2);
  if (p.values.help) return showHelp(CTL_HELP);
  const [name, command] = p.positionals;
  if (!name) throw usageError(cmd, 'missing the breaker name (e.g. graph_db)');
  if (!command || !BREAKER_COMMANDS.includes(command)) throw usageError(cmd, `the command must be one of ${BREAKER_COMMANDS.join(', ')} (got "${command ?? ''}")`);
  const r = await named(cmd, call(target(cmd, p.values), 'POST', `/v1/admin/breakers/${encodeURIComponent(name)}`, { command })) as { state: string };
  process.stdout.write(`breaker ${name}: ${r.state}\n`);
  return 0;
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '?' : new Date(ms).toISOString();
}

/** The human view of GET /v1/status. */
export function renderStatus(s: NodeStatusView): string {
  const lines = [`level     L${s.level} ${s.levelName} (since ${iso(s.since)})`];
  if (s.override) lines.push(`override  at least L${s.override.level} until ${iso(s.override.until)}`);
  const down = Object.entries(s.dependencies ?? {}).filter(([, v]) => v === 'down').map(([k]) => k);
  lines.push(`down      ${down.length > 0 ? down.join(', ') : 'none'}`);
  const names = Object.keys(s.breakers);
  const width = Math.max(0, ...names.map((n) => n.length));
  lines.push('breakers');
  for (const n of names) lines.push(`  ${n.padEnd(width)}  ${s.breakers[n]}`);
  const faults = s.faults ?? [];
  lines.push(`faults    ${faults.length > 0 ? faults.map((f) => `${f.dependency} ${f.mode} until ${iso(f.until)}`).join('; ') : 'none'}`);
  return `${lines.join('\n')}\n`;
}

function target(command: string, values: Record<string, string | boolean | undefined>): AdminTarget {
  const url = typeof values.url === 'string' ? values.url : DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw usageError(command, `--url must be an http(s) URL (got "${url}")`);
  const key = typeof values['admin-key'] === 'string' ? values['admin-key'] : process.env.VIGIL_ADMIN_API_KEY;
  if (!key) throw usageError(command, 'no admin key: pass --admin-key or set VIGIL_ADMIN_API_KEY');
  return { url, adminKey: key };
}

/** Prefixes a failure's one line with the command that failed. */
async function named<T>(command: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (VigilError.is(err)) throw new VigilError(err.code, `${command}: ${err.message}`, { cause: err });
    throw err;
  }
}
