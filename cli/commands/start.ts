// `vigil start`: one node on this machine, configured from file, environment and flags;
// runs until SIGINT/SIGTERM, then stops cleanly (a second signal exits at once).
import { loadConfig } from '../../cluster/config-load.ts';
import { int, parse, showHelp, str } from '../args.ts';
import { createLogger } from '../log.ts';
import { untilSignal } from '../signals.ts';

export const START_HELP = `Usage: vigil start [options]

Starts a Vigil node: the actor tree, the HTTP/WebSocket API (default http://127.0.0.1:7400).
Configuration: defaults < YAML file < VIGIL_* environment < these flags.

Options:
  --config FILE      YAML configuration (also VIGIL_CONFIG; example: config/vigil.example.yaml)
  --port N           HTTP port, 0 for any free one (VIGIL_PORT; default 7400)
  --host ADDR        address to listen on (VIGIL_HOST; default 127.0.0.1)
  --data DIR         data folder (VIGIL_DATA; default .vigil-data)
  --node-id ID       this node's id (VIGIL_NODE_ID; default node-1)
  --log-level LEVEL  trace|debug|info|warn|error|fatal|silent (VIGIL_LOG_LEVEL; default info)
  -h, --help         this help

Environment: VIGIL_DEMO_API_KEY=<key> adds the tenant "demo" with that key;
VIGIL_ADMIN_API_KEY=<key> sets the admin key (for vigil ctl).
Logs: JSON lines on stdout (readable when stdout is a terminal). Stop with Ctrl-C or SIGTERM.
Run it as \`node --max-semi-space-size=64 cli/bin/vigil.js start\` (what npm start does): a
larger young generation shortens the event loop's pauses under load (node/runtime-flags.ts).
`;

export async function startCommand(argv: string[]): Promise<number> {
  const p = parse('vigil start', argv, {
    config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
    data: { type: 'string' }, 'node-id': { type: 'string' }, 'log-level': { type: 'string' },
  });
  if (p.values.help) return showHelp(START_HELP);
  int('vigil start', p, 'port', 0, 65535); // a malformed port is a usage error before anything starts
  const config = loadConfig({
    file: str(p, 'config'),
    flags: { port: str(p, 'port'), host: str(p, 'host'), data: str(p, 'data'), nodeId: str(p, 'node-id'), logLevel: str(p, 'log-level') },
  });
  const logger = createLogger({ level: config.log.level, node: config.node.id });
  if (config.tenants.length === 0 && config.tenancy.file === undefined) logger.warn('no tenants configured: set VIGIL_DEMO_API_KEY, add tenants to the config file or name a tenants file (tenancy.file)');
  const { startNode, missingV8Flags } = await import('../../node/index.ts'); // after --help and config checks: loading the node takes a while
  const gateway = config.cluster.enabled && config.cluster.capacity === 0; // owns no shard: only answers clients
  const missing = missingV8Flags(process.execArgv, process.env.NODE_OPTIONS ?? '', gateway ? 'gateway' : 'processing');
  if (missing.length > 0) logger.info({ missing }, 'node started without the V8 flags it is tuned for (npm start passes them; see node/runtime-flags.ts)');
  const node = await startNode(config, { logger });
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await node.stop();
  logger.info('stopped');
  logger.flush();
  return 0;
}
