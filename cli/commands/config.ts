// `vigil config check`: loads the configuration exactly as `vigil start` would (file,
// environment, flags) and prints the result, so a mistake is found before a deploy.
import { stringify } from 'yaml';
import { loadConfig } from '../../cluster/config-load.ts';
import { parse, showHelp, str, usageError } from '../args.ts';

export const CONFIG_HELP = `Usage: vigil config check [--config FILE] [--port N] [--host ADDR] [--data DIR] [--node-id ID] [--log-level LEVEL]

Loads the configuration as vigil start would (defaults < file < VIGIL_* environment <
flags) and prints the result as YAML (keys appear only as hashes). An invalid setting
prints one line naming it, with exit status 2.
`;

export function configCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return showHelp(CONFIG_HELP);
  if (sub === undefined) throw usageError('vigil config', 'missing command: check');
  if (sub !== 'check') throw usageError('vigil config', `unknown command "${sub}" (known: check)`);
  const p = parse('vigil config check', rest, {
    config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
    data: { type: 'string' }, 'node-id': { type: 'string' }, 'log-level': { type: 'string' },
  });
  if (p.values.help) return showHelp(CONFIG_HELP);
  const config = loadConfig({
    file: str(p, 'config'),
    flags: { port: str(p, 'port'), host: str(p, 'host'), data: str(p, 'data'), nodeId: str(p, 'node-id'), logLevel: str(p, 'log-level') },
  });
  process.stdout.write(stringify(config));
  return 0;
}
