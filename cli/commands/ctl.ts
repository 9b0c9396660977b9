// `vigil ctl`: operate a running node through its admin API.
import { fetchTree, restartActor, type AdminTarget } from '../admin-client.ts';
import { parse, showHelp, usageError } from '../args.ts';
import { renderTree } from '../tree-table.ts';
import { VigilError } from '../../protocols/errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:7400';

export const CTL_HELP = `Usage: vigil ctl [--url URL] [--admin-key KEY] <command>

Operates a running node through its admin API.

Commands:
  tree [--json]          the supervision tree: path, kind, status, restarts, mailbox depth
  restart <actor-path>   restarts one actor and its subtree with fresh state
                         (e.g. /root/tenants/demo/db; paths as tree shows them)

Options:
  --url URL          the node (default ${DEFAULT_URL})
  --admin-key KEY    the admin key (default: VIGIL_ADMIN_API_KEY)
  -h, --help         this help

Exit status: 0 done; 2 bad usage, node unreachable or request refused (unknown path,
wrong key); 1 the node failed to carry out the request.
`;

const COMMON = { url: { type: 'string' }, 'admin-key': { type: 'string' } } as const;

export async function ctlCommand(argv: string[]): Promise<number> {
  // The subcommand is the first argument that is not a flag or a flag's value.
  const i = argv.findIndex((a, j) => !a.startsWith('-') && !['--url', '--admin-key'].includes(argv[j - 1] ?? ''));
  const sub = i < 0 ? undefined : argv[i];
  const rest = i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 1)];
  switch (sub) {
    case 'tree': return tree(rest);
    case 'restart': return restart(rest);
    case undefined: {
      const p = parse('vigil ctl', rest, COMMON);
      if (p.values.help) return showHelp(CTL_HELP);
      throw usageError('vigil ctl', 'missing command: tree or restart');
    }
    default: throw usageError('vigil ctl', `unknown command "${sub}" (known: tree, restart)`);
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
