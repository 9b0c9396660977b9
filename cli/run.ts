// The `vigil` command's dispatcher: picks the subcommand, runs it, and turns any error into
// one line on stderr with exit status 2 (1 when a node failed to do what it was asked).
import { readFileSync } from 'node:fs';
import { VigilError } from '../protocols/errors.ts';
import { showHelp, usageError } from './args.ts';

export const MAIN_HELP = `Usage: vigil <command> [options]

Vigil: an AIOps engine on the actor model. It takes metrics from many tenants, finds
anomalies as they stream in, groups them into incidents and keeps running while its own
parts fail.

Commands:
  start              start a node (vigil start --help)
  demo               start a node fed by a simulated web shop with one fault
  ctl tree           show a running node's supervision tree
  ctl restart PATH   restart one actor of a running node
  detect             run a detector over a CSV series (vigil detect --help)
  tail               print a tenant's live anomalies, alerts and incidents (vigil tail --help)
  key hash KEY       print the sha256 hash of an API key, for the config file
  config check       load the configuration as start would and print it (or the error)
  rca-eval           rank root causes on a PetShop folder, print top-1/top-3 recall
  backup             back up, list or restore a stopped node's data (vigil backup --help)
  cluster up         a local cluster: nats-server + N nodes (vigil cluster up --help)
  ctl nodes|shards|drain|rebalance
                     operate a cluster over NATS (vigil ctl --help)

Options:
  -h, --help         help (also after any command)
  -v, --version      the version

Errors print one line on stderr and exit with status 2 (1: the node failed).
`;

type Command = (argv: string[]) => Promise<number> | number;

// Loaded on use: `vigil ctl` or `--help` need not load the node (fastify, tfjs, ...).
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.ts')).startCommand,
  demo: async () => (await import('./commands/demo.ts')).demoCommand,
  ctl: async () => (await import('./commands/ctl.ts')).ctlCommand,
  detect: async () => (await import('./detect.ts')).detectCommand,
  tail: async () => (await import('./commands/tail.ts')).tailCommand,
  key: async () => (await import('./commands/key.ts')).keyCommand,
  config: async () => (await import('./commands/config.ts')).configCommand,
  'rca-eval': async () => (await import('./commands/rca-eval.ts')).rcaEvalCommand,
  backup: async () => (await import('./commands/backup.ts')).backupCommand,
  cluster: async () => (await import('./commands/cluster.ts')).clusterCommand,
};

export async function runCli(argv: string[]): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) throw usageError('vigil', 'missing command');
    if (first === '--help' || first === '-h' || first === 'help') return showHelp(MAIN_HELP);
    if (first === '--version' || first === '-v') {
      process.stdout.write(`vigil ${version()}\n`);
      return 0;
    }
    const load = COMMANDS[first];
    if (!load) {
      throw usageError('vigil', first.startsWith('-') ? `unknown option ${first}` : `unknown command "${first}" (known: ${Object.keys(COMMANDS).join(', ')})`);
    }
    const command = await load();
    return await command(rest);
  } catch (err) {
    process.stderr.write(`${oneLine(err)}\n`);
    return VigilError.is(err, 'INTERNAL') ? 1 : 2;
  }
}

function oneLine(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') return `vigil: ${e.address ?? 'the address'}:${e.port ?? '?'} is already in use (another node?); choose another --port`;
  if (e?.code === 'EADDRNOTAVAIL') return `vigil: cannot listen on ${e.address ?? 'that address'} (not an address of this machine); check --host`;
  const text = VigilError.is(err) ? err.message : `vigil: ${err instanceof Error ? err.message : String(err)}`;
  return text.replace(/\s*\n\s*/g, ' ');
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
